//! Accounts: every account the viewer may see (main accounts → subaccounts), and one account's
//! page — its subaccounts, API keys (SIDs, friendly names; secrets are never stored, tokens
//! never shown), its snapshots and the actions: reset, snapshot, restore.

use axum::{
    extract::{Path, Query, State},
    http::header,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use maud::html;
use serde::Deserialize;

use super::{BASE, frame, session::Signed};
use crate::{
    domain::{console, keys},
    http::{routing::routes, state::AppState},
};

routes! {
    "/_localtwilio/console/accounts" => get(all_accounts),
    "/_localtwilio/console/{account}/accounts" => get(account_page),
    "/_localtwilio/console/{account}/reset" => post(reset),
    "/_localtwilio/console/{account}/snapshots" => post(snapshot),
    "/_localtwilio/console/{account}/snapshots/{id}" => get(download),
    "/_localtwilio/console/{account}/snapshots/{id}/restore" => post(restore),
}

#[derive(Deserialize, Default)]
struct ListQuery {
    #[serde(default)]
    q: String,
    done: Option<String>,
}

/// The tree of accounts (the operator's home).
async fn all_accounts(
    State(state): State<AppState>,
    Signed(viewer): Signed,
    Query(query): Query<ListQuery>,
) -> Response {
    let accounts = match console::visible_accounts(&state.core, &viewer).await {
        Ok(accounts) => accounts,
        Err(e) => return frame::failure(e),
    };
    let body = html! {
        header class="top" {
            a class="brand" href=(format!("{BASE}/")) { "localtwilio" }
            span class="who" { (viewer.who()) }
            form method="post" action=(format!("{BASE}/logout")) { button type="submit" class="link" { "Sign out" } }
        }
        main {
            h1 { "Accounts" }
            (frame::search(&query.q, "Name or SID"))
            table id="accounts" {
                thead { tr { th { "Account" } th { "SID" } th { "Status" } th { "Type" } th { "Created" } } }
                tbody {
                    @for a in accounts.iter().filter(|a| frame::matches(&query.q, &[&a.friendly_name, a.sid.as_str()])) {
                        tr class=(if a.is_main() { "main" } else { "sub" }) {
                            td { @if !a.is_main() { "↳ " } a href=(format!("{BASE}/{}/overview", a.sid)) { (a.friendly_name) } }
                            td { code { (a.sid) } }
                            td { (a.status) } td { (a.kind) } td { (frame::when(a.date_created)) }
                        }
                    }
                }
            }
        }
    };
    frame::bare("Accounts", body)
}

async fn account_page(
    State(state): State<AppState>,
    page: frame::Scoped,
    Query(query): Query<ListQuery>,
) -> Response {
    let core = &state.core;
    let sid = &page.account.sid;
    let keys = match keys::list(core, &page.principal, sid, frame::first(1000)).await {
        Ok(keys) => keys.items,
        Err(e) => return frame::failure(e),
    };
    let snapshots = match console::snapshots(core, &page.viewer, sid).await {
        Ok(s) => s,
        Err(e) => return frame::failure(e),
    };
    let subaccounts: Vec<_> = page
        .accounts
        .iter()
        .filter(|a| a.owner_account_sid == *sid && a.sid != *sid)
        .collect();
    let body = html! {
        (frame::flash(query.done.as_deref()))
        dl class="facts" {
            dt { "SID" } dd { code { (sid) } }
            dt { "Friendly name" } dd { (page.account.friendly_name) }
            dt { "Status" } dd { (page.account.status) }
            dt { "Type" } dd { (page.account.kind) }
            dt { "Owner" } dd { code { (page.account.owner_account_sid) } }
            dt { "Auth token" } dd { "never shown here; read it with " code { "GET /2010-04-01/Accounts/" (sid) ".json" } }
        }
        h2 { "Subaccounts" }
        @if subaccounts.is_empty() { (frame::empty("subaccounts")) }
        @else {
            table id="subaccounts" {
                thead { tr { th { "Name" } th { "SID" } th { "Status" } } }
                tbody { @for a in &subaccounts {
                    tr { td { a href=(format!("{BASE}/{}/accounts", a.sid)) { (a.friendly_name) } } td { code { (a.sid) } } td { (a.status) } }
                } }
            }
        }
        h2 { "API keys" }
        @if keys.is_empty() { (frame::empty("API keys")) }
        @else {
            table id="keys" {
                thead { tr { th { "Friendly name" } th { "SID" } th { "Status" } th { "Created" } } }
                tbody { @for k in &keys {
                    tr { td { (k.friendly_name.as_deref().unwrap_or("—")) } td { code { (k.sid) } } td { "active (Standard)" } td { (frame::when(k.date_created)) } }
                } }
            }
        }
        h2 { "Snapshots and reset" }
        p { "A snapshot copies this account's data (every product's rows, webhook log included; not its credentials, not its subaccounts). Restoring makes the data exactly the snapshot's; resetting deletes it all and leaves a fresh default Conversations service." }
        form class="action" method="post" action=(page.link("snapshots")) {
            input name="Name" placeholder="Snapshot name (optional)" aria-label="Snapshot name";
            button type="submit" id="take-snapshot" { "Take snapshot" }
        }
        @if snapshots.is_empty() { (frame::empty("snapshots")) }
        @else {
            table id="snapshots" {
                thead { tr { th { "Name" } th { "Rows" } th { "Taken" } th {} } }
                tbody { @for s in &snapshots {
                    tr {
                        td { a href=(page.link(&format!("snapshots/{}", s.id))) { (s.name) } }
                        td { (s.rows) } td { (frame::when(s.date_created)) }
                        td { (frame::action_button(&page.link(&format!("snapshots/{}/restore", s.id)), "Restore", "Replace this account's data with this snapshot?", &format!("restore-{}", s.id))) }
                    }
                } }
            }
        }
        (frame::action_button(&page.link("reset"), "Reset account data", "Delete every flow, service, user, end user and webhook log entry of this account?", "reset"))
    };
    page.page(
        "accounts",
        &format!("Account · {}", page.account.friendly_name),
        body,
    )
}

/// After an action: back to the account page with a notice.
fn done(page: &frame::Scoped, what: &str) -> Response {
    Redirect::to(&format!(
        "{}?done={}",
        page.link("accounts"),
        super::session::percent(what)
    ))
    .into_response()
}

async fn reset(State(state): State<AppState>, page: frame::Scoped) -> Response {
    match console::reset(&state.core, &page.viewer, &page.account.sid).await {
        Ok(()) => done(&page, "The account's data was reset."),
        Err(e) => frame::failure(e),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SnapshotForm {
    name: Option<String>,
}

async fn snapshot(
    State(state): State<AppState>,
    page: frame::Scoped,
    body: axum::body::Bytes,
) -> Response {
    let form: SnapshotForm = match super::session::form(&body) {
        Ok(form) => form,
        Err(e) => return frame::failure(e),
    };
    match console::take_snapshot(
        &state.core,
        &page.viewer,
        &page.account.sid,
        form.name.as_deref(),
    )
    .await
    {
        Ok(s) => done(
            &page,
            &format!("Snapshot “{}” taken ({} rows).", s.name, s.rows),
        ),
        Err(e) => frame::failure(e),
    }
}

async fn download(
    State(state): State<AppState>,
    page: frame::Scoped,
    Path((_, id)): Path<(String, i64)>,
) -> Response {
    match console::snapshot_body(&state.core, &page.viewer, &page.account.sid, id).await {
        Ok(body) => ([(header::CONTENT_TYPE, "application/json")], body).into_response(),
        Err(e) => frame::failure(e),
    }
}

async fn restore(
    State(state): State<AppState>,
    page: frame::Scoped,
    Path((_, id)): Path<(String, i64)>,
) -> Response {
    match console::restore(&state.core, &page.viewer, &page.account.sid, id).await {
        Ok(()) => done(&page, "The snapshot was restored."),
        Err(e) => frame::failure(e),
    }
}
