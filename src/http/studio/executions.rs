//! `/v2/Flows/{FlowSid}/Executions[/{Sid}[/Context]]`: `studio.v2.flow.execution` and
//! `studio.v2.flow.execution.execution_context`.

use axum::{Json, http::StatusCode, routing::get};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::{
    domain::{
        required,
        sid::{AccountSid, ContactSid, ExecutionSid, FlowSid},
        studio::executions::{
            self, Execution, ExecutionFilter, NewExecution, parse_parameters, parse_status,
        },
        time::{iso8601, parse_iso8601_any},
    },
    error::{Error, Result},
    http::{
        call::{ApiCall, Created, Listed, created},
        extract::TwilioQuery,
        paging::Paging,
        routing::routes,
        urls::{Links, links},
    },
};

routes! {
    "/v2/Flows/{FlowSid}/Executions" => get(list_executions).post(create_execution),
    "/v2/Flows/{FlowSid}/Executions/{Sid}" =>
        get(fetch_execution).post(update_execution).delete(delete_execution),
    "/v2/Flows/{FlowSid}/Executions/{Sid}/Context" => get(fetch_context),
}

/// An execution's `links`.
const EXECUTION_LINKS: &[(&str, &str)] = &[("execution_context", "Context"), ("steps", "Steps")];

/// `studio.v2.flow.execution`; fields in sorted order (see `http::paging::V1Page`).
#[derive(Serialize)]
struct ExecutionResource {
    account_sid: AccountSid,
    contact_channel_address: String,
    contact_sid: ContactSid,
    /// `{}` as in every spec example; the context itself is at `links.execution_context`.
    context: Value,
    date_created: String,
    date_updated: Option<String>,
    flow_sid: FlowSid,
    flow_version: i64,
    initiated_by: String,
    links: Links,
    sid: ExecutionSid,
    status: String,
    url: String,
}

impl ExecutionResource {
    fn new(execution: Execution, base: &str) -> Self {
        let url = execution_url(base, &execution.flow_sid, &execution.sid);
        Self {
            links: links(&url, EXECUTION_LINKS),
            url,
            account_sid: execution.account_sid,
            contact_channel_address: execution.contact_channel_address,
            contact_sid: execution.contact_sid,
            context: json!({}),
            date_created: iso8601(execution.date_created),
            date_updated: Some(iso8601(execution.date_updated)),
            flow_sid: execution.flow_sid,
            flow_version: execution.flow_version,
            initiated_by: execution.initiated_by,
            sid: execution.sid,
            status: execution.status,
        }
    }
}

fn execution_url(base: &str, flow_sid: &FlowSid, sid: &ExecutionSid) -> String {
    format!("{base}/v2/Flows/{flow_sid}/Executions/{sid}")
}

