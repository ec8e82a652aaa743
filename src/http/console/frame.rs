//! The frame every console page shares: the navigation (one line per product page in [`NAV`]),
//! the account picker, search, the light/dark toggle and the HTML around a page's body; the
//! error page; small view helpers. Every value is written through maud, which escapes it: no
//! page ever splices raw text into HTML.

use axum::{
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use maud::{DOCTYPE, Markup, html};
use serde_json::Value;

use super::{BASE, assets};
use crate::{
    domain::{
        Core,
        auth::Principal,
        console::{self, AccountSummary, Viewer},
        sid::AccountSid,
        time,
    },
    error::Error,
};

/// The product pages, in the navigation's order: (title, path under `/{AccountSid}/`). A new
/// product page adds its line here.
pub const NAV: &[(&str, &str)] = &[
    ("Overview", "overview"),
    ("Accounts", "accounts"),
    ("Studio", "studio"),
    ("Conversations", "conversations"),
    ("Messages", "messages"),
    ("Webhooks", "webhooks"),
    ("TrustHub", "trusthub"),
];

/// A page about one account the viewer may see.
pub struct Scoped {
    pub viewer: Viewer,
    /// The account, as its own credential would act on it.
    pub principal: Principal,
    pub account: AccountSummary,
    /// Every account the viewer may see (the picker).
    pub accounts: Vec<AccountSummary>,
}

/// A console page's `{account}` path segment, resolved for the signed-in viewer: a handler that
/// takes `Scoped` only runs for an account its viewer may see (else the 404 page, or the
/// sign-in redirect without a session).
impl axum::extract::FromRequestParts<crate::http::state::AppState> for Scoped {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &crate::http::state::AppState,
    ) -> Result<Self, Response> {
        let super::session::Signed(viewer) =
            super::session::Signed::from_request_parts(parts, state).await?;
        let params = axum::extract::RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| failure(Error::NotFound))?;
        let account = params
            .iter()
            .find(|(name, _)| *name == "account")
            .map(|(_, value)| value.to_owned())
            .ok_or_else(|| failure(Error::NotFound))?;
        Self::resolve(&state.core, viewer, &account).await
    }
}

impl Scoped {
    /// Resolves `account` (a path segment) for `viewer`: malformed, unknown and unreachable
    /// accounts alike are the 404 page.
    pub async fn resolve(core: &Core, viewer: Viewer, account: &str) -> Result<Self, Response> {
        let sid: AccountSid = AccountSid::parse(account).ok_or_else(|| failure(Error::NotFound))?;
        let principal = console::scope(core, &viewer, &sid).await.map_err(failure)?;
        let account = console::account(core, &viewer, &sid)
            .await
            .map_err(failure)?;
        let accounts = console::visible_accounts(core, &viewer)
            .await
            .map_err(failure)?;
        Ok(Self {
            viewer,
            principal,
            account,
            accounts,
        })
    }

    /// `/_localtwilio/console/{AccountSid}/{rest}`.
    pub fn link(&self, rest: &str) -> String {
        format!("{BASE}/{}/{rest}", self.account.sid)
    }

    /// The page `section` (a [`NAV`] path) titled `title`, with `body`.
    pub fn page(&self, section: &str, title: &str, body: Markup) -> Response {
        let sid = self.account.sid.to_string();
        let content = html! {
            header class="top" {
                a class="brand" href=(format!("{BASE}/")) { "localtwilio" }
                nav {
                    @for (name, path) in NAV {
                        a href=(self.link(path)) class=(if *path == section { "current" } else { "" }) { (name) }
                    }
                }
                form class="picker" method="get" action=(format!("{BASE}/switch")) {
                    input type="hidden" name="section" value=(section);
                    select name="account" aria-label="Account" data-submit-on-change {
                        @for a in &self.accounts {
                            option value=(a.sid) selected[a.sid.as_str() == sid] {
                                @if !a.is_main() { "↳ " }
                                (a.friendly_name) " (" (a.sid) ")"
                            }
                        }
                    }
                    noscript { button type="submit" { "Go" } }
                }
                button type="button" class="theme" id="theme" aria-label="Light or dark" { "◐" }
                span class="who" { (self.viewer.who()) }
                form method="post" action=(format!("{BASE}/logout")) {
                    button type="submit" class="link" { "Sign out" }
                }
            }
            main { h1 { (title) } (body) }
        };
        document(title, content)
    }
}

