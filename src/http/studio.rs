//! Studio v2 (API.md §2.1): Flows, Revisions, Validate, TestUsers. URLs are absolute (see
//! `urls`), dates ISO 8601 with `Z`.

use axum::{
    Json, Router,
    extract::State,
    http::StatusCode,
    routing::{get, post},
};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    extract::{Authed, PathParams, TwilioForm, TwilioQuery, required, sid},
    paging::{PagingParams, V1Page, v1_page},
    state::AppState,
    urls::BaseUrl,
};
use crate::{
    domain::{
        paging::Page,
        sid::FlowSid,
        studio::{self, Flow, FlowInput},
        time::iso8601,
    },
    error::Result,
};

/// Spec maximum `PageSize` for Flows and Revisions.
const MAX_PAGE_SIZE: u32 = 1000;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v2/Flows", get(list_flows).post(create_flow))
        .route("/v2/Flows/Validate", post(validate_flow))
        .route(
            "/v2/Flows/{Sid}",
            get(fetch_flow).post(update_flow).delete(delete_flow),
        )
        .route("/v2/Flows/{Sid}/Revisions", get(list_revisions))
        .route("/v2/Flows/{Sid}/Revisions/{Revision}", get(fetch_revision))
        .route(
            "/v2/Flows/{Sid}/TestUsers",
            get(fetch_test_users).post(update_test_users),
        )
        .route("/v2/Flows/{Sid}/Executions", get(list_executions))
}

/// `studio.v2.flow`. List items carry `null` for definition, commit_message, valid, errors and
/// warnings, as the spec's list example shows; fetch/create/update carry them all.
fn flow_json(flow: &Flow, base: &str, full: bool) -> Value {
    let url = format!("{base}/v2/Flows/{}", flow.sid);
    let detail = |v: Value| if full { v } else { Value::Null };
    json!({
        "sid": flow.sid,
        "account_sid": flow.account_sid,
        // API-created flows have no console user (API.md: author_sid null).
        "author_sid": null,
        "friendly_name": flow.friendly_name,
        "definition": detail(flow.definition.clone()),
        "status": flow.status,
        "revision": flow.revision,
        "commit_message": detail(json!(flow.commit_message)),
        "valid": detail(json!(flow.valid())),
        "errors": detail(json!(flow.errors)),
        "warnings": detail(json!([])),
        "date_created": iso8601(flow.date_created),
        "date_updated": flow.date_updated.map(iso8601),
        "webhook_url": format!("https://webhooks.twilio.com/v1/Accounts/{}/Flows/{}", flow.account_sid, flow.sid),
        "url": url,
        "links": {
            "test_users": format!("{url}/TestUsers"),
            "revisions": format!("{url}/Revisions"),
            "executions": format!("{url}/Executions"),
        },
    })
}

