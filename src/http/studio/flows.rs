//! `/v2/Flows` and `/v2/Flows/{Sid}`: `studio.v2.flow`.

use axum::{Json, http::StatusCode, routing::get};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{
    domain::{
        required,
        sid::{AccountSid, FlowSid},
        studio::{
            flows::{self, Flow, FlowChanges, NewFlow},
            scope::require_flow,
            validate::{parse_definition, parse_status},
        },
        time::iso8601,
    },
    error::Result,
    http::{
        call::{ApiCall, Created, Listed, created},
        paging::Paging,
        routing::routes,
        urls::{Links, links},
    },
};

routes! {
    "/v2/Flows" => get(list_flows).post(create_flow),
    "/v2/Flows/{Sid}" => get(fetch_flow).post(update_flow).delete(delete_flow),
}

/// A flow's `links`: its subresources.
const FLOW_LINKS: &[(&str, &str)] = &[
    ("executions", "Executions"),
    ("revisions", "Revisions"),
    ("test_users", "TestUsers"),
];

/// `studio.v2.flow`; fields in sorted order (see `http::paging::V1Page`).
#[derive(Serialize)]
struct FlowResource {
    account_sid: AccountSid,
    /// API-created flows have no console user (API.md: author_sid null).
    author_sid: Option<String>,
    commit_message: Option<String>,
    date_created: String,
    date_updated: Option<String>,
    definition: Option<Value>,
    errors: Option<Vec<Value>>,
    friendly_name: String,
    links: Links,
    revision: i64,
    sid: FlowSid,
    status: String,
    url: String,
    valid: Option<bool>,
    warnings: Option<Vec<Value>>,
    webhook_url: String,
}

impl FlowResource {
    /// What fetch, create and update answer.
    fn new(flow: Flow, base: &str) -> Self {
        let url = format!("{base}/v2/Flows/{}", flow.sid);
        let valid = flow.content.valid();
        Self {
            webhook_url: format!(
                "https://webhooks.twilio.com/v1/Accounts/{}/Flows/{}",
                flow.account_sid, flow.sid
            ),
            links: links(&url, FLOW_LINKS),
            url,
            account_sid: flow.account_sid,
            author_sid: None,
            commit_message: flow.content.commit_message,
            date_created: iso8601(flow.date_created),
            date_updated: flow.date_updated.map(iso8601),
            definition: Some(flow.content.definition),
            errors: Some(flow.content.errors),
            friendly_name: flow.content.friendly_name,
            revision: flow.revision,
            sid: flow.sid,
            status: flow.content.status,
            valid: Some(valid),
            // No warnings are ever found (the structural checks report errors only).
            warnings: Some(Vec::new()),
        }
    }

    /// A list item: `null` for definition, commit_message, valid, errors and warnings, as the
    /// spec's list example shows; fetch the flow for them.
    fn list_item(flow: Flow, base: &str) -> Self {
        Self {
            commit_message: None,
            definition: None,
            errors: None,
            valid: None,
            warnings: None,
            ..Self::new(flow, base)
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct FlowForm {
    friendly_name: Option<String>,
    status: Option<String>,
    definition: Option<String>,
    commit_message: Option<String>,
}

impl FlowForm {
    /// Create and Validate: FriendlyName, Status and Definition are required (checked in that
    /// order, all before any format).
    pub(super) fn complete(self) -> Result<NewFlow> {
        let friendly_name = required(self.friendly_name, "FriendlyName")?;
        let status = required(self.status, "Status")?;
        let definition = required(self.definition, "Definition")?;
        Ok(NewFlow {
            friendly_name,
            status: parse_status(&status)?,
            definition: parse_definition(&definition)?,
            commit_message: self.commit_message,
        })
    }

    /// Update: only Status is required; an empty FriendlyName or Definition keeps the latest.
    fn changes(self) -> Result<FlowChanges> {
        let status = required(self.status, "Status")?;
        Ok(FlowChanges {
            friendly_name: self.friendly_name.filter(|n| !n.is_empty()),
            status: parse_status(&status)?,
            definition: self
                .definition
                .filter(|d| !d.is_empty())
                .map(|d| parse_definition(&d))
                .transpose()?,
            commit_message: self.commit_message,
        })
    }
}

async fn create_flow(call: ApiCall<(), FlowForm>) -> Result<Created<FlowResource>> {
    let flow = flows::create(&call.core, &call.principal, call.form.complete()?).await?;
    created(FlowResource::new(flow, &call.base))
}

async fn list_flows(call: ApiCall, Paging(request): Paging) -> Result<Listed<FlowResource>> {
    let page = flows::list(&call.core, &call.principal, request).await?;
    call.v1_list("flows", "/v2/Flows", page, FlowResource::list_item)
}

async fn fetch_flow(call: ApiCall<FlowSid>) -> Result<Json<FlowResource>> {
    let flow = flows::fetch(&call.core, &call.principal, &call.path).await?;
    Ok(Json(FlowResource::new(flow, &call.base)))
}

async fn update_flow(call: ApiCall<FlowSid, FlowForm>) -> Result<Json<FlowResource>> {
    // The update answers "no such flow" itself; only refused parameters look the flow up first,
    // so an unknown flow is 404 before its parameters are judged.
    let changes = match call.form.changes() {
        Ok(changes) => changes,
        Err(refused) => {
            require_flow(&call.core, &call.principal, &call.path).await?;
            return Err(refused);
        }
    };
    let flow = flows::update(&call.core, &call.principal, &call.path, changes).await?;
    Ok(Json(FlowResource::new(flow, &call.base)))
}

async fn delete_flow(call: ApiCall<FlowSid>) -> Result<StatusCode> {
    flows::delete(&call.core, &call.principal, &call.path).await?;
    Ok(StatusCode::NO_CONTENT)
}
