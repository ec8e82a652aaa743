//! The console (issue 22; research ../shared/reference/console.md): HTML pages under
//! `/_localtwilio/console/` for people to see what the emulator holds, and the operator
//! actions, also as `/_localtwilio/…` API calls (`operations`). Server-rendered with maud (no
//! build step, no CDN: the CSS and the small script are compiled in). Pages read through the
//! domain's own functions, scoped by `domain::console`.
//!
//! A page for a new product is one file here (its `routes()` and views, built with
//! `frame::page`) plus its line in `frame::NAV` and its `.merge` below.

mod accounts;
mod assets;
pub mod canvas;
mod conversations;
mod frame;
mod messages;
pub mod operations;
mod overview;
pub(crate) mod session;
mod signin;
mod studio;
mod trusthub;
mod webhooks;

use axum::{Router, middleware::from_fn};

use super::{routing::merged, state::AppState};

/// Where the console lives.
pub const BASE: &str = "/_localtwilio/console";

/// Every console route (pages, sign-in, assets) behind the console's security headers and its
/// cross-site refusal.
pub fn routes() -> Router<AppState> {
    merged([
        signin::routes(),
        assets::routes(),
        overview::routes(),
        accounts::routes(),
        studio::routes(),
        conversations::routes(),
        messages::routes(),
        webhooks::routes(),
        trusthub::routes(),
    ])
    .layer(from_fn(session::security_headers))
    .layer(from_fn(session::refuse_cross_site))
}
