//! The HTTP surface: one router serving every product by path (DESIGN.md "Routing and URLs").
//! May import `domain` and `error`; nothing below imports this module.

pub mod accounts;
pub mod auth;
pub mod conversations;
pub mod error;
pub mod extract;
pub mod paging;
pub mod state;
pub mod studio;
pub mod trace;
pub mod trusthub;
pub mod urls;
pub mod webhooks;

use axum::{
    Json, Router,
    extract::State,
    http::StatusCode,
    middleware::{from_fn, from_fn_with_state},
    response::IntoResponse,
    routing::get,
};
use serde_json::json;

pub use state::AppState;

pub fn router(state: AppState) -> Router {
    let limit = state.max_body_bytes;
    Router::new()
        .route("/healthz", get(healthz))
        .merge(accounts::routes())
        .merge(studio::routes())
        .merge(trusthub::routes())
        .merge(conversations::routes())
        .merge(webhooks::routes())
        .fallback(error::not_found)
        .method_not_allowed_fallback(error::method_not_allowed)
        // Outermost last: trace → render errors → authenticate → route.
        .layer(from_fn_with_state(state.clone(), auth::authenticate))
        .layer(axum::extract::DefaultBodyLimit::max(limit))
        .layer(axum::Extension(extract::BodyLimit(limit)))
        .layer(from_fn(error::render_errors))
        .layer(from_fn(trace::request_span))
        .with_state(state)
}

/// 200 once the database is open and migrated and answers; 503 otherwise. No auth.
async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    match state.core.store.ping().await {
        Ok(()) => (StatusCode::OK, Json(json!({"status": "ok"}))),
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "unavailable"})),
        ),
    }
}
