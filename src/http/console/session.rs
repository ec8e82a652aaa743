//! Signing in and out of the console, the session cookie, and what every console response
//! carries: security headers and the refusal of cross-site writes (research console.md §5).
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
    extract::{FromRequestParts, Query, Request, State},
    http::{HeaderMap, HeaderValue, Method, StatusCode, header, request::Parts},
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use maud::html;
use serde::Deserialize;

use super::{BASE, frame};
use crate::{
    domain::console::{self, SESSION_SECS, Viewer},
    error::Error,
    http::{error::twilio_error, extract::decode, routing::routes, state::AppState},
};

/// The session cookie's name.
const COOKIE: &str = "localtwilio_console";

routes! {
    "/_localtwilio/console" => get(home),
    "/_localtwilio/console/" => get(home),
    "/_localtwilio/console/login" => get(login_page).post(login),
    "/_localtwilio/console/logout" => post(logout),
    "/_localtwilio/console/switch" => get(switch),
}

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
fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
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

/// Only paths inside the console may be a sign-in's destination (no open redirect).
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with(BASE) && !n.starts_with("//") && !n.contains('\\') => n.to_owned(),
        _ => format!("{BASE}/"),
    }
}

async fn home(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let viewer = match cookie(&headers, COOKIE) {
        Some(value) => console::session(&state.core, &state.console, value).await,
        None => None,
    };
    match viewer.as_ref().and_then(Viewer::home) {
        Some(account) => Redirect::to(&format!("{BASE}/{account}/overview")).into_response(),
        None if viewer.is_some() => Redirect::to(&format!("{BASE}/accounts")).into_response(),
        None => Redirect::to(&format!("{BASE}/login")).into_response(),
    }
}

#[derive(Deserialize)]
struct SwitchQuery {
    account: String,
    section: Option<String>,
}

/// The account picker: the same section of another account (the page checks the account).
async fn switch(Query(query): Query<SwitchQuery>) -> Response {
    let section = query
        .section
        .as_deref()
        .filter(|s| frame::NAV.iter().any(|(_, path)| path == s))
        .unwrap_or("overview");
    match crate::domain::sid::AccountSid::parse(&query.account) {
        Some(sid) => Redirect::to(&format!("{BASE}/{sid}/{section}")).into_response(),
        None => frame::failure(Error::NotFound),
    }
}

#[derive(Deserialize, Default)]
struct LoginQuery {
    next: Option<String>,
    failed: Option<String>,
}

async fn login_page(Query(query): Query<LoginQuery>) -> Response {
    let body = html! {
        main class="login" {
            h1 { "localtwilio console" }
            @if query.failed.is_some() {
                p class="flash error" role="alert" { "Those credentials were not accepted." }
            }
            form method="post" action=(format!("{BASE}/login")) {
                input type="hidden" name="next" value=(safe_next(query.next.as_deref()));
                label { "Account SID or API key SID (empty for the operator)"
                    input name="username" id="username" autocomplete="username" placeholder="AC… or SK…"; }
                label { "Auth token, key secret or operator token"
                    input name="secret" id="secret" type="password" autocomplete="current-password" required; }
                button type="submit" id="sign-in" { "Sign in" }
            }
            p class="hint" { "Accounts see themselves and their subaccounts. The operator token is "
                code { "LOCALTWILIO_CONSOLE_TOKEN" } "." }
        }
    };
    frame::bare("Sign in", body)
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    secret: String,
    next: Option<String>,
}

async fn login(State(state): State<AppState>, request: Request) -> Response {
    let client = request
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|info| info.0.ip());
    let Ok(body) = axum::body::to_bytes(request.into_body(), 64 * 1024).await else {
        return frame::failure(Error::invalid("the form is too large"));
    };
    let form: LoginForm = match decode(&body) {
        Ok(form) => form,
        Err(e) => return frame::failure(e),
    };
    let next = safe_next(form.next.as_deref());
    match console::sign_in(
        &state.core,
        &state.console,
        &form.username,
        &form.secret,
        client,
    )
    .await
    {
        Ok(value) => {
            let secure = if state
                .public_url
                .as_deref()
                .is_some_and(|u| u.starts_with("https:"))
            {
                "; Secure"
            } else {
                ""
            };
            let cookie = format!(
                "{COOKIE}={value}; Path={BASE}; HttpOnly; SameSite=Strict; Max-Age={SESSION_SECS}{secure}"
            );
            let mut response = Redirect::to(&next).into_response();
            if let Ok(value) = HeaderValue::from_str(&cookie) {
                response.headers_mut().insert(header::SET_COOKIE, value);
            }
            response
        }
        Err(Error::TooManyRequests { .. }) => frame::failure(Error::TooManyRequests {
            retry_after_secs: 1,
        }),
        Err(Error::Unauthenticated) => {
            Redirect::to(&format!("{BASE}/login?failed=1&next={}", percent(&next))).into_response()
        }
        Err(e) => frame::failure(e),
    }
}

async fn logout() -> Response {
    let mut response = Redirect::to(&format!("{BASE}/login")).into_response();
    let gone = format!("{COOKIE}=; Path={BASE}; HttpOnly; SameSite=Strict; Max-Age=0");
    if let Ok(value) = HeaderValue::from_str(&gone) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
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
