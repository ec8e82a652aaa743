//! Executions (`studio.v2.flow.execution`) and their Context: create runs the flow (see
//! `engine`) before answering, so the 201 shows the execution as it stands after its first
//! run: `ended`, or `active` when a send-and-wait-for-reply waits.
//!
//! - TestUsers gate the draft (seed page 000: test users "can test the latest drafts of a Flow
//!   even if they aren't yet published"): `To` (the contact, trimmed) in the flow's TestUsers
//!   runs the latest revision, draft or published; anyone else the latest published one; a
//!   flow never published refuses other contacts with 404 20404 *(ours)*. The revision is
//!   pinned (`flow_version`): a later publish never changes a running execution.
//! - One active execution per flow and `To`/`From` (Twilio: "Only one Execution can be active
//!   at a time for the same To/From combination"): the database's partial unique index
//!   decides; a second create is 409 20409 "… already active for this contact".
//! - `Status=ended` ends it (and its wait); delete removes it with its steps.
//! - The timeout of a waiting send-and-wait-for-reply is kept with the execution; the
//!   `timeouts` worker takes the widget's `timeout` transition when it passes, after a restart
//!   too.

use std::sync::Arc;

use serde_json::{Map, Value, json};
use tracing::instrument;

use super::{
    engine::{Bookkeeping, Definition, Halt, Run, Start, initial_context},
    revisions::runnable,
    scope::require_flow,
    validate::validation_failed,
};
use crate::{
    domain::{
        Core,
        auth::Principal,
        emulator::clock,
        found, found_value,
        paging::{Page, PageRequest},
        read_back,
        sid::{AccountSid, ContactSid, ExecutionSid, FlowSid, RequestSid},
        stored_json, time,
    },
    error::{Error, Result},
    store::{
        messages::NewMessage,
        query::Owned,
        studio::{
            executions::{DueExecution, ExecutionRow, RunWrite, Started},
            revisions::{RevisionAt, RevisionContent, RevisionRow},
        },
    },
};

pub use crate::store::studio::executions::ExecutionFilter;

/// 409 20409: https://www.twilio.com/docs/errors/20409 (clients match the message's "already
/// active for this contact").
pub const ALREADY_ACTIVE: u32 = 20409;

#[derive(Debug, Clone)]
pub struct Execution {
    pub sid: ExecutionSid,
    pub account_sid: AccountSid,
    pub flow_sid: FlowSid,
    pub contact_sid: ContactSid,
    pub contact_channel_address: String,
    pub flow_version: i64,
    pub status: String,
    pub initiated_by: String,
    /// The latest context as stored (JSON text): parsed only where it is read (`/Context`, a
    /// resume), not for every create, fetch and list row that never shows it.
    pub context: String,
    pub date_created: i64,
    pub date_updated: i64,
    /// The conversation whose `studio` webhook started it.
    pub conversation_sid: Option<String>,
}

read_back!(|row: ExecutionRow| -> Execution {
    parsed: sid, account_sid, flow_sid, contact_sid;
    computed: contact_channel_address = row.contact_address;
    copied: context, flow_version, status, initiated_by, date_created, date_updated, conversation_sid;
});

impl Execution {
    /// The latest context (what `/Context` shows).
    pub fn context(&self) -> Result<Value> {
        stored_json(&self.context, "Execution context")
    }
}

/// What create receives, past the required-parameter checks.
pub struct NewExecution {
    pub to: String,
    pub from: String,
    pub parameters: Map<String, Value>,
}

/// `Parameters`: JSON text of an object (the libraries send `serialize.object(parameters)`);
/// anything else is 400 20001 *(ours)*.
pub fn parse_parameters(raw: Option<&str>) -> Result<Map<String, Value>> {
    match raw.map(str::trim).filter(|r| !r.is_empty()) {
        None => Ok(Map::new()),
        Some(text) => match serde_json::from_str(text) {
            Ok(Value::Object(map)) => Ok(map),
            _ => Err(Error::invalid(
                "Invalid parameter Parameters: must be JSON text of an object",
            )),
        },
    }
}

