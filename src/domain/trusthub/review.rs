//! Submission and the simulated review of a bundle, persisted (the schedule is a column of the
//! bundle, so a review in flight survives a restart), with signed status callbacks.
//!
//! - A client submits with `Status=pending-review` (D1, D2), only from `draft` or
//!   `twilio-rejected` (60711 otherwise); the bundle is evaluated against its own policy first
//!   and the evaluation stored; a noncompliant bundle is refused, 400 20001 naming the failing
//!   requirements *(ours: what Twilio answers is unconfirmed)*. Any other `Status` is 400 20001,
//!   `Status` with other properties 400 22204 (Twilio's Regulatory code).
//! - Then the review *(ours: Twilio's takes hours)*: `pending-review` → `in-review` after
//!   `trusthub_review_start_ms`, then a decision after `trusthub_review_decision_ms`; with
//!   `trusthub_review = "manual"` nothing moves until an operator decides. The decision, first
//!   rule that matches: the bundle's FriendlyName holds `[reject]` (errors `[{"code": 18601}]`)
//!   or `[reject:18606]` / `[reject:18601,18606]` (any of 18601–18609, Twilio's Customer Profile
//!   codes, D8) → `twilio-rejected`; `[hold]` → stays `in-review`; otherwise `twilio-approved`
//!   with `valid_until` one year on (the spec's example). The operator call
//!   (`POST /_localtwilio/TrustHub/Bundles/{BU}/Review`) decides at once.
//! - A decision also sets the bundle's supporting documents `APPROVED` or `REJECTED` *(ours)*.
//! - Every server-side transition (`in-review`, `twilio-approved`, `twilio-rejected`) queues a
//!   status callback in its own transaction: a form POST to the bundle's `StatusCallback`
//!   signed with `X-Twilio-Signature`, sent after commit by the durable delivery worker.
//!   Twilio does not document its parameters (Q1); we send `AccountSid`, `BundleSid`,
//!   `PolicySid`, `Status`, and on rejection `FailureReason` and `ErrorCodes` (comma-separated)
//!   *(ours)*. No email is sent.

use std::time::Duration;

use tracing::{info, warn};

use super::{
    bundles::{
        self, APPROVED, Bundle, BundleKind, DRAFT, IN_REVIEW, PENDING_REVIEW, REJECTED,
        STATUS_FORBIDS_UPDATES,
    },
    evaluations::evaluate_and_record,
    policies,
};
use crate::{
    domain::{Core, auth::Principal, found_value, sid::BundleSid, time, webhooks::status_callback},
    error::{Error, Result},
    store::trusthub::bundles::{ReviewState, TrustTx},
};

/// How the simulated review runs (`trusthub_review*` in the configuration).
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// Nothing moves on its own; only the operator call decides.
    pub manual: bool,
    /// From `pending-review` to `in-review`.
    pub start_ms: i64,
    /// From `in-review` to the decision.
    pub decision_ms: i64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            manual: false,
            start_ms: 1000,
            decision_ms: 2000,
        }
    }
}

/// Twilio's 22204 "Bundle status and properties cannot be updated in the same request".
pub const STATUS_WITH_PROPERTIES: u32 = 22204;

/// How long an approval lasts: the spec's example has `valid_until` one year after approval.
const VALID_FOR_SECS: i64 = 365 * 24 * 3600;

/// The Customer Profile rejection codes (D8).
const REJECTION_CODES: std::ops::RangeInclusive<u32> = 18601..=18609;
const DEFAULT_REJECTION: u32 = 18601;

/// What a rejection code says (D8's titles), for `FailureReason`.
fn describe(code: u32) -> &'static str {
    match code {
        18601 => "The business name or website could not be verified",
        18602 => "The business registration ID could not be verified",
        18603 => "The business address could not be verified",
        18604 => "Authorized representative #1 could not be verified",
        18605 => "Authorized representative #2 could not be verified",
        18606 => "The email domain does not match the website domain",
        18607 | 18608 => "The profile copy failed",
        18609 => "The registration authority is not eligible",
        _ => "The profile was rejected",
    }
}

/// A decision on a review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    InReview,
    Approve,
    Reject(Vec<u32>),
    /// `[hold]`: stays `in-review` until an operator decides.
    Hold,
}

/// Rejection codes given to the operator call or in a `[reject:…]` marker: 18601–18609.
pub fn parse_codes(text: &str) -> Option<Vec<u32>> {
    let codes: Option<Vec<u32>> = text
        .split(',')
        .map(|c| {
            c.trim()
                .parse()
                .ok()
                .filter(|c| REJECTION_CODES.contains(c))
        })
        .collect();
    codes.filter(|c| !c.is_empty())
}