/// A whole HTML document.
fn document(title: &str, content: Markup) -> Response {
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · localtwilio console" }
                link rel="stylesheet" href=(assets::css_url());
                script src=(assets::js_url()) defer {}
            }
            body { (content) }
        }
    };
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        markup.into_string(),
    )
        .into_response()
}

/// A page outside any account (sign-in).
pub fn bare(title: &str, body: Markup) -> Response {
    document(title, body)
}

/// The error page for `error`, with its status.
pub fn failure(error: Error) -> Response {
    let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let message = match &error {
        Error::NotFound => "Not found (or not yours).".to_owned(),
        Error::Internal(cause) => {
            tracing::error!(error = %format!("{cause:#}"), "internal error in the console");
            "Internal error (logged).".to_owned()
        }
        other => other.to_string(),
    };
    let body = html! {
        main class="error" {
            h1 { (status.as_u16()) " " (status.canonical_reason().unwrap_or("")) }
            p { (message) }
            p { a href=(format!("{BASE}/")) { "Back to the console" } }
        }
    };
    let mut response = document("Error", body);
    *response.status_mut() = status;
    response
}

/// A time (seconds) as the API's v1 dates.
pub fn when(ts: i64) -> String {
    time::iso8601(ts)
}

/// A time in milliseconds.
pub fn when_ms(ms: i64) -> String {
    time::iso8601(ms.div_euclid(1000))
}

/// JSON, pretty-printed and escaped, in a `<pre>`.
pub fn json_block(value: &Value) -> Markup {
    let text = serde_json::to_string_pretty(value).unwrap_or_default();
    html! { pre class="json" { (text) } }
}

/// A list page's query: `?q=` searches it.
#[derive(serde::Deserialize, Default)]
pub struct SearchQuery {
    #[serde(default)]
    pub q: String,
}

/// The search box of a list page; `q` is the current query.
pub fn search(q: &str, placeholder: &str) -> Markup {
    html! {
        form class="search" method="get" role="search" {
            input type="search" name="q" value=(q) placeholder=(placeholder) aria-label="Search";
            button type="submit" { "Search" }
        }
    }
}

/// The search box of a list page with one choice beside it: `select` names the parameter, its
/// label, its values (the first, `""`, shown as "any") and the current one.
pub fn search_with(q: &str, placeholder: &str, select: (&str, &str, &[&str], &str)) -> Markup {
    let (name, label, values, current) = select;
    html! {
        form class="filters" method="get" role="search" {
            input type="search" name="q" value=(q) placeholder=(placeholder) aria-label="Search";
            label { (label) " "
                select name=(name) {
                    @for v in values {
                        option value=(v) selected[*v == current] { @if v.is_empty() { "any" } @else { (v) } }
                    }
                }
            }
            button type="submit" { "Search" }
        }
    }
}

/// Whether any of `fields` contains `q` (case-insensitive); an empty query matches all.
pub fn matches(q: &str, fields: &[&str]) -> bool {
    let q = q.trim().to_lowercase();
    q.is_empty() || fields.iter().any(|f| f.to_lowercase().contains(&q))
}

/// A form posting to `action` behind a confirmation prompt (the script asks before sending).
pub fn action_button(action: &str, label: &str, confirm: &str, id: &str) -> Markup {
    html! {
        form class="action" method="post" action=(action) data-confirm=(confirm) {
            button type="submit" id=(id) { (label) }
        }
    }
}

/// A notice at the top of a page (after an action).
pub fn flash(text: Option<&str>) -> Markup {
    html! {
        @if let Some(text) = text {
            p class="flash" role="status" { (text) }
        }
    }
}

/// Nothing to show.
pub fn empty(what: &str) -> Markup {
    html! { p class="empty" { "No " (what) " yet." } }
}

/// A marker the script polls for: the element's content is refreshed from the same URL every
/// few seconds (live updates without a connection held open).
pub fn live(content: Markup) -> Markup {
    html! { div id="live" data-poll="3000" { (content) } }
}

/// The first `size` items of a list (a console list shows one long page, searched in place).
pub fn first(size: u32) -> crate::domain::paging::PageRequest {
    crate::domain::paging::PageRequest {
        size,
        page: 0,
        cursor: crate::domain::paging::Cursor::First,
        token: None,
    }
}
