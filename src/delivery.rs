//! The webhook delivery worker: sends queued deliveries after their change committed, signed
//! with `X-Twilio-Signature`, and records every attempt.
//!
//! - POST sends the parameters form-encoded; GET sends them in the query string and signs the
//!   full URL with no parameters (webhook-signature.md §1).
//! - 5-second timeout ("Conversations webhooks have a maximum timeout of 5 seconds"), redirects
//!   not followed, a 2xx answer is success. Failures are retried with doubling backoff (1 s, 2 s,
//!   4 s … capped at 60 s), 8 attempts in all, then the delivery is marked failed.
//! - The queue lives in SQLite, so deliveries pending at shutdown (or in flight at a crash) are
//!   sent after the restart: delivery is at least once.
//! - Finished deliveries and their attempts are kept for 24 hours.
//! - Deliveries never wait on each other: each attempt runs as its own task the moment it is
//!   claimed, at most `Limits::in_flight` at once, `Limits::per_target` per target (an
//!   account's URL) and `Limits::per_account` per account, and the claim is fair (every
//!   account's oldest due delivery first, then every target's, see
//!   `Store::claim_due_deliveries`). A receiver that never answers holds only its own target's
//!   places, for 5 s each; other targets, and its own retries' schedule, do not wait for it.

use std::{sync::Arc, time::Duration};

use tokio::task::JoinSet;
use tracing::{error, info, warn};

use crate::{
    domain::{
        Core, time,
        webhooks::{request_url, signature},
    },
    store::webhooks::{Attempt, DeliveryRow},
};

pub const MAX_ATTEMPTS: i64 = 8;
const TIMEOUT: Duration = Duration::from_secs(5);
/// How long a claim lasts: longer than any attempt (the auth token read, the 5-second request,
/// the record), so it only runs out for an attempt whose process stopped.
const LEASE_MS: i64 = 60_000;
/// The longest the worker sleeps before it looks at the queue again (a safety net: it is woken
/// by new deliveries, finished attempts and the next due time).
const IDLE_MS: i64 = 1000;
const KEEP_FINISHED_MS: i64 = 24 * 3600 * 1000;
/// What Twilio's webhook requests identify as.
pub const USER_AGENT: &str = "TwilioProxy/1.1";

/// Delay before attempt `n + 1` after `n` failed attempts.
pub fn backoff_ms(attempts_so_far: i64) -> i64 {
    (1000i64 << attempts_so_far.clamp(0, 6)).min(60_000)
}

/// How many attempts may be in flight (`LOCALTWILIO_WEBHOOK_CONCURRENCY`,
/// `…_PER_TARGET`, `…_PER_ACCOUNT`).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub in_flight: usize,
    pub per_target: usize,
    /// All of one account's targets together: a tenant with many black-holed targets holds at
    /// most this many places, never all of `in_flight`.
    pub per_account: usize,
}

pub struct Worker {
    core: Core,
    client: reqwest::Client,
    limits: Limits,
}

impl Worker {
    pub fn new(core: Core, limits: Limits) -> anyhow::Result<Self> {
        crate::install_tls_provider();
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(TIMEOUT)
            .user_agent(USER_AGENT)
            .build()?;
        Ok(Self {
            core,
            client,
            limits,
        })
    }

    /// Runs until the task is aborted (which aborts the attempts in flight; their deliveries
    /// stay pending and go out after the restart).
    pub async fn run(self) {
        let worker = Arc::new(self);
        // SQLite: this is the only server on the database, so any claim is a stopped
        // process's.
        if let Err(e) = worker.core.store.release_delivery_claims().await {
            warn!(error = %e, "releasing webhook claims failed");
        }
        let mut sends = JoinSet::new();
        let mut last_prune = 0i64;
        loop {
            let now = time::now_ms();
            if now - last_prune > 3_600_000 {
                last_prune = now;
                if let Err(e) = worker
                    .core
                    .store
                    .prune_deliveries(now - KEEP_FINISHED_MS)
                    .await
                {
                    warn!(error = %e, "pruning webhook deliveries failed");
                }
            }
            let free = worker.limits.in_flight.saturating_sub(sends.len());
            let mut wait_ms = IDLE_MS;
            if free > 0 {
                match worker.claim(now, free).await {
                    Ok(due) => {
                        for delivery in due {
                            let worker = Arc::clone(&worker);
                            sends.spawn(async move { worker.attempt(delivery).await });
                        }
                        // Everything claimable now was claimed: what is left waits for a
                        // place to free up, a new delivery, or its due time.
                        if let Ok(Some(at)) = worker.core.store.next_due_after(now).await {
                            wait_ms = (at - time::now_ms()).clamp(1, IDLE_MS);
                        }
                    }
                    Err(e) => warn!(error = %e, "reading the webhook queue failed"),
                }
            }
            let wait = Duration::from_millis(wait_ms as u64);
            tokio::select! {
                Some(_) = sends.join_next(), if !sends.is_empty() => {
                    while sends.try_join_next().is_some() {}
                }
                () = worker.core.webhook_wake.notified() => {}
                () = tokio::time::sleep(wait) => {}
            }
        }
    }

    async fn claim(&self, now: i64, free: usize) -> crate::store::StoreResult<Vec<DeliveryRow>> {
        self.core
            .store
            .claim_due_deliveries(
                now,
                now + LEASE_MS,
                self.limits.per_target as i64,
                self.limits.per_account as i64,
                free as i64,
            )
            .await
    }

