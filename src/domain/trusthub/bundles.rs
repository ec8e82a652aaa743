//! Bundles: Customer Profiles (`trusthub.v1.customer_profile`) and Trust Products
//! (`trusthub.v1.trust_product`), both `BU`, one table (`kind` tells them apart; a SID of one
//! kind is 404 under the other's path). Create, fetch, list, edit, delete; submission and the
//! review are `review`'s.
//!
//! - `PolicySid` must be a policy of the catalog for this kind of bundle (400 20001 *(ours)*);
//!   the Primary Customer Profile policy is Console-only at Twilio (D1), so creating one is
//!   refused with the message third-party code quotes; an approved ISV primary profile comes
//!   from a `seed FILE` fixture.
//! - Edits (and assignment changes) only in `draft` or `twilio-rejected`: otherwise 400 60711
//!   "Business status does not allow updates" (Twilio's error page: "Once a Customer Profile is in
//!   review or approved, you cannot edit it").
//! - Delete: refused while a review runs (60711 *(ours)*) and while another bundle holds it
//!   (21644 *(ours)*, as an assigned end user).

use serde_json::Value;
use tracing::instrument;

use super::{
    end_users::{OBJECT_ASSIGNED, check_friendly_name},
    policies,
};
use crate::{
    domain::{
        Core,
        auth::Principal,
        check_chars, fetch_owned, found_value, list_owned,
        paging::{Page, PageRequest},
        read_back,
        sid::{AccountSid, BundleSid, PolicySid},
        stored_json, time,
        webhooks::check_url,
    },
    error::{Error, Result},
    store::{
        query::Owned,
        trusthub::bundles::{BundleEdit, BundleFilter, BundleRow, TrustTx},
    },
};

pub const DRAFT: &str = "draft";
pub const PENDING_REVIEW: &str = "pending-review";
pub const IN_REVIEW: &str = "in-review";
pub const REJECTED: &str = "twilio-rejected";
pub const APPROVED: &str = "twilio-approved";
/// The spec's status enum, in its order.
pub const STATUSES: &[&str] = &[DRAFT, PENDING_REVIEW, IN_REVIEW, REJECTED, APPROVED];

/// Twilio's 60711 "Business status does not allow updates".
pub const STATUS_FORBIDS_UPDATES: u32 = 60711;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BundleKind {
    CustomerProfile,
    TrustProduct,
}

