//! Studio: flows (search by name or SID), and a flow's page — its canvas (`canvas.rs`), its
//! revisions (each one's canvas a click away), TestUsers, validation errors and the raw
//! definition. Executions are drawn on the same canvas once they exist (`canvas::Step`).

use axum::{
    extract::{Path, Query, State},
    response::Response,
    routing::get,
};
use maud::{Markup, html};

use super::{canvas, frame};
use crate::{
    domain::{
        sid::FlowSid,
        studio::{
            flows, revisions,
            revisions::{Content, RevisionSelector},
            test_users,
        },
    },
    error::Error,
    http::{routing::routes, state::AppState},
};

routes! {
    "/_localtwilio/console/{account}/studio" => get(list),
    "/_localtwilio/console/{account}/studio/{flow}" => get(flow),
    "/_localtwilio/console/{account}/studio/{flow}/revisions/{revision}" => get(revision),
}

async fn list(
    State(state): State<AppState>,
    page: frame::Scoped,
    Query(query): Query<frame::SearchQuery>,
) -> Response {
    let flows = match flows::list(&state.core, &page.principal, frame::first(1000)).await {
        Ok(flows) => flows.items,
        Err(e) => return frame::failure(e),
    };
    let body = html! {
        (frame::search(&query.q, "Flow name or SID"))
        @if flows.is_empty() { (frame::empty("flows")) }
        @else {
            table id="flows" {
                thead { tr { th { "Name" } th { "SID" } th { "Status" } th { "Revision" } th { "Valid" } th { "Created" } } }
                tbody {
                    @for f in flows.iter().filter(|f| frame::matches(&query.q, &[&f.content.friendly_name, f.sid.as_str()])) {
                        tr {
                            td { a href=(page.link(&format!("studio/{}", f.sid))) { (f.content.friendly_name) } }
                            td { code { (f.sid) } }
                            td { (f.content.status) } td { (f.revision) }
                            td { @if f.content.valid() { "yes" } @else { "no" } }
                            td { (frame::when(f.date_created)) }
                        }
                    }
                }
            }
        }
    };
    page.page("studio", "Studio flows", body)
}

/// A revision's content: canvas, problems, definition.
fn content_view(content: &Content) -> Markup {
    html! {
        div class="canvas-wrap" { (canvas::flow_canvas(&content.definition, &[])) }
        @if !content.errors.is_empty() {
            h2 { "Problems" }
            ul class="problems" {
                @for e in &content.errors {
                    li {
                        (e.get("message").and_then(|m| m.as_str()).unwrap_or(""))
                        " " code { (e.get("property_path").and_then(|m| m.as_str()).unwrap_or("")) }
                    }
                }
            }
        }
        details { summary { "Definition (JSON)" } (frame::json_block(&content.definition)) }
    }
}

fn parse_flow(text: &str) -> Result<FlowSid, Error> {
    FlowSid::parse(text).ok_or(Error::NotFound)
}

async fn flow(
    State(state): State<AppState>,
    page: frame::Scoped,
    Path((_, flow)): Path<(String, String)>,
) -> Response {
    let core = &state.core;
    let sid = match parse_flow(&flow) {
        Ok(sid) => sid,
        Err(e) => return frame::failure(e),
    };
    let flow = match flows::fetch(core, &page.principal, &sid).await {
        Ok(flow) => flow,
        Err(e) => return frame::failure(e),
    };
    let history = match revisions::list(core, &page.principal, &sid, frame::first(1000)).await {
        Ok(history) => history.items,
        Err(e) => return frame::failure(e),
    };
    let testers = match test_users::fetch(core, &page.principal, &sid).await {
        Ok(users) => users,
        Err(e) => return frame::failure(e),
    };
    let body = html! {
        dl class="facts" {
            dt { "SID" } dd { code { (flow.sid) } }
            dt { "Status" } dd { (flow.content.status) }
            dt { "Revision" } dd { (flow.revision) }
            dt { "Commit message" } dd { (flow.content.commit_message.as_deref().unwrap_or("—")) }
            dt { "Test users" } dd id="test-users" {
                @if testers.is_empty() { "none" }
                @for (i, t) in testers.iter().enumerate() { @if i > 0 { ", " } span class="chip" { (t) } }
            }
        }
        (content_view(&flow.content))
        h2 { "Revisions" }
        table id="revisions" {
            thead { tr { th { "Revision" } th { "Status" } th { "Name" } th { "Commit message" } th { "Written" } } }
            tbody {
                @for r in history.iter().rev() {
                    tr {
                        td { a href=(page.link(&format!("studio/{}/revisions/{}", flow.sid, r.revision))) { (r.revision) } }
                        td { (r.content.status) } td { (r.content.friendly_name) }
                        td { (r.content.commit_message.as_deref().unwrap_or("")) }
                        td { (frame::when(r.date_created)) }
                    }
                }
            }
        }
    };
    page.page(
        "studio",
        &format!("Flow · {}", flow.content.friendly_name),
        body,
    )
}

async fn revision(
    State(state): State<AppState>,
    page: frame::Scoped,
    Path((_, flow, revision)): Path<(String, String, String)>,
) -> Response {
    let sid = match parse_flow(&flow) {
        Ok(sid) => sid,
        Err(e) => return frame::failure(e),
    };
    let Ok(selector) = revision.parse::<RevisionSelector>() else {
        return frame::failure(Error::NotFound);
    };
    let found = match revisions::fetch(&state.core, &page.principal, &sid, selector).await {
        Ok(found) => found,
        Err(e) => return frame::failure(e),
    };
    let body = html! {
        p { a href=(page.link(&format!("studio/{sid}"))) { "← the flow" } }
        dl class="facts" {
            dt { "Revision" } dd { (found.revision) }
            dt { "Status" } dd { (found.content.status) }
            dt { "Written" } dd { (frame::when(found.date_created)) }
        }
        (content_view(&found.content))
    };
    page.page(
        "studio",
        &format!(
            "{} · revision {}",
            found.content.friendly_name, found.revision
        ),
        body,
    )
}
