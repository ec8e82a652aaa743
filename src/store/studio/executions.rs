//! Rows of `studio_executions` (and `studio_contacts`, the stable `FC` SID of each contact of a
//! flow). At most one execution per (flow, `To`, `From`) is `active`: a partial unique index
//! decides, so concurrent creates cannot both win. A run's steps, status and context are
//! written in one transaction (`save_run`), guarded so that a run only lands on the state it
//! started from (an execution ended meanwhile stays ended).

use std::sync::Arc;

use super::{
    revisions::{RevisionContent, RevisionRow},
    steps::StepRow,
};
use crate::store::{
    Conn, Keyset, Sql, Store, StoreResult,
    db::sql,
    error::{StoreError, classify},
    messages::{NewMessage, write_message},
    query::{Columns, Deletable, Owned, fetch_all, fetch_optional, owned_table, row},
};

row! {
    /// One execution. `engine` and `context` are JSON text; `waiting_widget`/`wake_at` are set
    /// while a send-and-wait-for-reply waits.
    #[derive(Debug, Clone)]
    pub struct ExecutionRow {
        seq: i64,
        sid: String,
        account_sid: String,
        flow_sid: String,
        contact_sid: String,
        contact_address: String,
        from_address: String,
        flow_version: i64,
        status: String,
        initiated_by: String,
        context: String,
        engine: String,
        waiting_widget: Option<String>,
        wake_at: Option<i64>,
        date_created: i64,
        date_updated: i64,
        conversation_sid: Option<String>,
        /// Runs written so far (`write_run` lands only on the count its run read).
        runs: i64,
    }
}
owned_table!(EXECUTIONS: ExecutionRow = "studio_executions" by "flow_sid");
impl Deletable for ExecutionRow {}

/// The list's filters (`status`, `DateCreatedFrom` inclusive, `DateCreatedTo` exclusive).
#[derive(Debug, Default, Clone)]
pub struct ExecutionFilter {
    pub status: Option<&'static str>,
    pub created_from: Option<i64>,
    pub created_to: Option<i64>,
}

/// What a run leaves: the execution's new state and the steps it recorded.
#[derive(Debug, Clone)]
pub struct RunWrite {
    pub status: &'static str,
    pub context: String,
    pub engine: String,
    pub waiting_widget: Option<String>,
    pub wake_at: Option<i64>,
    pub steps: Vec<StepRow>,
    /// Unix seconds (the execution's dates) and milliseconds (its messages').
    pub now: i64,
    pub now_ms: i64,
}

/// How a create ended.
pub enum Started {
    Started(Box<ExecutionRow>),
    /// Another execution of the flow is active for this contact (its SID).
    AlreadyActive(String),
}

/// An execution whose send-and-wait-for-reply timeout has passed.
#[derive(Debug, Clone, sqlx::FromRow, serde::Deserialize)]
pub struct DueExecution {
    pub sid: String,
    pub flow_sid: String,
    pub wake_at: i64,
}

/// What an execution's create reads before it runs, in one query (see
/// [`Store::execution_start`]).
#[derive(Debug, sqlx::FromRow, serde::Deserialize)]
struct StartReadRow {
    revision: Option<i64>,
    friendly_name: Option<String>,
    status: Option<String>,
    definition: Option<String>,
    commit_message: Option<String>,
    errors: Option<String>,
    date_created: Option<i64>,
    exact_tester: bool,
    has_testers: bool,
    active: Option<String>,
}

/// What an execution's create needs to know of its flow before it runs.
#[derive(Debug)]
pub struct StartRead {
    /// The latest revision if the contact is one of the flow's TestUsers exactly as stored,
    /// else the latest published one (`None`: there is none).
    pub revision: Option<RevisionRow>,
    /// The contact is one of the TestUsers exactly as stored.
    pub exact_tester: bool,
    /// The flow has TestUsers at all (a contact that matches none exactly may still match one
    /// the domain compares trimmed).
    pub has_testers: bool,
    /// The flow's active execution for this `To`/`From`, if any.
    pub active: Option<String>,
}

