//! Studio: flows (search by name or SID); a flow's page — its canvas (`canvas.rs`), its
//! revisions (each one's canvas a click away), TestUsers, its latest executions, validation
//! errors and the raw definition; a flow's executions (search, status filter); and one
//! **execution** drawn on the canvas of the revision it ran, the path it took highlighted and
//! numbered, its steps with their contexts and its execution context beside it (live).

use axum::{
    extract::{Path, Query, State},
    response::Response,
    routing::get,
};
use maud::{Markup, html};

use super::{canvas, frame};
use crate::{
    domain::{
        sid::{ExecutionSid, FlowSid},
        studio::{
            executions::{self, Execution, ExecutionFilter},
            flows, revisions,
            revisions::{Content, RevisionSelector},
            steps, test_users,
        },
    },
    error::Error,
    http::{routing::routes, state::AppState},
};

routes! {
    "/_localtwilio/console/{account}/studio" => get(list),
    "/_localtwilio/console/{account}/studio/{flow}" => get(flow),
    "/_localtwilio/console/{account}/studio/{flow}/revisions/{revision}" => get(revision),
    "/_localtwilio/console/{account}/studio/{flow}/executions" => get(execution_list),
    "/_localtwilio/console/{account}/studio/{flow}/executions/{execution}" => get(execution),
}

/// How many executions the flow's page lists (the list page shows up to [`EXECUTION_LIST`]).
const LATEST_EXECUTIONS: usize = 10;
const EXECUTION_LIST: u32 = 1000;
/// How many steps an execution page reads (Studio stops an execution long before).
const STEP_LIMIT: u32 = 1000;

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
    let latest = match newest_executions(core, &page, &sid, None).await {
        Ok(latest) => latest,
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
        h2 { "Executions" }
        (executions_table(&page, &sid, latest.iter().take(LATEST_EXECUTIONS)))
        p { a id="all-executions" href=(page.link(&format!("studio/{sid}/executions"))) { "All executions (" (latest.len()) ") →" } }
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

/// The flow's executions, newest first, optionally of one status.
async fn newest_executions(
    core: &crate::domain::Core,
    page: &frame::Scoped,
    flow: &FlowSid,
    status: Option<&'static str>,
) -> Result<Vec<Execution>, Error> {
    let filter = ExecutionFilter {
        status,
        ..ExecutionFilter::default()
    };
    let mut found = executions::list(
        core,
        &page.principal,
        flow,
        filter,
        frame::first(EXECUTION_LIST),
    )
    .await?
    .items;
    found.sort_by_key(|e| std::cmp::Reverse(e.date_created));
    Ok(found)
}

fn executions_table<'a>(
    page: &frame::Scoped,
    flow: &FlowSid,
    list: impl Iterator<Item = &'a Execution>,
) -> Markup {
    let list: Vec<&Execution> = list.collect();
    html! {
        @if list.is_empty() { (frame::empty("executions")) }
        @else {
            table id="executions" {
                thead { tr { th { "Execution" } th { "Contact" } th { "Status" } th { "Revision" } th { "Started" } th { "Updated" } } }
                tbody {
                    @for e in list {
                        tr data-status=(e.status) {
                            td { a href=(page.link(&format!("studio/{flow}/executions/{}", e.sid))) { code { (e.sid) } } }
                            td { (e.contact_channel_address) }
                            td { span class=(format!("status {}", e.status)) { (e.status) } }
                            td { (e.flow_version) }
                            td { (frame::when(e.date_created)) }
                            td { (frame::when(e.date_updated)) }
                        }
                    }
                }
            }
        }
    }
}

#[derive(serde::Deserialize, Default)]
struct ExecutionQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    status: String,
}

async fn execution_list(
    State(state): State<AppState>,
    page: frame::Scoped,
    Path((_, flow)): Path<(String, String)>,
    Query(query): Query<ExecutionQuery>,
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
    let status = match query.status.as_str() {
        "active" => Some("active"),
        "ended" => Some("ended"),
        _ => None,
    };
    let found = match newest_executions(core, &page, &sid, status).await {
        Ok(found) => found,
        Err(e) => return frame::failure(e),
    };
    let shown = found.iter().filter(|e| {
        frame::matches(
            &query.q,
            &[&e.contact_channel_address, e.sid.as_str(), &e.status],
        )
    });
    let body = html! {
        p { a href=(page.link(&format!("studio/{sid}"))) { "← the flow" } }
        (frame::search_with(&query.q, "Contact or SID",
            ("status", "Status", &["", "active", "ended"], &query.status)))
        (frame::live(executions_table(&page, &sid, shown)))
    };
    page.page(
        "studio",
        &format!("Executions · {}", flow.content.friendly_name),
        body,
    )
}

