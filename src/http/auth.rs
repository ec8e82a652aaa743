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
use crate::{
    domain::{console::Viewer, secrets::same_bytes},
    error::Error,
};

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
    let path = request.uri().path();
    if is_probe(path) {
        return next.run(request).await;
    }
    // The console signs its viewers in itself (a session cookie, `http::console::session`).
    if state.console.enabled && is_console(path) {
        return next.run(request).await;
    }
    // The operator on the operator API: `Authorization: Bearer <LOCALTWILIO_CONSOLE_TOKEN>`.
    if path.starts_with("/_localtwilio/")
        && let Some(token) = bearer_token(&request)
    {
        let matches = state
            .console
            .operator_token
            .as_deref()
            .is_some_and(|want| same_bytes(want.as_bytes(), token.as_bytes()));
        if !matches {
            return Error::Unauthenticated.into_response();
        }
        tracing::Span::current().record("account_sid", "operator");
        request.extensions_mut().insert(Viewer::Operator);
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

/// `/_localtwilio/console` and everything below it.
fn is_console(path: &str) -> bool {
    path == "/_localtwilio/console" || path.starts_with("/_localtwilio/console/")
}

/// `Authorization: Bearer TOKEN`.
fn bearer_token(request: &Request) -> Option<String> {
    let value = request
        .headers()
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.to_owned())
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
