//! `/v2/Flows/{FlowSid}/Executions/{ExecutionSid}/Steps[/{Sid}[/Context]]`:
//! `studio.v2.flow.execution.execution_step` and its `execution_step_context`.

use axum::{Json, routing::get};
use serde::Serialize;
use serde_json::Value;

use crate::{
    domain::{
        sid::{AccountSid, ExecutionSid, FlowSid, StepSid},
        studio::steps::{self, OwnedStep},
        time::iso8601,
    },
    error::Result,
    http::{
        call::{ApiCall, Listed},
        paging::Paging,
        routing::routes,
        urls::{Links, links},
    },
};

routes! {
    "/v2/Flows/{FlowSid}/Executions/{ExecutionSid}/Steps" => get(list_steps),
    "/v2/Flows/{FlowSid}/Executions/{ExecutionSid}/Steps/{Sid}" => get(fetch_step),
    "/v2/Flows/{FlowSid}/Executions/{ExecutionSid}/Steps/{Sid}/Context" => get(fetch_step_context),
}

const STEP_LINKS: &[(&str, &str)] = &[("step_context", "Context")];

/// `studio.v2.flow.execution.execution_step`; fields in sorted order.
#[derive(Serialize)]
struct StepResource {
    account_sid: AccountSid,
    context: Value,
    date_created: String,
    /// A step is never updated; the spec's example shows `null`.
    date_updated: Option<String>,
    execution_sid: ExecutionSid,
    flow_sid: FlowSid,
    links: Links,
    name: String,
    parent_step_sid: Option<StepSid>,
    sid: StepSid,
    transitioned_from: String,
    transitioned_to: String,
    r#type: String,
    url: String,
}

fn step_url(base: &str, owned: &OwnedStep) -> String {
    format!(
        "{base}/v2/Flows/{}/Executions/{}/Steps/{}",
        owned.flow_sid, owned.step.execution_sid, owned.step.sid
    )
}

impl StepResource {
    fn new(owned: OwnedStep, base: &str) -> Self {
        let url = step_url(base, &owned);
        let step = owned.step;
        Self {
            links: links(&url, STEP_LINKS),
            url,
            account_sid: owned.account_sid,
            context: step.context,
            date_created: iso8601(step.date_created),
            date_updated: None,
            execution_sid: step.execution_sid,
            flow_sid: owned.flow_sid,
            name: step.name,
            parent_step_sid: step.parent_step_sid,
            sid: step.sid,
            transitioned_from: step.transitioned_from,
            transitioned_to: step.transitioned_to,
            r#type: step.kind,
        }
    }
}

/// `studio.v2.flow.execution.execution_step.execution_step_context`.
#[derive(Serialize)]
struct StepContextResource {
    account_sid: AccountSid,
    context: Value,
    execution_sid: ExecutionSid,
    flow_sid: FlowSid,
    step_sid: StepSid,
    url: String,
}

async fn list_steps(
    call: ApiCall<(FlowSid, ExecutionSid)>,
    Paging(request): Paging,
) -> Result<Listed<StepResource>> {
    let (flow_sid, execution_sid) = &call.path;
    let page = steps::list(
        &call.core,
        &call.principal,
        flow_sid,
        execution_sid,
        request,
    )
    .await?;
    let list_path = format!("/v2/Flows/{flow_sid}/Executions/{execution_sid}/Steps");
    call.v1_list("steps", &list_path, page, StepResource::new)
}

async fn fetch_step(call: ApiCall<(FlowSid, ExecutionSid, StepSid)>) -> Result<Json<StepResource>> {
    let (flow_sid, execution_sid, sid) = &call.path;
    let step = steps::fetch(&call.core, &call.principal, flow_sid, execution_sid, sid).await?;
    Ok(Json(StepResource::new(step, &call.base)))
}

async fn fetch_step_context(
    call: ApiCall<(FlowSid, ExecutionSid, StepSid)>,
) -> Result<Json<StepContextResource>> {
    let (flow_sid, execution_sid, sid) = &call.path;
    let owned = steps::fetch(&call.core, &call.principal, flow_sid, execution_sid, sid).await?;
    Ok(Json(StepContextResource {
        url: format!("{}/Context", step_url(&call.base, &owned)),
        account_sid: owned.account_sid,
        context: owned.step.context,
        execution_sid: owned.step.execution_sid,
        flow_sid: owned.flow_sid,
        step_sid: owned.step.sid,
    }))
}