async fn execution(
    State(state): State<AppState>,
    page: frame::Scoped,
    Path((_, flow, execution)): Path<(String, String, String)>,
) -> Response {
    let core = &state.core;
    let (Ok(flow_sid), Some(sid)) = (parse_flow(&flow), ExecutionSid::parse(&execution)) else {
        return frame::failure(Error::NotFound);
    };
    let found = match executions::fetch(core, &page.principal, &flow_sid, &sid).await {
        Ok(found) => found,
        Err(e) => return frame::failure(e),
    };
    // The canvas of the revision the execution ran (pinned at its start), not the latest.
    let Ok(pinned) = found.flow_version.to_string().parse::<RevisionSelector>() else {
        return frame::failure(Error::NotFound);
    };
    let ran = match revisions::fetch(core, &page.principal, &flow_sid, pinned).await {
        Ok(ran) => ran,
        Err(e) => return frame::failure(e),
    };
    let taken = match steps::list(
        core,
        &page.principal,
        &flow_sid,
        &sid,
        frame::first(STEP_LIMIT),
    )
    .await
    {
        Ok(taken) => taken.items,
        Err(e) => return frame::failure(e),
    };
    // The flow's own steps make the path; a subflow's (with a parent step) ran another flow's
    // widgets, listed but not drawn here.
    let path: Vec<canvas::Step> = taken
        .iter()
        .filter(|s| s.step.parent_step_sid.is_none())
        .map(|s| canvas::Step {
            from: s.step.transitioned_from.clone(),
            event: s.step.name.clone(),
            to: s.step.transitioned_to.clone(),
        })
        .collect();
    // Each drawn step's number, as on the canvas's badges.
    let numbers: Vec<Option<usize>> = taken
        .iter()
        .scan(0, |n, s| {
            Some(s.step.parent_step_sid.is_none().then(|| {
                *n += 1;
                *n
            }))
        })
        .collect();
    let body = html! {
        p {
            a href=(page.link(&format!("studio/{flow_sid}"))) { "← the flow" } " · "
            a href=(page.link(&format!("studio/{flow_sid}/executions"))) { "all executions" }
        }
        (frame::live(html! {
            dl class="facts inline" {
                dt { "SID" } dd { code { (found.sid) } }
                dt { "Contact" } dd { (found.contact_channel_address) " " code class="small" { (found.contact_sid) } }
                dt { "Status" } dd { span id="execution-status" class=(format!("status {}", found.status)) { (found.status) } }
                dt { "Revision" } dd { a href=(page.link(&format!("studio/{flow_sid}/revisions/{}", ran.revision))) { (ran.revision) } " · " (ran.content.friendly_name) }
                dt { "Started" } dd { (frame::when(found.date_created)) }
                dt { "Updated" } dd { (frame::when(found.date_updated)) }
                dt { "Steps" } dd id="step-count" data-steps=(path.len()) { (taken.len()) }
                @if found.status == "active" {
                    @if let Some(last) = path.last() {
                        // An active execution waits at the widget its last step led to.
                        dt { "Waiting at" } dd id="waiting-at" { strong { (last.to) } }
                    }
                }
            }
            div class="execution-layout" {
                div class="canvas-wrap" { (canvas::flow_canvas(&ran.content.definition, &path)) }
                aside class="steps-pane" {
                    h2 { "Steps" }
                    @if taken.is_empty() { (frame::empty("steps")) }
                    @else {
                        ol class="steps" id="steps" {
                            @for (s, n) in taken.iter().zip(&numbers) {
                                li class=(if n.is_some() { "step" } else { "step subflow" }) id=(s.step.sid) {
                                    span class="step-number" { @if let Some(n) = n { (n) } @else { "↳" } }
                                    strong { (s.step.transitioned_from) }
                                    " —" span class="chip" { (s.step.name) } "→ "
                                    strong { (s.step.transitioned_to) }
                                    div class="small" { (s.step.kind) " · " (frame::when(s.step.date_created)) }
                                    details { summary { "step context" } (frame::json_block(&s.step.context)) }
                                }
                            }
                        }
                    }
                    h2 { "Execution context" }
                    (frame::json_block(&found.context().unwrap_or_default()))
                }
            }
        }))
    };
    page.page(
        "studio",
        &format!("Execution · {}", ran.content.friendly_name),
        body,
    )
}
