//! The console's session cookie, and what every console response carries: security headers
//! and the refusal of cross-site writes (research console.md §5). Signing in and out is
//! `signin.rs`.
//!
//! - The session is a signed cookie (`domain::console::sign_in`/`session`): `HttpOnly;
//!   SameSite=Strict`, scoped to the console's path, `Secure` when the public URL is https.
//! - A write (any method but GET/HEAD) is refused with 403 unless `Sec-Fetch-Site` says
//!   `same-origin` or `none`, or — from a browser that does not send it — `Origin` names the
//!   request's own host (Go 1.25's `CrossOriginProtection`). Clients that send neither (curl)
//!   are not browsers and carry no ambient cookie.

use axum::{
    Json,
    body::Bytes,
    extract::{FromRequestParts, Request},
    http::{HeaderMap, HeaderValue, Method, StatusCode, header, request::Parts},
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
};

use super::BASE;
use crate::{
    domain::console::{self, Viewer},
    error::Error,
    http::{error::twilio_error, extract::decode, state::AppState},
};

/// The session cookie's name.
pub const COOKIE: &str = "localtwilio_console";

/// The signed-in viewer of a console page. Without a valid session: a redirect to sign in.
pub struct Signed(pub Viewer);

impl FromRequestParts<AppState> for Signed {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let viewer = match cookie(&parts.headers, COOKIE) {
            Some(value) => console::session(&state.core, &state.console, value).await,
            None => None,
        };
        match viewer {
            Some(viewer) => Ok(Self(viewer)),
            None => {
                let next = parts
                    .uri
                    .path_and_query()
                    .map(|p| p.as_str().to_owned())
                    .unwrap_or_default();
                let target = format!("{BASE}/login?next={}", percent(&next));
                Err(Redirect::to(&target).into_response())
            }
        }
    }
}

/// `name`'s value in the request's `Cookie` headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Percent-encodes a query value.
pub fn percent(text: &str) -> String {
    serde_html_form::to_string([("", text)])
        .map(|s| s.trim_start_matches('=').to_owned())
        .unwrap_or_default()
}

/// Parses a console form body (strict, as the API's forms).
pub fn form<T: serde::de::DeserializeOwned>(body: &Bytes) -> Result<T, Error> {
    decode(body)
}

/// Whether a write comes from another site (see the module docs).
pub fn is_cross_site(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site") {
        return !matches!(site.to_str(), Ok("same-origin" | "none"));
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return false;
    };
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let origin_host = origin
        .to_str()
        .ok()
        .and_then(|o| o.split_once("://"))
        .map(|(_, rest)| rest.trim_end_matches('/'));
    origin_host.is_none() || origin_host != host
}

/// Refuses cross-site writes with 403 20403 (Twilio's error shape).
pub async fn refuse_cross_site(request: Request, next: Next) -> Response {
    let writes = !matches!(*request.method(), Method::GET | Method::HEAD);
    if writes && is_cross_site(request.headers()) {
        return (
            StatusCode::FORBIDDEN,
            Json(twilio_error(403, 20403, "Cross-site requests are refused")),
        )
            .into_response();
    }
    next.run(request).await
}

/// The headers every console response carries: a strict Content-Security-Policy (no inline
/// script or style, no framing), no sniffing, no referrer, never cached.
pub async fn security_headers(request: Request, next: Next) -> Response {
    let is_asset = request.uri().path().starts_with(&format!("{BASE}/assets/"));
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if !is_asset {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}
