//! Basic authentication on every route but `/healthz` (checked before routing errors, so an
//! unauthenticated caller learns nothing about which resources exist: API.md §3.3).

use axum::{
    extract::{Request, State},
    http::header,
    middleware::Next,
    response::{IntoResponse, Response},
};
use base64::Engine;

use super::state::AppState;
use crate::error::Error;

/// `/healthz` and `/metrics` (any method): the routes served without authentication, and
/// logged only at debug level (`http::trace`).
pub fn is_probe(path: &str) -> bool {
    matches!(path, "/healthz" | "/metrics")
}

pub async fn authenticate(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    if is_probe(request.uri().path()) {
        return next.run(request).await;
    }
    let Some((username, secret)) = basic_credentials(&request) else {
        return Error::Unauthenticated.into_response();
    };
    let client = request
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|info| info.0.ip());
    match state
        .core
        .auth
        .authenticate(&state.core.store, &username, &secret, client)
        .await
    {
        Ok(principal) => {
            tracing::Span::current().record("account_sid", principal.account_sid.as_str());
            request.extensions_mut().insert(principal);
            next.run(request).await
        }
        Err(error) => error.into_response(),
    }
}

/// `Authorization: Basic base64(user:secret)`. Whitespace is not trimmed: Twilio lists "extra
/// whitespace" among the causes of 20003.
fn basic_credentials(request: &Request) -> Option<(String, String)> {
    let value = request
        .headers()
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, secret) = text.split_once(':')?;
    Some((user.to_owned(), secret.to_owned()))
}
