//! `/_localtwilio/Clock`: the caller's clock (see `domain::emulator::clock`).

use axum::{Json, routing::get};
use serde::{Deserialize, Serialize};

use crate::{
    domain::{
        emulator::clock::{self, Clock},
        time::iso8601,
    },
    error::Result,
    http::{call::ApiCall, routing::routes},
};

routes! {
    "/_localtwilio/Clock" => get(fetch_clock).post(advance_clock),
}

/// The account's clock; fields in alphabetical order.
#[derive(Serialize)]
struct ClockResource {
    account_sid: String,
    /// What the account's timers take as now (ISO 8601).
    now: String,
    /// How far it runs ahead of the machine's clock, in seconds.
    offset_seconds: i64,
}

impl ClockResource {
    fn new(account_sid: String, clock: Clock) -> Self {
        Self {
            account_sid,
            now: iso8601(clock.now()),
            offset_seconds: clock.offset_secs,
        }
    }
}

async fn fetch_clock(call: ApiCall) -> Result<Json<ClockResource>> {
    let account = call.principal.account_sid.to_string();
    let clock = clock::read(&call.core, &account).await?;
    Ok(Json(ClockResource::new(account, clock)))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AdvanceForm {
    advance: Option<String>,
}

async fn advance_clock(call: ApiCall<(), AdvanceForm>) -> Result<Json<ClockResource>> {
    let secs = clock::parse_advance(call.form.advance.as_deref())?;
    let clock = clock::advance(&call.core, &call.principal, secs).await?;
    Ok(Json(ClockResource::new(
        call.principal.account_sid.to_string(),
        clock,
    )))
}
