//! `GET /v2/Flows/{Sid}/Executions`: always an empty page, so that `links.executions` resolves
//! (executions are not emulated, see `domain::studio::executions`).

use axum::{Json, Router, extract::State, routing::get};
use serde::Serialize;

use crate::{
    domain::{
        sid::FlowSid,
        studio::executions::{self, Execution},
    },
    error::Result,
    http::{
        extract::{Authed, TwilioPath, TwilioQuery},
        paging::{PagingParams, V1Page, v1_list},
        state::AppState,
        urls::BaseUrl,
    },
};

/// The `PageSize` cap in force since the endpoint was added. The spec's maximum is 1000; the
/// cap only shows in the empty page's `page_size`, and is kept until that is changed on purpose.
const MAX_PAGE_SIZE: u32 = 50;

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/v2/Flows/{Sid}/Executions", get(list_executions))
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
    State(state): State<AppState>,
    Authed(principal): Authed,
    BaseUrl(base): BaseUrl,
    TwilioPath(sid): TwilioPath<FlowSid>,
    TwilioQuery(paging): TwilioQuery<PagingParams>,
) -> Result<Json<V1Page<ExecutionResource>>> {
    let page = executions::list(
        &state.core,
        &principal,
        &sid,
        paging.request(MAX_PAGE_SIZE)?,
    )
    .await?;
    let page = page.map(ExecutionResource::from);
    let list_path = format!("/v2/Flows/{sid}/Executions");
    Ok(Json(v1_list("executions", page, &base, &list_path, &[])))
}