impl Store {
    /// The account's flow as an execution's create reads it before its run (`None`: no such
    /// flow): the revision it runs, whether `tester` is one of its TestUsers, and its active
    /// execution for `contact_address`/`from_address` — one round trip instead of three.
    pub async fn execution_start(
        &self,
        account_sid: &str,
        flow_sid: &str,
        contact_address: &str,
        from_address: &str,
        tester: &str,
    ) -> StoreResult<Option<StartRead>> {
        let read = sql(
            "select r.revision, r.friendly_name, r.status, r.definition, r.commit_message, \
             r.errors, r.date_created, t.exact_tester, t.has_testers, \
             (select e.sid from studio_executions e where e.flow_sid = f.sid \
              and e.contact_address = $3 and e.from_address = $4 and e.status = 'active') \
             as active \
             from flows f cross join (select \
              exists (select 1 from flow_test_users where flow_sid = $2 and identity = $5) \
              as exact_tester, \
              exists (select 1 from flow_test_users where flow_sid = $2) as has_testers) t \
             left join flow_revisions r on r.flow_sid = f.sid and r.revision = \
              case when t.exact_tester then f.revision else (select max(p.revision) \
              from flow_revisions p where p.flow_sid = f.sid and p.status = 'published') end \
             where f.account_sid = $1 and f.sid = $2",
        )
        .bind(account_sid)
        .bind(flow_sid)
        .bind(contact_address)
        .bind(from_address)
        .bind(tester)
        .fetch_optional::<StartReadRow>(self)
        .await?;
        Ok(read.map(|read| {
            let revision = match (
                read.revision,
                read.friendly_name,
                read.status,
                read.definition,
                read.errors,
                read.date_created,
            ) {
                (
                    Some(revision),
                    Some(friendly_name),
                    Some(status),
                    Some(definition),
                    Some(errors),
                    Some(date_created),
                ) => Some(RevisionRow {
                    sid: flow_sid.to_owned(),
                    account_sid: account_sid.to_owned(),
                    revision,
                    content: RevisionContent {
                        friendly_name,
                        status,
                        definition,
                        commit_message: read.commit_message,
                        errors,
                    },
                    date_created,
                }),
                _ => None,
            };
            StartRead {
                revision,
                exact_tester: read.exact_tester,
                has_testers: read.has_testers,
                active: read.active,
            }
        }))
    }

    /// The flow's active execution for this contact, if any (a cheap look before a run, so a
    /// refused create makes no HTTP call; the unique index still decides).
    pub async fn active_execution(
        &self,
        flow_sid: &str,
        contact_address: &str,
        from_address: &str,
    ) -> StoreResult<Option<String>> {
        Ok(sql(
            "select sid from studio_executions where flow_sid = $1 and contact_address = $2 \
             and from_address = $3 and status = 'active'",
        )
        .bind(flow_sid)
        .bind(contact_address)
        .bind(from_address)
        .fetch_optional_scalar::<String>(self)
        .await?)
    }

    /// Writes a new execution as its first run left it (`row`: its final status, context and
    /// wait), with the run's steps and messages, in one write through the group-commit writer.
    /// It is inserted `active`, so the unique index refuses it while another execution of the
    /// flow is active for the contact, whatever its run did; a run that ended then sets only
    /// its status (nothing is read back: the row is what was written). The contact gets its
    /// stable SID (`new_contact_sid` when the flow has never seen it).
    pub async fn start_execution(
        &self,
        row: ExecutionRow,
        new_contact_sid: &str,
        run: RunWrite,
        messages: Vec<NewMessage>,
    ) -> StoreResult<Started> {
        let (flow_sid, contact, from) = (
            row.flow_sid.clone(),
            row.contact_address.clone(),
            row.from_address.clone(),
        );
        let written = Arc::new((row, new_contact_sid.to_owned(), run, messages));
        let job = Arc::clone(&written);
        let outcome = self
            .write(move |mut conn| {
                let written = Arc::clone(&job);
                Box::pin(async move {
                    let (row, new_contact_sid, run, messages) = &*written;
                    // A new contact's SID comes back from its insert; a known one's is read.
                    let inserted = sql(
                        "insert into studio_contacts (flow_sid, address, sid) values ($1, $2, $3) \
                         on conflict (flow_sid, address) do nothing returning sid",
                    )
                    .bind(&row.flow_sid)
                    .bind(&row.contact_address)
                    .bind(new_contact_sid)
                    .fetch_optional_scalar::<String>(&mut conn)
                    .await?;
                    let contact_sid = match inserted {
                        Some(sid) => sid,
                        None => sql(
                            "select sid from studio_contacts where flow_sid = $1 and address = $2",
                        )
                        .bind(&row.flow_sid)
                        .bind(&row.contact_address)
                        .fetch_scalar::<String>(&mut conn)
                        .await?,
                    };
                    let mut qb = Sql::new("insert into ");
                    EXECUTIONS.push_into::<ExecutionRow>(&mut qb);
                    qb.push(" values (");
                    let mut values = qb.separated(", ");
                    // The row's columns, with the contact's SID and `active` (see above).
                    ExecutionRow {
                        contact_sid: contact_sid.clone(),
                        status: "active".into(),
                        ..row.clone()
                    }
                    .into_written(&mut values);
                    qb.push(")");
                    qb.execute(&mut conn).await.map_err(classify)?;
                    write_steps_and_messages(&mut conn, &run.steps, messages, run.now_ms).await?;
                    if row.status != "active" {
                        sql("update studio_executions set status = $1 where sid = $2")
                            .bind(&row.status)
                            .bind(&row.sid)
                            .execute(&mut conn)
                            .await?;
                    }
                    Ok(contact_sid)
                })
            })
            .await;
        match outcome {
            Ok(contact_sid) => Ok(Started::Started(Box::new(ExecutionRow {
                contact_sid,
                ..written.0.clone()
            }))),
            Err(StoreError::Conflict(_)) => Ok(Started::AlreadyActive(
                self.active_execution(&flow_sid, &contact, &from)
                    .await?
                    .unwrap_or_default(),
            )),
            Err(e) => Err(e),
        }
    }

