//! Renders `crate::Error` as Twilio's error JSON (API.md §3.1):
//! `{"code","message","more_info","status"}` (+ `details`), never `type`/`title` (the SDKs would
//! read that as an RFC 9457 body and raise a different exception).
//!
//! A handler's error becomes an empty response carrying the error as an extension; the
//! `render_errors` middleware, which knows the request path, writes the body (404 messages name
//! the path) and logs each 5xx cause once. Causes are never sent.

use std::sync::Arc;

use axum::{
    extract::Request,
    http::{HeaderValue, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use serde_json::json;

use crate::{error::Error, store::StorageHealth};

#[derive(Clone)]
struct PendingError(Arc<Error>);

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = status.into_response();
        response
            .extensions_mut()
            .insert(PendingError(Arc::new(self)));
        response
    }
}

/// Twilio's error object, `{"code","message","more_info","status"}` (API.md §3.1): every error
/// the server sends, from a handler or from below the router (`http::edge`), is this.
pub fn twilio_error(status: u16, code: u32, message: &str) -> serde_json::Value {
    json!({
        "code": code,
        "message": message,
        "more_info": format!("https://www.twilio.com/docs/errors/{code}"),
        "status": status,
    })
}

/// The body of an error response for the request at `path`.
pub fn body(error: &Error, path: &str) -> serde_json::Value {
    let code = error.code();
    let message = match error {
        Error::NotFound => format!("The requested resource {path} was not found"),
        Error::Internal(_) => "Internal Server Error".to_owned(),
        Error::Unavailable(_) => {
            "Service unavailable: the database cannot be written right now; retry later".to_owned()
        }
        other => other.to_string(),
    };
    let mut body = twilio_error(error.status(), code, &message);
    if let Error::Invalid {
        details: Some(details),
        ..
    } = error
    {
        body["details"] = details.clone();
    }
    body
}

/// Writes the body of every error response (see the module docs).
pub async fn render_errors(request: Request, next: Next) -> Response {
    // A refcounted copy of the URI (no new string); the path is read only if an error is rendered.
    let uri = request.uri().clone();
    let health = request.extensions().get::<Arc<StorageHealth>>().cloned();
    // The flag says whether the database takes writes: a read that met a fault (a busy
    // database under load, say) does not mark it.
    let writes = !matches!(
        *request.method(),
        axum::http::Method::GET | axum::http::Method::HEAD
    );
    let mut response = next.run(request).await;
    let Some(PendingError(error)) = response.extensions_mut().remove::<PendingError>() else {
        return response;
    };
    match error.as_ref() {
        Error::Internal(cause) => tracing::error!(error = %format!("{cause:#}"), "internal error"),
        Error::Unavailable(cause) => {
            tracing::error!(error = %format!("{cause:#}"), "storage fault");
            // Whichever store call of a write met it, the store's health hears of it (only a
            // later committed write clears it: see `store::health`).
            if let Some(health) = health.filter(|_| writes) {
                health.report_fault().await;
            }
        }
        _ => {}
    }
    let status = response.status();
    let mut rendered = (status, axum::Json(body(&error, uri.path()))).into_response();
    let headers = rendered.headers_mut();
    match error.as_ref() {
        Error::Unauthenticated => {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"Twilio API\""),
            );
        }
        Error::TooManyRequests { retry_after_secs } => {
            if let Ok(value) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                headers.insert(header::RETRY_AFTER, value);
            }
        }
        _ => {}
    }
    if let Some(allow) = response.headers().get(header::ALLOW) {
        rendered.headers_mut().insert(header::ALLOW, allow.clone());
    }
    rendered
}

/// The router's fallback: 404 20404 for any path no route matches.
pub async fn not_found() -> Error {
    Error::NotFound
}

/// A known route called with a method it does not have: 405 20004.
pub async fn method_not_allowed() -> Error {
    Error::MethodNotAllowed
}