/// `studio.v2.flow.flow_revision`.
fn revision_json(flow: &Flow, base: &str) -> Value {
    json!({
        "sid": flow.sid,
        "account_sid": flow.account_sid,
        "author_sid": null,
        "friendly_name": flow.friendly_name,
        "definition": flow.definition,
        "status": flow.status,
        "revision": flow.revision,
        "commit_message": flow.commit_message,
        "valid": flow.valid(),
        "errors": flow.errors,
        "date_created": iso8601(flow.date_created),
        "date_updated": flow.date_updated.map(iso8601),
        "url": format!("{base}/v2/Flows/{}/Revisions/{}", flow.sid, flow.revision),
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct FlowForm {
    friendly_name: Option<String>,
    status: Option<String>,
    definition: Option<String>,
    commit_message: Option<String>,
}

impl FlowForm {
    /// Create and Validate: FriendlyName, Status and Definition are required (checked in that
    /// order, all before any format).
    fn complete(self) -> Result<FlowInput> {
        let friendly_name = required(self.friendly_name, "FriendlyName")?;
        let status = required(self.status, "Status")?;
        let definition = required(self.definition, "Definition")?;
        Ok(FlowInput {
            friendly_name: Some(friendly_name),
            status: studio::parse_status(&status)?,
            definition: Some(studio::parse_definition(&definition)?),
            commit_message: self.commit_message,
        })
    }

    /// Update: only Status is required.
    fn changes(self) -> Result<FlowInput> {
        let status = required(self.status, "Status")?;
        Ok(FlowInput {
            friendly_name: self.friendly_name.filter(|n| !n.is_empty()),
            status: studio::parse_status(&status)?,
            definition: self
                .definition
                .filter(|d| !d.is_empty())
                .map(|d| studio::parse_definition(&d))
                .transpose()?,
            commit_message: self.commit_message,
        })
    }
}

fn flow_sid(path: &PathParams) -> Result<FlowSid> {
    sid(path.get(0)?, FlowSid::parse)
}

async fn create_flow(
    State(state): State<AppState>,
    Authed(principal): Authed,
    BaseUrl(base): BaseUrl,
    TwilioForm(form): TwilioForm<FlowForm>,
) -> Result<(StatusCode, Json<Value>)> {
    let flow = studio::create(&state.core, &principal, form.complete()?).await?;
    Ok((StatusCode::CREATED, Json(flow_json(&flow, &base, true))))
}

async fn list_flows(
    State(state): State<AppState>,
    Authed(principal): Authed,
    BaseUrl(base): BaseUrl,
    TwilioQuery(paging): TwilioQuery<PagingParams>,
) -> Result<Json<V1Page<Value>>> {
    let page = studio::list(&state.core, &principal, paging.request(MAX_PAGE_SIZE)?).await?;
    let items = page
        .items
        .iter()
        .map(|f| flow_json(f, &base, false))
        .collect();
    Ok(Json(v1_page(
        "flows",
        items,
        &page,
        &base,
        "/v2/Flows",
        &[],
    )))
}

async fn fetch_flow(
    State(state): State<AppState>,
    Authed(principal): Authed,
    BaseUrl(base): BaseUrl,
    path: PathParams,
) -> Result<Json<Value>> {
    let flow = studio::fetch(&state.core, &principal, &flow_sid(&path)?).await?;
    Ok(Json(flow_json(&flow, &base, true)))
}

async fn update_flow(
    State(state): State<AppState>,
    Authed(principal): Authed,
    BaseUrl(base): BaseUrl,
    path: PathParams,
    TwilioForm(form): TwilioForm<FlowForm>,
) -> Result<Json<Value>> {
    let sid = flow_sid(&path)?;
    // The update answers "no such flow" itself; only refused parameters look the flow up first,
    // so an unknown flow is 404 before its parameters are judged.
    let changes = match form.changes() {
        Ok(changes) => changes,
        Err(refused) => {
            studio::require_flow(&state.core, &principal, &sid).await?;
            return Err(refused);
        }
    };
    let flow = studio::update(&state.core, &principal, &sid, changes).await?;
    Ok(Json(flow_json(&flow, &base, true)))
}

async fn delete_flow(
    State(state): State<AppState>,
    Authed(principal): Authed,
    path: PathParams,
) -> Result<StatusCode> {
    studio::delete(&state.core, &principal, &flow_sid(&path)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn validate_flow(
    Authed(_): Authed,
    TwilioForm(form): TwilioForm<FlowForm>,
) -> Result<Json<Value>> {
    let input = form.complete()?;
    // The same limits as create, so Validate answers as create would.
    crate::domain::check_chars(input.friendly_name.as_deref(), "FriendlyName", 256)?;
    crate::domain::check_chars(input.commit_message.as_deref(), "CommitMessage", 1024)?;
    if let Some(definition) = &input.definition {
        studio::validate(definition)?;
    }
    Ok(Json(json!({ "valid": true })))
}

async fn list_revisions(
    State(state): State<AppState>,
    Authed(principal): Authed,
    BaseUrl(base): BaseUrl,
    path: PathParams,
    TwilioQuery(paging): TwilioQuery<PagingParams>,
) -> Result<Json<V1Page<Value>>> {
    let sid = flow_sid(&path)?;
    let page = studio::list_revisions(
        &state.core,
        &principal,
        &sid,
        paging.request(MAX_PAGE_SIZE)?,
    )
    .await?;
    let items = page.items.iter().map(|f| revision_json(f, &base)).collect();
    let list_path = format!("/v2/Flows/{sid}/Revisions");
    Ok(Json(v1_page(
        "revisions",
        items,
        &page,
        &base,
        &list_path,
        &[],
    )))
}

async fn fetch_revision(
    State(state): State<AppState>,
    Authed(principal): Authed,
    BaseUrl(base): BaseUrl,
    path: PathParams,
) -> Result<Json<Value>> {
    let sid = flow_sid(&path)?;
    let flow = studio::fetch_revision(&state.core, &principal, &sid, path.get(1)?).await?;
    Ok(Json(revision_json(&flow, &base)))
}

/// `studio.v2.flow.test_user`: `sid` is the flow's, `url` ends in `/TestUsers`.
fn test_users_json(sid: &FlowSid, users: Vec<String>, base: &str) -> Value {
    json!({
        "sid": sid,
        "test_users": users,
        "url": format!("{base}/v2/Flows/{sid}/TestUsers"),
    })
}

async fn fetch_test_users(
    State(state): State<AppState>,
    Authed(principal): Authed,
    BaseUrl(base): BaseUrl,
    path: PathParams,
) -> Result<Json<Value>> {
    let sid = flow_sid(&path)?;
    let users = studio::test_users(&state.core, &principal, &sid).await?;
    Ok(Json(test_users_json(&sid, users, &base)))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TestUsersForm {
    #[serde(default)]
    test_users: Vec<String>,
}

async fn update_test_users(
    State(state): State<AppState>,
    Authed(principal): Authed,
    BaseUrl(base): BaseUrl,
    path: PathParams,
    TwilioForm(form): TwilioForm<TestUsersForm>,
) -> Result<Json<Value>> {
    let sid = flow_sid(&path)?;
    let users = studio::replace_test_users(&state.core, &principal, &sid, form.test_users).await?;
    Ok(Json(test_users_json(&sid, users, &base)))
}

/// Executions are not emulated; the `links.executions` URL still resolves, to an empty page
/// *(ours)*.
async fn list_executions(
    State(state): State<AppState>,
    Authed(principal): Authed,
    BaseUrl(base): BaseUrl,
    path: PathParams,
    TwilioQuery(paging): TwilioQuery<PagingParams>,
) -> Result<Json<V1Page<Value>>> {
    let sid = flow_sid(&path)?;
    studio::require_flow(&state.core, &principal, &sid).await?;
    let page: Page<()> = Page::from_rows(paging.request(50)?, Vec::new(), |_| 0);
    let list_path = format!("/v2/Flows/{sid}/Executions");
    Ok(Json(v1_page(
        "executions",
        Vec::new(),
        &page,
        &base,
        &list_path,
        &[],
    )))
}