    /// Writes a later run's outcome, steps and messages in one write, if the execution is still
    /// active and no other run was written since the run read it (`read_runs`: its `runs`).
    /// `None` when it is not (another reply or its timeout came first, or it ended or was
    /// deleted meanwhile): nothing is written.
    pub async fn save_run(
        &self,
        sid: &str,
        read_runs: i64,
        run: RunWrite,
        messages: Vec<NewMessage>,
    ) -> StoreResult<Option<ExecutionRow>> {
        let sid = sid.to_owned();
        self.write(move |mut conn| {
            let (sid, run, messages) = (sid.clone(), run.clone(), messages.clone());
            Box::pin(async move { write_run(&mut conn, &sid, read_runs, run, &messages).await })
        })
        .await
    }

    /// Ends the flow's execution (and any wait of it); an ended one stays as it is. `None`
    /// when the flow has no such execution.
    pub async fn end_execution(
        &self,
        flow_sid: &str,
        sid: &str,
        now: i64,
    ) -> StoreResult<Option<ExecutionRow>> {
        let assignments = EXECUTIONS
            .assign()
            .set("status", "ended")
            .set("waiting_widget", None::<String>)
            .set("wake_at", None::<i64>);
        let mut qb = assignments.into_builder();
        qb.push(", date_updated = case when status = 'active' then ")
            .push_bind(now)
            .push(" else date_updated end");
        qb.push(" where flow_sid = ")
            .push_bind(flow_sid.to_owned())
            .push(" and sid = ")
            .push_bind(sid.to_owned());
        EXECUTIONS.push_returning(&mut qb);
        fetch_optional(qb, self).await
    }

    /// A page of the flow's executions, in creation order, filtered.
    pub async fn list_executions(
        &self,
        flow_sid: &str,
        filter: &ExecutionFilter,
        keyset: Keyset,
    ) -> StoreResult<Vec<ExecutionRow>> {
        let mut qb = EXECUTIONS.select_owned(flow_sid);
        if let Some(status) = filter.status {
            qb.push(" and status = ").push_bind(status);
        }
        if let Some(from) = filter.created_from {
            qb.push(" and date_created >= ").push_bind(from);
        }
        if let Some(to) = filter.created_to {
            qb.push(" and date_created < ").push_bind(to);
        }
        keyset.push(&mut qb, EXECUTIONS.seq);
        fetch_all(qb, self).await
    }

    /// The account's execution `sid` of flow `flow_sid`, if both are the account's.
    pub async fn fetch_execution(
        &self,
        account_sid: &str,
        flow_sid: &str,
        sid: &str,
    ) -> StoreResult<Option<ExecutionRow>> {
        let mut qb = EXECUTIONS.select_one(flow_sid, sid);
        qb.push(" and account_sid = ")
            .push_bind(account_sid.to_owned());
        fetch_optional(qb, self).await
    }

    /// Whether the account has that execution under that flow (nothing is read: the steps
    /// and contexts only need to know).
    pub async fn execution_exists(
        &self,
        account_sid: &str,
        flow_sid: &str,
        sid: &str,
    ) -> StoreResult<bool> {
        let mut qb = EXECUTIONS.on_owned_key("select 1 from", flow_sid, sid);
        qb.push(" and account_sid = ")
            .push_bind(account_sid.to_owned());
        Ok(qb.exists(self).await?)
    }

