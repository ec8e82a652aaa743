//! The operator API of issue 19 (not Twilio endpoints; the account's own HTTP basic
//! credentials): `/_localtwilio/InboundMessages`, `/_localtwilio/Numbers[/{PhoneNumber}]`,
//! `/_localtwilio/Clock`. Described in `openapi/localtwilio-operator.yaml`.

pub mod clock;
pub mod inbound_messages;
pub mod numbers;

use axum::Router;

use super::{routing::merged, state::AppState};

pub fn routes() -> Router<AppState> {
    merged([
        inbound_messages::routes(),
        numbers::routes(),
        clock::routes(),
    ])
    .layer(axum::middleware::from_fn(
        super::console::session::refuse_cross_site,
    ))
}
