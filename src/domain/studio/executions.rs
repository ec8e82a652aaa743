//! Executions (`studio.v2.flow.execution`) are not emulated *(ours)*: the list answers an empty
//! page so that a flow's `links.executions` URL resolves (DESIGN.md "Studio";
//! `reference/studio-executions.md` describes what emulating them would take).

use super::scope::require_flow;
use crate::{
    domain::{
        Core,
        auth::Principal,
        paging::{Page, PageRequest},
        sid::FlowSid,
    },
    error::Result,
};

/// An execution. None is ever made, so the type has no values.
#[derive(Debug, Clone, Copy)]
pub enum Execution {}

/// The flow's executions: always none, once the flow is known to be the caller's.
pub async fn list(
    core: &Core,
    principal: &Principal,
    sid: &FlowSid,
    request: PageRequest,
) -> Result<Page<Execution>> {
    require_flow(core, principal, sid).await?;
    Ok(Page::from_rows(
        request,
        Vec::new(),
        |never| match *never {},
    ))
}