    /// Executions whose wait has timed out by `now` on their account's clock (`now` plus the
    /// account's `account_clocks` offset), soonest first (at most `limit`).
    pub async fn due_executions(&self, now: i64, limit: i64) -> StoreResult<Vec<DueExecution>> {
        Ok(sql(
            "select e.sid, e.flow_sid, e.wake_at from studio_executions e \
             left join account_clocks c on c.account_sid = e.account_sid \
             where e.wake_at is not null and e.status = 'active' \
             and e.wake_at <= $1 + coalesce(c.offset_secs, 0) \
             order by e.wake_at limit $2",
        )
        .bind(now)
        .bind(limit)
        .fetch_all::<DueExecution>(self)
        .await?)
    }

    /// When (on the machine's clock) the next wait times out, if any execution waits.
    pub async fn next_wake(&self) -> StoreResult<Option<i64>> {
        Ok(sql(
            "select min(e.wake_at - coalesce(c.offset_secs, 0)) from studio_executions e \
             left join account_clocks c on c.account_sid = e.account_sid \
             where e.wake_at is not null and e.status = 'active'",
        )
        .fetch_scalar::<Option<i64>>(self)
        .await?)
    }

    /// The account's active execution of contact `contact` waiting for a reply on `number`,
    /// the most recent first (an inbound message resumes it).
    pub async fn waiting_execution(
        &self,
        account_sid: &str,
        contact: &str,
        number: &str,
    ) -> StoreResult<Option<ExecutionRow>> {
        let mut qb = EXECUTIONS.select_where("account_sid", account_sid);
        qb.push(" and contact_address = ")
            .push_bind(contact.to_owned())
            .push(" and from_address = ")
            .push_bind(number.to_owned())
            .push(
                " and status = 'active' and waiting_widget is not null order by seq desc limit 1",
            );
        fetch_optional(qb, self).await
    }

    /// The active execution a conversation's `studio` webhook started for flow `flow_sid`.
    pub async fn conversation_execution(
        &self,
        conversation_sid: &str,
        flow_sid: &str,
    ) -> StoreResult<Option<ExecutionRow>> {
        let mut qb = EXECUTIONS.select_where("conversation_sid", conversation_sid);
        qb.push(" and flow_sid = ")
            .push_bind(flow_sid.to_owned())
            .push(" and status = 'active' order by seq desc limit 1");
        fetch_optional(qb, self).await
    }

    /// An execution by SID alone (the timeout worker's read; it is nobody's request).
    pub async fn execution_by_sid(&self, sid: &str) -> StoreResult<Option<ExecutionRow>> {
        fetch_optional(EXECUTIONS.select_where("sid", sid), self).await
    }
}

/// Gives the execution its state after a run and writes the run's steps and messages (on an
/// open transaction), if it is active and has written `read_runs` runs (the count the run
/// read): the count changes with every run, unlike `wake_at`, which a flow looping back to the
/// same wait within one second repeats.
async fn write_run(
    conn: &mut Conn<'_>,
    sid: &str,
    read_runs: i64,
    run: RunWrite,
    messages: &[NewMessage],
) -> StoreResult<Option<ExecutionRow>> {
    let mut qb = EXECUTIONS
        .assign()
        .set("status", run.status)
        .set("context", run.context)
        .set("engine", run.engine)
        .set("waiting_widget", run.waiting_widget)
        .set("wake_at", run.wake_at)
        .set("date_updated", run.now)
        .set("runs", read_runs.saturating_add(1))
        .into_builder();
    qb.push(" where sid = ")
        .push_bind(sid.to_owned())
        .push(" and status = 'active' and runs = ")
        .push_bind(read_runs);
    EXECUTIONS.push_returning(&mut qb);
    let Some(saved) = qb.fetch_optional::<ExecutionRow>(&mut *conn).await? else {
        return Ok(None);
    };
    write_steps_and_messages(conn, &run.steps, messages, run.now_ms).await?;
    Ok(Some(saved))
}

/// A run's steps, in multi-row inserts of at most [`STEPS_PER_INSERT`] rows, and its messages
/// (on an open transaction).
async fn write_steps_and_messages(
    conn: &mut Conn<'_>,
    steps: &[StepRow],
    messages: &[NewMessage],
    now_ms: i64,
) -> StoreResult<()> {
    for message in messages {
        write_message(conn, message, now_ms).await?;
    }
    for chunk in steps.chunks(STEPS_PER_INSERT) {
        let mut qb = Sql::new("insert into ");
        <StepRow as Owned>::TABLE.push_into::<StepRow>(&mut qb);
        qb.push(" ");
        qb.push_values(chunk, |mut values, step| step.push_written(&mut values));
        qb.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Steps per insert: a step binds 9 values, and SQLite's binding costs grow with the square
/// of a statement's parameters (see `bulk`): at most 300 values per statement.
const STEPS_PER_INSERT: usize = 300 / 9;