/// `status` of the list and `Status` of an update: `active` or `ended`.
pub fn parse_status(raw: &str, name: &str) -> Result<&'static str> {
    match raw {
        "active" => Ok("active"),
        "ended" => Ok("ended"),
        _ => Err(Error::invalid(format!(
            "Invalid parameter {name}: must be active or ended"
        ))),
    }
}

/// The revision a contact runs and the flow's active execution for `to`/`from`: the latest
/// revision (draft or published) for a test user (`contact`: the contact's address, or a
/// conversation participant's address or identity), else the latest published; 404 when there
/// is none (or the flow is not the account's: everything is read through the flow's owner, so
/// another account's test users decide nothing). TestUsers are compared trimmed: the store
/// answers an exact match; only a flow with TestUsers none of which matched exactly has its
/// list read to compare trimmed.
async fn revision_for(
    core: &Core,
    principal: &Principal,
    flow_sid: &FlowSid,
    contact: &str,
    to: &str,
    from: &str,
) -> Result<(RevisionRow, Option<String>)> {
    let contact = contact.trim();
    let read = core
        .store
        .execution_start(
            principal.account_sid.as_str(),
            flow_sid.as_str(),
            to,
            from,
            contact,
        )
        .await?
        .ok_or(Error::NotFound)?;
    let mut revision = read.revision;
    if !read.exact_tester && read.has_testers {
        let testers = core.store.flow_test_users(flow_sid.as_str()).await?;
        if testers.iter().any(|t| t.trim() == contact) {
            revision = core
                .store
                .fetch_revision(
                    principal.account_sid.as_str(),
                    flow_sid.as_str(),
                    RevisionAt::Latest,
                )
                .await?;
        }
    }
    Ok((revision.ok_or(Error::NotFound)?, read.active))
}

/// The parsed definition of a revision an execution runs (see `revisions::runnable`): a
/// draft saved with problems refuses to run with Validate's 81022, as a publish does.
fn definition_to_run(flow_sid: &FlowSid, content: &RevisionContent) -> Result<Arc<Value>> {
    if content.errors != "[]" {
        let problems: Vec<Value> = stored_json(&content.errors, "Revision errors")?;
        if !problems.is_empty() {
            return Err(validation_failed(problems));
        }
    }
    runnable(&content.definition)?.ok_or_else(|| {
        Error::internal(anyhow::anyhow!(
            "a revision of flow {flow_sid} does not validate"
        ))
    })
}

#[instrument(skip_all)]
pub async fn create(
    core: &Core,
    principal: &Principal,
    flow_sid: &FlowSid,
    new: NewExecution,
) -> Result<Execution> {
    Ok(start(core, principal, flow_sid, new, Trigger::rest())
        .await?
        .execution)
}

/// What starts an execution: the trigger's event and what it adds to the context.
pub struct Trigger {
    /// `incomingRequest` (REST), `incomingMessage` (an inbound message to an attached number),
    /// `incomingConversationMessage` (a conversation's `studio` webhook).
    pub event: &'static str,
    /// Replaces `trigger` in the context (`trigger.message`, `trigger.conversation`).
    pub context: Option<Value>,
    /// Replaces `contact.channel.address` in the context.
    pub contact: Option<String>,
    /// The conversation the execution runs for.
    pub conversation_sid: Option<String>,
    /// Messages written with the execution (the inbound message that started it).
    pub recorded: Vec<NewMessage>,
}

impl Trigger {
    fn rest() -> Self {
        Self {
            event: "incomingRequest",
            context: None,
            contact: None,
            conversation_sid: None,
            recorded: Vec::new(),
        }
    }
}

