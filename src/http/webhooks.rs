//! The operators' view of recent webhook delivery attempts (`/_localtwilio/WebhookAttempts`, not
//! a Twilio endpoint; the account's own credentials). Webhook targets are product resources
//! (`http::conversations::webhooks`).

use axum::{Json, extract::State, routing::get};
use serde::Serialize;

use super::{extract::Authed, state::AppState};
use crate::{
    domain::{
        time::iso8601,
        webhooks::{self, AttemptRecord},
    },
    error::Result,
    http::routing::routes,
};

/// How many attempts the view shows.
const RECENT_ATTEMPTS: i64 = 100;

routes! {
    "/_localtwilio/WebhookAttempts" => get(list_attempts),
}

#[derive(Serialize)]
struct AttemptsResource {
    attempts: Vec<AttemptResource>,
}

/// One attempt; fields in alphabetical order (the bytes of the `Value` body this replaced).
#[derive(Serialize)]
struct AttemptResource {
    attempted_at: String,
    delivery_id: i64,
    error: Option<String>,
    event_type: String,
    id: i64,
    latency_ms: i64,
    status_code: Option<i64>,
    url: String,
}

impl From<AttemptRecord> for AttemptResource {
    fn from(a: AttemptRecord) -> Self {
        Self {
            attempted_at: iso8601(a.attempted_at),
            delivery_id: a.delivery_id,
            error: a.error,
            event_type: a.event_type,
            id: a.id,
            latency_ms: a.latency_ms,
            status_code: a.status_code,
            url: a.url,
        }
    }
}

/// The calling account's most recent delivery attempts, newest first.
async fn list_attempts(
    State(state): State<AppState>,
    Authed(principal): Authed,
) -> Result<Json<AttemptsResource>> {
    let attempts = webhooks::recent_attempts(&state.core, &principal, RECENT_ATTEMPTS).await?;
    Ok(Json(AttemptsResource {
        attempts: attempts.into_iter().map(AttemptResource::from).collect(),
    }))
}
