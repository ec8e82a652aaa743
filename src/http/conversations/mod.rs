//! Conversations v1 (API.md §2.2), one file per resource: services, configuration, roles,
//! users, user conversations and webhook targets. Users and Roles answer on both path
//! families — `/v1/Users…` (the account's default service) and `/v1/Services/{IS}/Users…` —
//! with one handler each; `extract` tells the families apart by the route's `ServiceSid`, and
//! `url`/`links` follow the family used, always with the `US`/`RL` SID.

pub mod configuration;
pub mod extract;
pub mod roles;
pub mod services;
pub mod user_conversations;
pub mod users;
pub mod webhooks;

use axum::Router;

use super::{routing::merged, state::AppState};

pub fn routes() -> Router<AppState> {
    merged([
        configuration::routes(),
        services::routes(),
        roles::routes(),
        users::routes(),
        user_conversations::routes(),
        webhooks::routes(),
    ])
}