/// A run's result: the execution after it, and what its widgets said into its conversation.
pub struct Ran {
    pub execution: Execution,
    pub conversation_posts: Vec<String>,
}

/// Starts an execution of the flow for `new.to` (the contact) on `new.from` and runs it to
/// its first wait or its end; the 409 of an active one is the REST create's.
pub async fn start(
    core: &Core,
    principal: &Principal,
    flow_sid: &FlowSid,
    new: NewExecution,
    trigger: Trigger,
) -> Result<Ran> {
    // Test users are contacts' addresses: a conversation's execution runs for the
    // conversation (`new.to`), but its contact is the participant who wrote (`trigger.contact`).
    let contact = trigger.contact.as_deref().unwrap_or(&new.to);
    let (revision, active) =
        revision_for(core, principal, flow_sid, contact, &new.to, &new.from).await?;
    let definition = definition_to_run(flow_sid, &revision.content)?;
    // A look first, so a refused create runs nothing (no HTTP widget calls out); the unique
    // index decides when two creates race.
    if let Some(active) = active {
        return Err(already_active(&active));
    }
    let sid = ExecutionSid::new();
    let mut context = initial_context(&sid, flow_sid, &new.to, &new.from, &new.parameters);
    if let Some(trigger_context) = trigger.context {
        context["trigger"] = trigger_context;
    }
    if let Some(contact) = trigger.contact {
        context["contact"]["channel"]["address"] = Value::String(contact);
    }
    let now_ms = time::now_ms();
    let (mut run, messages, conversation_posts) = run(
        core,
        &principal.account_sid,
        &sid,
        &definition,
        &mut context,
        Bookkeeping::default(),
        Start::Trigger(trigger.event),
        now_ms,
        trigger.conversation_sid.clone(),
    )
    .await?;
    let row = ExecutionRow {
        seq: 0,
        sid: sid.to_string(),
        account_sid: principal.account_sid.to_string(),
        flow_sid: flow_sid.to_string(),
        contact_sid: String::new(),
        contact_address: new.to,
        from_address: new.from,
        flow_version: revision.revision,
        status: run.status.into(),
        initiated_by: RequestSid::new().to_string(),
        // The row carries the run's state (`start_execution` writes it with the first run
        // counted); the run keeps its steps.
        context: std::mem::take(&mut run.context),
        engine: std::mem::take(&mut run.engine),
        waiting_widget: run.waiting_widget.take(),
        wake_at: run.wake_at,
        date_created: run.now,
        date_updated: run.now,
        conversation_sid: trigger.conversation_sid,
        runs: 1,
    };
    let waits = run.wake_at.is_some();
    let mut recorded = trigger.recorded;
    recorded.extend(messages);
    match core
        .store
        .start_execution(row, ContactSid::new().as_str(), run, recorded)
        .await?
    {
        Started::Started(stored) => {
            if waits {
                core.studio.wake.notify_one();
            }
            Ok(Ran {
                execution: Execution::try_from(*stored)?,
                conversation_posts,
            })
        }
        Started::AlreadyActive(active) => Err(already_active(&active)),
    }
}

/// 409 20409 for a contact with an active execution.
fn already_active(active: &str) -> Error {
    Error::Conflict {
        code: ALREADY_ACTIVE,
        status: 409,
        message: format!(
            "Execution {active} is already active for this contact. End the active Execution \
             before creating a new one."
        ),
    }
}

