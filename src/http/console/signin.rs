//! Signing in and out of the console (`domain::console::sign_in`; the cookie's attributes in
//! `session.rs`'s docs), its home redirect and the account picker.

use axum::{
    extract::{Query, Request, State},
    http::{HeaderMap, HeaderValue, header},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use maud::html;
use serde::Deserialize;

use super::{
    BASE, frame,
    session::{COOKIE, cookie, percent},
};
use crate::{
    domain::console::{self, SESSION_SECS, Viewer},
    error::Error,
    http::{extract::decode, routing::routes, state::AppState},
};

routes! {
    "/_localtwilio/console" => get(home),
    "/_localtwilio/console/" => get(home),
    "/_localtwilio/console/login" => get(login_page).post(login),
    "/_localtwilio/console/logout" => post(logout),
    "/_localtwilio/console/switch" => get(switch),
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
