//! The HTTP surface: one router serving every product by path (DESIGN.md "Routing and URLs").
//! May import `domain` and `error`; nothing below imports this module.

pub mod accounts;
pub mod auth;
pub mod call;
pub mod console;
pub mod conversations;
pub mod edge;
pub mod emulator;
pub mod error;
pub mod extract;
pub mod keys;
pub mod messages;
pub mod metrics;
pub mod paging;
pub mod routing;
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
    let body_timeout = state.body_read_timeout;
    let console = if state.console.enabled {
        console::routes()
    } else {
        Router::new()
    };
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics::metrics))
        .merge(accounts::routes())
        .merge(keys::routes())
        .merge(messages::routes())
        .merge(studio::routes())
        .merge(trusthub::routes())
        .merge(conversations::routes())
        .merge(webhooks::routes())
        .merge(console::operations::routes())
        .merge(emulator::routes())
        .merge(console)
        .fallback(error::not_found)
        .method_not_allowed_fallback(error::method_not_allowed)
        // Outermost last: trace → extensions → render errors → declared body size → body limit →
        // authenticate → route.
        .layer(from_fn_with_state(state.clone(), auth::authenticate))
        .layer(axum::extract::DefaultBodyLimit::max(limit))
        .layer(from_fn(edge::refuse_oversized_bodies))
        .layer(from_fn(error::render_errors))
        // Outside render_errors, so it finds the health flag in the request.
        .layer(axum::Extension(extract::BodyLimit(limit, body_timeout)))
        .layer(axum::Extension(state.core.store.health()))
        .layer(from_fn_with_state(
            std::sync::Arc::new(trace::RequestLog::new(state.metrics.clone())),
            trace::request_span,
        ))
        .with_state(state)
}

/// 200 once the database is open, migrated and answering, and no storage fault was met since
/// the last write that committed; 503 otherwise. No auth.
async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    let store = &state.core.store;
    match store.ping().await {
        Ok(()) if store.health().takes_writes().await => {
            (StatusCode::OK, Json(json!({"status": "ok"})))
        }
        Ok(()) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(
                json!({"status": "unavailable", "reason": "the last write failed: the database cannot be written"}),
            ),
        ),
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "unavailable", "reason": "the database does not answer"})),
        ),
    }
}