/// Runs the execution from `start` (in memory: nothing is written) and returns what to write:
/// its new state with the steps, and the messages it sent. `definition` comes from
/// `revisions::runnable`, so it has been validated.
#[allow(clippy::too_many_arguments)]
async fn run(
    core: &Core,
    account_sid: &AccountSid,
    sid: &ExecutionSid,
    definition: &Value,
    context: &mut Value,
    book: Bookkeeping,
    start: Start<'_>,
    now_ms: i64,
    conversation: Option<String>,
) -> Result<(RunWrite, Vec<NewMessage>, Vec<String>)> {
    let Some(definition) = Definition::of_validated(definition) else {
        return Err(Error::internal(anyhow::anyhow!(
            "execution {sid} runs a revision that does not validate"
        )));
    };
    let mut run =
        Run::new(core, account_sid, sid, book, now_ms, now_ms / 1000).in_conversation(conversation);
    let halt = match start {
        Start::Resume {
            widget,
            event,
            adds,
        } => {
            run.resume(&definition, context, widget, event, adds)
                .await?
        }
        start => run.go(&definition, context, start, None, 0).await?,
    };
    let (status, waiting_widget, wake_at) = match halt {
        Halt::Ended | Halt::Stopped => ("ended", None, None),
        // The wait times out on the account's clock (read only for a run that waits: creates
        // that end at once pay nothing for it).
        Halt::Waiting { widget, wake_at } => {
            let offset = clock::read(core, account_sid.as_str()).await?.offset_secs;
            ("active", Some(widget), Some(wake_at.saturating_add(offset)))
        }
    };
    let now = now_ms / 1000;
    let write = RunWrite {
        status,
        context: context.to_string(),
        engine: json!(run.book).to_string(),
        waiting_widget,
        wake_at,
        steps: run
            .steps
            .into_iter()
            .map(|step| step.into_row(sid, now))
            .collect(),
        now,
        now_ms,
    };
    Ok((write, run.messages, run.conversation_posts))
}

/// Takes the `timeout` transition of an execution whose wait has passed (the `timeouts`
/// worker's call). Nothing happens when it no longer waits there.
pub async fn time_out(core: &Core, due: &DueExecution) -> Result<()> {
    let Some(row) = core.store.execution_by_sid(&due.sid).await? else {
        return Ok(());
    };
    if row.wake_at != Some(due.wake_at) {
        return Ok(());
    }
    if let Some(ran) = resume(core, row, "timeout", None, Vec::new()).await? {
        deliver_posts(core, ran);
    }
    Ok(())
}

/// Hands what a timed-out run said into its conversation to whoever posts it (the emulator's
/// routing, which knows Conversations; this module does not).
fn deliver_posts(core: &Core, ran: Ran) {
    if let (Some(post), Some(conversation)) = (
        core.studio.conversation_poster.get(),
        ran.execution.conversation_sid.clone(),
    ) && !ran.conversation_posts.is_empty()
    {
        post(
            core.clone(),
            ran.execution.account_sid.clone(),
            conversation,
            ran.conversation_posts,
        );
    }
}

/// Resumes an execution waiting in a send-and-wait-for-reply with `event` (`incomingMessage`
/// with `adds = ("inbound", …)`, or `timeout`), writing `recorded` (the reply) with its run.
/// `None` when it no longer waits where it was read: another reply or its timeout came first
/// (the write is guarded by the execution's run count, so one wait resumes once, even when a
/// flow loops back to the same wait within the same second).
pub async fn resume(
    core: &Core,
    row: ExecutionRow,
    event: &str,
    adds: Option<(String, Value)>,
    recorded: Vec<NewMessage>,
) -> Result<Option<Ran>> {
    let (Some(widget), Some(_)) = (row.waiting_widget.clone(), row.wake_at) else {
        return Ok(None);
    };
    let read_runs = row.runs;
    if row.status != "active" {
        return Ok(None);
    }
    let conversation_sid = row.conversation_sid.clone();
    let book: Bookkeeping = stored_json(&row.engine, "Execution engine")?;
    let execution = Execution::try_from(row)?;
    let Some(revision) = core
        .store
        .fetch_revision(
            execution.account_sid.as_str(),
            execution.flow_sid.as_str(),
            RevisionAt::Number(execution.flow_version),
        )
        .await?
    else {
        return Ok(None);
    };
    let Some(definition) = runnable(&revision.content.definition)? else {
        return Err(Error::internal(anyhow::anyhow!(
            "execution {} runs a revision that does not validate",
            execution.sid
        )));
    };
    let mut context = execution.context()?;
    let (write, messages, conversation_posts) = run(
        core,
        &execution.account_sid,
        &execution.sid,
        &definition,
        &mut context,
        book,
        Start::Resume {
            widget: &widget,
            event,
            adds,
        },
        time::now_ms(),
        conversation_sid,
    )
    .await?;
    let waits = write.wake_at.is_some();
    let mut all = recorded;
    all.extend(messages);
    let Some(saved) = core
        .store
        .save_run(execution.sid.as_str(), read_runs, write, all)
        .await?
    else {
        return Ok(None);
    };
    if waits {
        core.studio.wake.notify_one();
    }
    Ok(Some(Ran {
        execution: Execution::try_from(saved)?,
        conversation_posts,
    }))
}