/// The decision the FriendlyName's markers ask for (see the module comment).
pub fn marked_decision(friendly_name: &str) -> Decision {
    let lower = friendly_name.to_ascii_lowercase();
    if let Some(start) = lower.find("[reject") {
        let rest = &lower[start + "[reject".len()..];
        if rest.starts_with(']') {
            return Decision::Reject(vec![DEFAULT_REJECTION]);
        }
        if let Some(codes) = rest
            .strip_prefix(':')
            .and_then(|r| r.split_once(']'))
            .and_then(|(codes, _)| parse_codes(codes))
        {
            return Decision::Reject(codes);
        }
    }
    if lower.contains("[hold]") {
        return Decision::Hold;
    }
    Decision::Approve
}

/// `Status` sent to an update: only `pending-review` (a submission) is a client's to set.
pub fn require_submission(status: &str, with_properties: bool) -> Result<()> {
    if with_properties {
        return Err(Error::invalid_code(
            STATUS_WITH_PROPERTIES,
            "Bundle status and properties cannot be updated in the same request",
        ));
    }
    if status != PENDING_REVIEW {
        return Err(Error::invalid(format!(
            "Invalid parameter Status: a client can only set pending-review (submit for review), not '{status}'"
        )));
    }
    Ok(())
}

/// Submits the caller's bundle (see the module comment).
pub async fn submit(
    core: &Core,
    principal: &Principal,
    kind: BundleKind,
    sid: &BundleSid,
) -> Result<Bundle> {
    let mut tx = core.store.trust_tx().await?;
    let bundle = bundles::fetch_in(&mut tx, principal, kind, sid).await?;
    if bundle.status != DRAFT && bundle.status != REJECTED {
        return Err(Error::invalid_code(
            STATUS_FORBIDS_UPDATES,
            format!(
                "Business status does not allow updates: this {} is {}; it can be submitted only from draft or twilio-rejected",
                kind.noun(),
                bundle.status
            ),
        ));
    }
    let policy = policies::fetch(core, &bundle.policy_sid).await?;
    let evaluation = evaluate_and_record(core, &mut tx, &bundle, &policy).await?;
    if !evaluation.is_compliant() {
        // The evaluation is kept, so the client can read what failed.
        tx.commit().await?;
        return Err(Error::invalid(format!(
            "Bundle is not compliant: {} (see Evaluation {})",
            evaluation.failing().join(", "),
            evaluation.sid
        )));
    }
    let settings = core.review;
    let due = (!settings.manual).then(|| time::now_ms() + settings.start_ms);
    let state = ReviewState {
        status: PENDING_REVIEW,
        valid_until: None,
        errors: None,
        review_due_at: due,
    };
    let row = tx
        .set_review_state(sid.as_str(), &state, time::now())
        .await?;
    let bundle: Bundle = found_value(row)?;
    tx.commit().await?;
    core.review_wake.notify_one();
    Ok(bundle)
}

/// Moves `bundle` to `decision`'s state in `tx`, queueing its status callback; true when a
/// callback was queued.
async fn apply(
    tx: &mut TrustTx,
    bundle: &Bundle,
    decision: &Decision,
    due: Option<i64>,
) -> Result<bool> {
    let now = time::now();
    let (status, valid_until, codes) = match decision {
        Decision::InReview | Decision::Hold => (IN_REVIEW, None, None),
        Decision::Approve => (APPROVED, Some(now + VALID_FOR_SECS), None),
        Decision::Reject(codes) => (REJECTED, None, Some(codes.clone())),
    };
    let errors = codes.as_ref().map(|codes| {
        serde_json::Value::Array(
            codes
                .iter()
                .map(|c| serde_json::json!({ "code": c }))
                .collect(),
        )
        .to_string()
    });
    let state = ReviewState {
        status,
        valid_until,
        errors: errors.as_deref(),
        review_due_at: due,
    };
    tx.set_review_state(bundle.sid.as_str(), &state, now)
        .await?;
    match status {
        APPROVED => {
            tx.set_assigned_documents_status(bundle.sid.as_str(), "APPROVED", now)
                .await?
        }
        REJECTED => {
            tx.set_assigned_documents_status(bundle.sid.as_str(), "REJECTED", now)
                .await?
        }
        _ => {}
    }
    info!(bundle = %bundle.sid, status, "TrustHub review moved");
    let Some(url) = &bundle.status_callback else {
        return Ok(false);
    };
    let mut params = vec![
        ("AccountSid", bundle.account_sid.to_string()),
        ("BundleSid", bundle.sid.to_string()),
        ("PolicySid", bundle.policy_sid.to_string()),
        ("Status", status.to_owned()),
    ];
    if let Some(codes) = &codes {
        let reasons: Vec<&str> = codes.iter().map(|c| describe(*c)).collect();
        params.push(("FailureReason", reasons.join("; ")));
        let codes: Vec<String> = codes.iter().map(u32::to_string).collect();
        params.push(("ErrorCodes", codes.join(",")));
    }
    let params: Vec<(String, String)> =
        params.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
    let delivery = status_callback(&bundle.account_sid, "trusthubBundleStatus", url, &params)?;
    tx.enqueue(&[delivery], time::now_ms()).await?;
    Ok(true)
}