    async fn attempt(&self, delivery: DeliveryRow) {
        // The parameters were written by this server in the change's transaction: if they do
        // not parse, that is a bug, logged, and the attempt fails rather than sending a request
        // without them (a receiver would accept an empty, validly signed webhook).
        let params = serde_json::from_str::<Vec<(String, String)>>(&delivery.params);
        if let Err(e) = &params {
            error!(delivery = delivery.id, error = %e, "stored webhook parameters do not parse");
        }
        let started = std::time::Instant::now();
        let outcome = match (params, self.auth_token(&delivery.account_sid).await) {
            (Ok(params), Some(token)) => self.send(&delivery, &params, &token).await,
            (Err(_), _) => Err("the stored parameters do not parse".to_owned()),
            (Ok(_), None) => Err("the account's auth token is unavailable".to_owned()),
        };
        let latency_ms = started.elapsed().as_millis() as i64;
        let (status_code, error, response_body) = match &outcome {
            Ok((code, body)) => (
                Some(i64::from(*code)),
                (!(200..300).contains(code)).then(|| format!("HTTP {code}")),
                Some(body.as_str()),
            ),
            Err(e) => (None, Some(e.clone()), None),
        };
        let delivered = error.is_none();
        let counter = if delivered {
            &self.core.delivery.delivered
        } else {
            &self.core.delivery.failed
        };
        counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let attempts = delivery.attempts + 1;
        let retry_at = (!delivered && attempts < MAX_ATTEMPTS)
            .then(|| time::now_ms() + backoff_ms(delivery.attempts));
        // Never the URL's query or the parameters: they may carry secrets and PII.
        let host = reqwest::Url::parse(&delivery.url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_default();
        info!(event = %delivery.event_type, host = %host, status = ?status_code, latency_ms, attempt = attempts, delivered, "webhook attempt");
        let attempt = Attempt {
            status_code,
            latency_ms,
            error: error.as_deref(),
            response_body,
            retry_at,
            delivered,
        };
        if let Err(e) = self
            .core
            .store
            .record_attempt(&delivery, time::now_ms(), &attempt)
            .await
        {
            warn!(error = %e, "recording a webhook attempt failed");
            // The worker's bookkeeping is a write like any other: a storage fault here marks
            // the store unhealthy as an API write's would (`store::health`).
            if e.is_storage_fault() {
                self.core.store.health().report_fault().await;
            }
        }
    }

    /// The token that signs the account's webhooks. A read that fails, or a sealed token that
    /// does not open under the server key, is logged (the attempt then fails and is retried).
    async fn auth_token(&self, account_sid: &str) -> Option<String> {
        let row = match self.core.store.fetch_account(account_sid).await {
            Ok(row) => row?,
            Err(e) => {
                warn!(error = %e, "reading the account to sign a webhook failed");
                return None;
            }
        };
        match self.core.server_key.open(&row.auth_token_sealed, &row.sid) {
            Ok(token) => Some(token),
            Err(_) => {
                error!(account = %row.sid, "the account's sealed auth token does not open under the server key");
                None
            }
        }
    }

    /// One HTTP request; the status code and the start of the body, or why there was none.
    async fn send(
        &self,
        delivery: &DeliveryRow,
        params: &[(String, String)],
        token: &str,
    ) -> Result<(u16, String), String> {
        let encoded = serde_html_form::to_string(params).map_err(|e| e.to_string())?;
        // Signed exactly as requested (issue 15 F11), see `webhooks::request_url`.
        let is_get = delivery.method == "GET";
        let url = request_url(&delivery.url, is_get.then_some(encoded.as_str()))
            .ok_or_else(|| "the target URL is not valid".to_owned())?;
        let request = if is_get {
            self.client
                .get(url.as_str())
                .header("X-Twilio-Signature", signature(token, url.as_str(), &[]))
        } else {
            self.client
                .post(url.as_str())
                .header("X-Twilio-Signature", signature(token, url.as_str(), params))
                .header(
                    reqwest::header::CONTENT_TYPE,
                    "application/x-www-form-urlencoded",
                )
                .body(encoded)
        };
        match request.send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                Ok((status, response_start(response).await))
            }
            Err(e) if e.is_timeout() => Err("timed out after 5 s".to_owned()),
            Err(e) if e.is_connect() => Err("connection failed".to_owned()),
            Err(e) => Err(format!("request failed: {e}")),
        }
    }
}

/// How much of a receiver's answer is kept for the console's delivery log.
pub const RESPONSE_KEPT: usize = 4096;

/// The first [`RESPONSE_KEPT`] bytes of a response body (as text, invalid UTF-8 replaced); the
/// rest is never read. A body that breaks off counts as what arrived.
async fn response_start(mut response: reqwest::Response) -> String {
    let mut kept = Vec::new();
    while kept.len() < RESPONSE_KEPT {
        match response.chunk().await {
            Ok(Some(chunk)) => kept.extend_from_slice(&chunk),
            Ok(None) | Err(_) => break,
        }
    }
    kept.truncate(RESPONSE_KEPT);
    String::from_utf8_lossy(&kept).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!([0, 1, 2, 3].map(backoff_ms), [1000, 2000, 4000, 8000]);
        assert_eq!(backoff_ms(20), 60_000);
    }
}