/// The timeouts worker: takes the `timeout` transition of every waiting execution whose
/// timeout has passed, sleeping until the next one is due (at most a minute, and woken when an
/// execution starts waiting). Timeouts that passed while the server was down fire at start.
pub async fn run_timeouts(core: Core) {
    loop {
        let due = match core.store.due_executions(time::now(), 50).await {
            Ok(due) => due,
            Err(e) => {
                tracing::warn!(error = %e, "reading timed-out Studio executions failed");
                Vec::new()
            }
        };
        for execution in &due {
            if let Err(e) = time_out(&core, execution).await {
                // Ended, so that it is not retried for ever and frees its contact.
                tracing::warn!(execution = %execution.sid, error = %e, "a Studio timeout failed; the execution is ended");
                let _ = core
                    .store
                    .end_execution(&execution.flow_sid, &execution.sid, time::now())
                    .await;
            }
        }
        if due.len() == 50 {
            continue;
        }
        let next = core.store.next_wake().await.ok().flatten();
        let wait = next.map(|at| (at - time::now()).clamp(0, 60)).unwrap_or(60);
        // `wake_at` is in whole seconds: wait past the second it names.
        let wait = std::time::Duration::from_millis(wait as u64 * 1000 + 50);
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = core.studio.wake.notified() => {}
        }
    }
}

pub async fn list(
    core: &Core,
    principal: &Principal,
    flow_sid: &FlowSid,
    filter: ExecutionFilter,
    request: PageRequest,
) -> Result<Page<Execution>> {
    require_flow(core, principal, flow_sid).await?;
    let rows = core
        .store
        .list_executions(flow_sid.as_str(), &filter, request.keyset())
        .await?;
    Page::from_rows(request, rows, ExecutionRow::seq).try_map(Execution::try_from)
}

pub async fn fetch(
    core: &Core,
    principal: &Principal,
    flow_sid: &FlowSid,
    sid: &ExecutionSid,
) -> Result<Execution> {
    found_value(
        core.store
            .fetch_execution(
                principal.account_sid.as_str(),
                flow_sid.as_str(),
                sid.as_str(),
            )
            .await?,
    )
}

/// `Status=ended`: ends the execution and anything it waits for (an ended one stays ended).
#[instrument(skip_all)]
pub async fn end(
    core: &Core,
    principal: &Principal,
    flow_sid: &FlowSid,
    sid: &ExecutionSid,
) -> Result<Execution> {
    require_flow(core, principal, flow_sid).await?;
    found_value(
        core.store
            .end_execution(flow_sid.as_str(), sid.as_str(), time::now())
            .await?,
    )
}

#[instrument(skip_all)]
pub async fn delete(
    core: &Core,
    principal: &Principal,
    flow_sid: &FlowSid,
    sid: &ExecutionSid,
) -> Result<()> {
    require_flow(core, principal, flow_sid).await?;
    found(
        core.store
            .delete_owned::<ExecutionRow>(flow_sid.as_str(), sid.as_str())
            .await?,
    )
}
