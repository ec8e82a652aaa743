//! `GET /v2/Flows/{Sid}/Executions`: always an empty page, so that `links.executions` resolves
//! (executions are not emulated, see `domain::studio::executions`).

use axum::routing::get;
use serde::Serialize;

use crate::{
    domain::{
        sid::FlowSid,
        studio::executions::{self, Execution},
    },
    error::Result,
    http::{
        call::{ApiCall, Listed},
        paging::Paging,
        routing::routes,
    },
};

/// The `PageSize` cap in force since the endpoint was added. The spec's maximum is 1000; the
/// cap only shows in the empty page's `page_size`, and is kept until that is changed on purpose.
const MAX_PAGE_SIZE: u32 = 50;

routes! {
    "/v2/Flows/{Sid}/Executions" => get(list_executions),
}

/// `studio.v2.flow.execution`: no execution exists, so no value of it can be made either.
#[derive(Serialize)]
enum ExecutionResource {}

impl From<Execution> for ExecutionResource {
    fn from(execution: Execution) -> Self {
        match execution {}
    }
}

async fn list_executions(
    call: ApiCall<FlowSid>,
    Paging(request): Paging<MAX_PAGE_SIZE>,
) -> Result<Listed<ExecutionResource>> {
    let page = executions::list(&call.core, &call.principal, &call.path, request).await?;
    let list_path = format!("/v2/Flows/{}/Executions", call.path);
    call.v1_list("executions", &list_path, page, |execution, _| {
        execution.into()
    })
}