impl BundleKind {
    /// As stored (and as policies name the bundles they are for).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CustomerProfile => "customer_profile",
            Self::TrustProduct => "trust_product",
        }
    }

    fn stored(raw: &str) -> Result<Self> {
        match raw {
            "customer_profile" => Ok(Self::CustomerProfile),
            "trust_product" => Ok(Self::TrustProduct),
            other => Err(Error::internal(anyhow::anyhow!(
                "stored bundle kind is unknown: {other:?}"
            ))),
        }
    }

    /// What messages call it.
    pub fn noun(self) -> &'static str {
        match self {
            Self::CustomerProfile => "Customer Profile",
            Self::TrustProduct => "Trust Product",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Bundle {
    pub sid: BundleSid,
    pub account_sid: AccountSid,
    pub kind: BundleKind,
    pub policy_sid: PolicySid,
    pub friendly_name: String,
    pub email: String,
    pub status_callback: Option<String>,
    pub status: String,
    pub valid_until: Option<i64>,
    /// `[{"code": N}, …]` after a rejection.
    pub errors: Option<Value>,
    pub date_created: i64,
    pub date_updated: i64,
}

read_back!(|row: BundleRow| -> Bundle {
    parsed: sid, account_sid, policy_sid;
    // An empty StatusCallback given to an edit clears it: stored as '', shown as null.
    computed: kind = BundleKind::stored(&row.kind)?,
        status_callback = row.status_callback.filter(|url| !url.is_empty()),
        errors = row
            .errors
            .as_deref()
            .map(|e| stored_json(e, "Bundle errors"))
            .transpose()?;
    copied: friendly_name, email, status, valid_until, date_created, date_updated;
});

impl Bundle {
    /// Edits are allowed in `draft` and `twilio-rejected` only: 60711 otherwise.
    pub fn require_editable(&self) -> Result<()> {
        if self.status == DRAFT || self.status == REJECTED {
            Ok(())
        } else {
            Err(Error::invalid_code(
                STATUS_FORBIDS_UPDATES,
                format!(
                    "Business status does not allow updates: this {} is {}; it can be changed only in draft or twilio-rejected",
                    self.kind.noun(),
                    self.status
                ),
            ))
        }
    }
}

/// What a create or edit gives.
#[derive(Debug, Default)]
pub struct BundleInput {
    pub friendly_name: Option<String>,
    pub email: Option<String>,
    pub status_callback: Option<String>,
}

/// Twilio documents no limits *(ours: 256 characters for the email, 2048 for the URL)*.
fn check_input(input: &BundleInput) -> Result<Option<String>> {
    check_friendly_name(input.friendly_name.as_deref())?;
    check_chars(input.email.as_deref(), "Email", 256)?;
    check_url(input.status_callback.clone(), "StatusCallback", None)
}

#[instrument(skip_all)]
pub async fn create(
    core: &Core,
    principal: &Principal,
    kind: BundleKind,
    policy_sid: &str,
    input: BundleInput,
) -> Result<Bundle> {
    let status_callback = check_input(&input)?;
    let policy = policies::require(core, policy_sid, "PolicySid").await?;
    if !policy.is_for(kind.as_str()) {
        return Err(Error::invalid(format!(
            "Invalid parameter PolicySid: {} ({}) is not a {} policy",
            policy.sid,
            policy.friendly_name,
            kind.noun()
        )));
    }
    if !policy.api_creatable {
        return Err(Error::invalid(
            "This operation is restricted via API for Primary Customer Profiles. Use Twilio Console instead.",
        ));
    }
    let now = time::now();
    let row = core
        .store
        .insert_bundle(&BundleRow {
            seq: 0,
            sid: BundleSid::new().to_string(),
            account_sid: principal.account_sid.to_string(),
            kind: kind.as_str().to_owned(),
            policy_sid: policy.sid.to_string(),
            friendly_name: input.friendly_name.unwrap_or_default(),
            email: input.email.unwrap_or_default(),
            status_callback,
            status: DRAFT.to_owned(),
            valid_until: None,
            errors: None,
            date_created: now,
            date_updated: now,
            review_due_at: None,
        })
        .await?;
    Bundle::try_from(row)
}

/// The caller's bundle of `kind`; 404 for another account's, or one of the other kind.
pub async fn fetch(
    core: &Core,
    principal: &Principal,
    kind: BundleKind,
    sid: &BundleSid,
) -> Result<Bundle> {
    let bundle: Bundle = found_value(
        core.store
            .fetch_owned::<BundleRow>(principal.account_sid.as_str(), sid.as_str())
            .await?,
    )?;
    if bundle.kind == kind {
        Ok(bundle)
    } else {
        Err(Error::NotFound)
    }
}

/// A row the caller's bundle holds (an assignment, an evaluation) by its SID; 404 when the
/// bundle is not the caller's (or of the other kind) or holds no such row.
pub async fn fetch_held<R: Owned, T: TryFrom<R, Error = Error>>(
    core: &Core,
    principal: &Principal,
    kind: BundleKind,
    bundle_sid: &BundleSid,
    sid: impl AsRef<str>,
) -> Result<T> {
    fetch(core, principal, kind, bundle_sid).await?;
    fetch_owned::<R, T>(core, bundle_sid, sid).await
}

/// A page of the rows the caller's bundle holds, in creation order.
pub async fn list_held<R: Owned, T: TryFrom<R, Error = Error>>(
    core: &Core,
    principal: &Principal,
    kind: BundleKind,
    bundle_sid: &BundleSid,
    request: PageRequest,
) -> Result<Page<T>> {
    fetch(core, principal, kind, bundle_sid).await?;
    list_owned::<R, T>(core, bundle_sid, request).await
}

/// [`fetch`] inside a change's transaction, locking the bundle until it ends.
pub async fn fetch_in(
    tx: &mut TrustTx,
    principal: &Principal,
    kind: BundleKind,
    sid: &BundleSid,
) -> Result<Bundle> {
    match tx.bundle_for_change(sid.as_str()).await? {
        Some(row) if row.account_sid == principal.account_sid.as_str() => {
            let bundle = Bundle::try_from(row)?;
            if bundle.kind == kind {
                Ok(bundle)
            } else {
                Err(Error::NotFound)
            }
        }
        _ => Err(Error::NotFound),
    }
}

/// The list filters, checked.
#[derive(Debug, Default)]
pub struct ListFilter {
    pub status: Option<String>,
    pub friendly_name: Option<String>,
    pub policy_sid: Option<String>,
}

pub async fn list(
    core: &Core,
    principal: &Principal,
    kind: BundleKind,
    filter: &ListFilter,
    request: PageRequest,
) -> Result<Page<Bundle>> {
    if let Some(status) = &filter.status
        && !STATUSES.contains(&status.as_str())
    {
        return Err(Error::invalid(format!(
            "Invalid parameter Status: must be one of {}",
            STATUSES.join(", ")
        )));
    }
    let rows = core
        .store
        .list_bundles(
            principal.account_sid.as_str(),
            kind.as_str(),
            &BundleFilter {
                status: filter.status.as_deref(),
                friendly_name: filter.friendly_name.as_deref(),
                policy_sid: filter.policy_sid.as_deref(),
            },
            request.keyset(),
        )
        .await?;
    Page::from_rows(request, rows, |r| r.seq).try_map(Bundle::try_from)
}

/// `FriendlyName`, `Email`, `StatusCallback` (an empty `StatusCallback` clears it).
#[instrument(skip_all)]
pub async fn edit(
    core: &Core,
    principal: &Principal,
    kind: BundleKind,
    sid: &BundleSid,
    input: BundleInput,
) -> Result<Bundle> {
    check_input(&input)?;
    let mut tx = core.store.trust_tx().await?;
    let bundle = fetch_in(&mut tx, principal, kind, sid).await?;
    bundle.require_editable()?;
    let status_callback = match input.status_callback.as_deref() {
        None => None,
        Some(given) => {
            Some(check_url(Some(given.to_owned()), "StatusCallback", None)?.unwrap_or_default())
        }
    };
    let edit = BundleEdit {
        friendly_name: input.friendly_name.as_deref().filter(|n| !n.is_empty()),
        email: input.email.as_deref().filter(|e| !e.is_empty()),
        status_callback: status_callback.as_deref(),
    };
    let row = tx.edit_bundle(sid.as_str(), &edit, time::now()).await?;
    let bundle: Bundle = found_value(row)?;
    tx.commit().await?;
    Ok(bundle)
}

#[instrument(skip_all)]
pub async fn delete(
    core: &Core,
    principal: &Principal,
    kind: BundleKind,
    sid: &BundleSid,
) -> Result<()> {
    let mut tx = core.store.trust_tx().await?;
    let bundle = fetch_in(&mut tx, principal, kind, sid).await?;
    if bundle.status == PENDING_REVIEW || bundle.status == IN_REVIEW {
        return Err(Error::invalid_code(
            STATUS_FORBIDS_UPDATES,
            format!(
                "Business status does not allow updates: this {} is {} and cannot be deleted until its review ends",
                kind.noun(),
                bundle.status
            ),
        ));
    }
    if tx.is_assigned(sid.as_str()).await? {
        return Err(Error::invalid_code(
            OBJECT_ASSIGNED,
            format!(
                "{} cannot be deleted due to an active assignment to a Bundle",
                kind.noun()
            ),
        ));
    }
    tx.delete_bundle(sid.as_str()).await?;
    tx.commit().await?;
    Ok(())
}