/// `studio.v2.flow.execution.execution_context`.
#[derive(Serialize)]
struct ExecutionContextResource {
    account_sid: AccountSid,
    context: Value,
    execution_sid: ExecutionSid,
    flow_sid: FlowSid,
    url: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateForm {
    to: Option<String>,
    from: Option<String>,
    parameters: Option<String>,
}

impl CreateForm {
    /// `To` and `From` are required (in that order), then `Parameters` must be an object.
    fn complete(self) -> Result<NewExecution> {
        let to = required(self.to, "To")?;
        let from = required(self.from, "From")?;
        Ok(NewExecution {
            to,
            from,
            parameters: parse_parameters(self.parameters.as_deref())?,
        })
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateForm {
    status: Option<String>,
}

/// The list's filters: `status` is lower-case in the spec (and in the libraries' requests).
#[derive(Deserialize)]
struct ListFilters {
    status: Option<String>,
    #[serde(rename = "DateCreatedFrom")]
    date_created_from: Option<String>,
    #[serde(rename = "DateCreatedTo")]
    date_created_to: Option<String>,
}

impl ListFilters {
    fn parse(&self) -> Result<ExecutionFilter> {
        let date = |raw: &Option<String>, name: &str| {
            raw.as_deref()
                .filter(|r| !r.is_empty())
                .map(|r| {
                    parse_iso8601_any(r).ok_or_else(|| {
                        Error::invalid(format!(
                            "Invalid parameter {name}: must be an ISO 8601 date-time"
                        ))
                    })
                })
                .transpose()
        };
        Ok(ExecutionFilter {
            status: self
                .status
                .as_deref()
                .filter(|s| !s.is_empty())
                .map(|s| parse_status(s, "status"))
                .transpose()?,
            created_from: date(&self.date_created_from, "DateCreatedFrom")?,
            created_to: date(&self.date_created_to, "DateCreatedTo")?,
        })
    }

    /// The filters as given, for the paging links.
    fn pairs(&self) -> Vec<(&'static str, &str)> {
        [
            ("status", &self.status),
            ("DateCreatedFrom", &self.date_created_from),
            ("DateCreatedTo", &self.date_created_to),
        ]
        .into_iter()
        .filter_map(|(k, v)| Some((k, v.as_deref().filter(|v| !v.is_empty())?)))
        .collect()
    }
}

async fn create_execution(
    call: ApiCall<FlowSid, CreateForm>,
) -> Result<Created<ExecutionResource>> {
    let (call, form) = call.split_form();
    let new = match form.complete() {
        Ok(new) => new,
        Err(refused) => {
            crate::domain::studio::scope::require_flow(&call.core, &call.principal, &call.path)
                .await?;
            return Err(refused);
        }
    };
    let execution = executions::create(&call.core, &call.principal, &call.path, new).await?;
    created(ExecutionResource::new(execution, &call.base))
}

async fn list_executions(
    call: ApiCall<FlowSid>,
    TwilioQuery(filters): TwilioQuery<ListFilters>,
    Paging(request): Paging,
) -> Result<Listed<ExecutionResource>> {
    let filter = filters.parse()?;
    let page = executions::list(&call.core, &call.principal, &call.path, filter, request).await?;
    let list_path = format!("/v2/Flows/{}/Executions", call.path);
    call.v1_filtered_list(
        "executions",
        &list_path,
        &filters.pairs(),
        page,
        ExecutionResource::new,
    )
}

async fn fetch_execution(
    call: ApiCall<(FlowSid, ExecutionSid)>,
) -> Result<Json<ExecutionResource>> {
    let (flow_sid, sid) = &call.path;
    let execution = executions::fetch(&call.core, &call.principal, flow_sid, sid).await?;
    Ok(Json(ExecutionResource::new(execution, &call.base)))
}

/// `Status=ended` ends the execution; `active` cannot be set again (400 20001) *(ours)*.
async fn update_execution(
    call: ApiCall<(FlowSid, ExecutionSid), UpdateForm>,
) -> Result<Json<ExecutionResource>> {
    let (call, form) = call.split_form();
    let (flow_sid, sid) = &call.path;
    let checked = required(form.status, "Status").and_then(|s| parse_status(&s, "Status"));
    let status = match checked {
        Ok(status) => status,
        Err(refused) => {
            executions::fetch(&call.core, &call.principal, flow_sid, sid).await?;
            return Err(refused);
        }
    };
    if status == "active" {
        executions::fetch(&call.core, &call.principal, flow_sid, sid).await?;
        return Err(Error::invalid(
            "Invalid parameter Status: an Execution can only be updated to ended",
        ));
    }
    let execution = executions::end(&call.core, &call.principal, flow_sid, sid).await?;
    Ok(Json(ExecutionResource::new(execution, &call.base)))
}

async fn delete_execution(call: ApiCall<(FlowSid, ExecutionSid)>) -> Result<StatusCode> {
    let (flow_sid, sid) = &call.path;
    executions::delete(&call.core, &call.principal, flow_sid, sid).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn fetch_context(
    call: ApiCall<(FlowSid, ExecutionSid)>,
) -> Result<Json<ExecutionContextResource>> {
    let (flow_sid, sid) = &call.path;
    let execution = executions::fetch(&call.core, &call.principal, flow_sid, sid).await?;
    let context = execution.context()?;
    Ok(Json(ExecutionContextResource {
        url: format!(
            "{}/Context",
            execution_url(&call.base, &execution.flow_sid, &execution.sid)
        ),
        account_sid: execution.account_sid,
        context,
        execution_sid: execution.sid,
        flow_sid: execution.flow_sid,
    }))
}
