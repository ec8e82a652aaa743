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

use std::{sync::Arc, time::Duration};

use tokio::task::JoinSet;
use tracing::{info, warn};

use crate::{
    domain::{
        Core, time,
        webhooks::{request_url, signature},
    },
    store::webhooks::{Attempt, DeliveryRow},
};

pub const MAX_ATTEMPTS: i64 = 8;
const TIMEOUT: Duration = Duration::from_secs(5);
const BATCH: i64 = 32;
const KEEP_FINISHED_MS: i64 = 24 * 3600 * 1000;
/// What Twilio's webhook requests identify as.
pub const USER_AGENT: &str = "TwilioProxy/1.1";

/// Delay before attempt `n + 1` after `n` failed attempts.
pub fn backoff_ms(attempts_so_far: i64) -> i64 {
    (1000i64 << attempts_so_far.clamp(0, 6)).min(60_000)
}

pub struct Worker {
    core: Core,
    client: reqwest::Client,
}

impl Worker {
    pub fn new(core: Core) -> anyhow::Result<Self> {
        crate::install_tls_provider();
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(TIMEOUT)
            .user_agent(USER_AGENT)
            .build()?;
        Ok(Self { core, client })
    }

    /// Runs until the task is aborted.
    pub async fn run(self) {
        let worker = Arc::new(self);
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
            let due = match worker.core.store.due_deliveries(now, BATCH).await {
                Ok(due) => due,
                Err(e) => {
                    warn!(error = %e, "reading the webhook queue failed");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            };
            if due.is_empty() {
                let wait = match worker.core.store.next_due_at().await {
                    Ok(Some(at)) => Duration::from_millis((at - now).clamp(10, 1000) as u64),
                    _ => Duration::from_secs(1),
                };
                tokio::select! {
                    () = worker.core.webhook_wake.notified() => {}
                    () = tokio::time::sleep(wait) => {}
                }
                continue;
            }
            let mut sends = JoinSet::new();
            for delivery in due {
                let worker = Arc::clone(&worker);
                sends.spawn(async move { worker.attempt(delivery).await });
            }
            while sends.join_next().await.is_some() {}
        }
    }

    async fn attempt(&self, delivery: DeliveryRow) {
        let params: Vec<(String, String)> =
            serde_json::from_str(&delivery.params).unwrap_or_default();
        let started = std::time::Instant::now();
        let outcome = match self.auth_token(&delivery.account_sid).await {
            Some(token) => self.send(&delivery, &params, &token).await,
            None => Err("the account's auth token is unavailable".to_owned()),
        };
        let latency_ms = started.elapsed().as_millis() as i64;
        let (status_code, error) = match &outcome {
            Ok(code) => (
                Some(i64::from(*code)),
                (!(200..300).contains(code)).then(|| format!("HTTP {code}")),
            ),
            Err(e) => (None, Some(e.clone())),
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
        }
    }

    async fn auth_token(&self, account_sid: &str) -> Option<String> {
        let row = self.core.store.fetch_account(account_sid).await.ok()??;
        self.core
            .server_key
            .open(&row.auth_token_sealed, &row.sid)
            .ok()
    }

    /// One HTTP request; the status code, or why there was none.
    async fn send(
        &self,
        delivery: &DeliveryRow,
        params: &[(String, String)],
        token: &str,
    ) -> Result<u16, String> {
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
            Ok(response) => Ok(response.status().as_u16()),
            Err(e) if e.is_timeout() => Err("timed out after 5 s".to_owned()),
            Err(e) if e.is_connect() => Err("connection failed".to_owned()),
            Err(e) => Err(format!("request failed: {e}")),
        }
    }
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
