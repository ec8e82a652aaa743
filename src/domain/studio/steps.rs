//! Execution Steps (`studio.v2.flow.execution.execution_step`) and their Context: one step
//! per widget run, in the order they ran, written by the engine (see `engine`); read-only
//! here. A step's context is what its widget produced (its `widgets.<name>` entry), or why it
//! stopped (`emulator`) *(ours: Twilio does not document a step context's content)*.

use serde_json::Value;

use crate::{
    domain::{
        Core,
        auth::Principal,
        found_value,
        paging::{Page, PageRequest},
        read_back,
        sid::{AccountSid, ExecutionSid, FlowSid, StepSid},
    },
    error::{Error, Result},
    store::{query::Owned, studio::steps::StepRow},
};

#[derive(Debug, Clone)]
pub struct Step {
    pub sid: StepSid,
    pub execution_sid: ExecutionSid,
    pub parent_step_sid: Option<StepSid>,
    pub name: String,
    pub kind: String,
    pub transitioned_from: String,
    pub transitioned_to: String,
    pub context: Value,
    pub date_created: i64,
}

read_back!(|row: StepRow| -> Step {
    parsed: sid, execution_sid;
    optional: parent_step_sid;
    json: context;
    computed: kind = row.r#type;
    copied: name, transitioned_from, transitioned_to, date_created;
});

/// A step with the flow and account it belongs to (the wire shape repeats both).
#[derive(Debug, Clone)]
pub struct OwnedStep {
    pub account_sid: AccountSid,
    pub flow_sid: FlowSid,
    pub step: Step,
}

/// 404 unless the execution is the caller's, under that flow.
async fn require_execution(
    core: &Core,
    principal: &Principal,
    flow_sid: &FlowSid,
    execution_sid: &ExecutionSid,
) -> Result<()> {
    core.store
        .execution_exists(
            principal.account_sid.as_str(),
            flow_sid.as_str(),
            execution_sid.as_str(),
        )
        .await?
        .then_some(())
        .ok_or(Error::NotFound)
}

pub async fn list(
    core: &Core,
    principal: &Principal,
    flow_sid: &FlowSid,
    execution_sid: &ExecutionSid,
    request: PageRequest,
) -> Result<Page<OwnedStep>> {
    require_execution(core, principal, flow_sid, execution_sid).await?;
    let rows = core
        .store
        .list_steps(execution_sid.as_str(), request.keyset())
        .await?;
    Page::from_rows(request, rows, StepRow::seq).try_map(|row| {
        Ok(OwnedStep {
            account_sid: principal.account_sid.clone(),
            flow_sid: flow_sid.clone(),
            step: Step::try_from(row)?,
        })
    })
}

pub async fn fetch(
    core: &Core,
    principal: &Principal,
    flow_sid: &FlowSid,
    execution_sid: &ExecutionSid,
    sid: &StepSid,
) -> Result<OwnedStep> {
    require_execution(core, principal, flow_sid, execution_sid).await?;
    let step = found_value(
        core.store
            .fetch_step(execution_sid.as_str(), sid.as_str())
            .await?,
    )?;
    Ok(OwnedStep {
        account_sid: principal.account_sid.clone(),
        flow_sid: flow_sid.clone(),
        step,
    })
}