/// The operator call: decides the caller's bundle under review at once.
pub async fn decide(
    core: &Core,
    principal: &Principal,
    sid: &BundleSid,
    decision: Decision,
) -> Result<Bundle> {
    let mut tx = core.store.trust_tx().await?;
    let bundle: Bundle = match tx.bundle_for_change(sid.as_str()).await? {
        Some(row) if row.account_sid == principal.account_sid.as_str() => Bundle::try_from(row)?,
        _ => return Err(Error::NotFound),
    };
    let allowed = match decision {
        Decision::InReview => bundle.status == PENDING_REVIEW,
        _ => bundle.status == PENDING_REVIEW || bundle.status == IN_REVIEW,
    };
    if !allowed {
        return Err(Error::invalid(format!(
            "Invalid parameter Decision: this bundle is {}; only a bundle under review (pending-review, or in-review for approve/reject) can be decided",
            bundle.status
        )));
    }
    let queued = apply(&mut tx, &bundle, &decision, None).await?;
    let row = tx.bundle(sid.as_str()).await?;
    tx.commit().await?;
    if queued {
        core.webhook_wake.notify_one();
    }
    found_value(row)
}

/// One step of a due review, in its own transaction.
async fn advance(core: &Core, sid: &str) -> Result<()> {
    let mut tx = core.store.trust_tx().await?;
    let Some(row) = tx.bundle_for_change(sid).await? else {
        return Ok(());
    };
    // Another instance (PostgreSQL) or the operator may have moved it since it was listed.
    if row.review_due_at.is_none_or(|due| due > time::now_ms()) {
        return Ok(());
    }
    let bundle = Bundle::try_from(row)?;
    let settings = core.review;
    let queued = match bundle.status.as_str() {
        PENDING_REVIEW => {
            let due = match marked_decision(&bundle.friendly_name) {
                Decision::Hold => None,
                _ => Some(time::now_ms() + settings.decision_ms),
            };
            apply(&mut tx, &bundle, &Decision::InReview, due).await?
        }
        IN_REVIEW => match marked_decision(&bundle.friendly_name) {
            Decision::Hold => {
                apply(&mut tx, &bundle, &Decision::Hold, None).await?;
                false
            }
            decision => apply(&mut tx, &bundle, &decision, None).await?,
        },
        // Nothing to move (the operator decided first): clear the schedule.
        _ => {
            let state = ReviewState {
                status: &bundle.status,
                valid_until: bundle.valid_until,
                errors: None,
                review_due_at: None,
            };
            let errors = bundle.errors.as_ref().map(|e| e.to_string());
            let state = ReviewState {
                errors: errors.as_deref(),
                ..state
            };
            tx.set_review_state(sid, &state, bundle.date_updated)
                .await?;
            false
        }
    };
    tx.commit().await?;
    if queued {
        core.webhook_wake.notify_one();
    }
    Ok(())
}

/// The review worker: moves every due review, then sleeps until the next one is due (at most
/// a second, and woken by submissions). Runs until aborted; an aborted step rolls back and runs
/// again after the restart.
pub async fn run(core: Core) {
    loop {
        let mut failed = false;
        match core.store.due_reviews(time::now_ms(), 100).await {
            Ok(due) => {
                for sid in due {
                    if let Err(e) = advance(&core, &sid).await {
                        warn!(bundle = %sid, error = %e, "TrustHub review step failed");
                        failed = true;
                    }
                }
            }
            Err(e) => {
                warn!(error = %e, "reading the TrustHub review schedule failed");
                failed = true;
            }
        }
        let floor = if failed { 500 } else { 1 };
        let wait_ms = match core.store.next_review_due().await {
            Ok(Some(at)) => (at - time::now_ms()).clamp(floor, 1000),
            _ => 1000,
        };
        tokio::select! {
            () = tokio::time::sleep(Duration::from_millis(wait_ms.unsigned_abs())) => {}
            () = core.review_wake.notified() => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_decide_the_outcome() {
        assert_eq!(marked_decision("Acme"), Decision::Approve);
        assert_eq!(
            marked_decision("Acme [reject]"),
            Decision::Reject(vec![18601])
        );
        assert_eq!(
            marked_decision("Acme [REJECT:18606,18603]"),
            Decision::Reject(vec![18606, 18603])
        );
        assert_eq!(marked_decision("Acme [hold]"), Decision::Hold);
        // A code outside 18601–18609 is no marker.
        assert_eq!(marked_decision("Acme [reject:20001]"), Decision::Approve);
    }
}
