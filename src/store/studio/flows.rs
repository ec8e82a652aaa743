//! Rows of `flows`, each read joined with its latest revision (`flows.revision`).

use sqlx::FromRow;

use super::revisions::{RevisionContent, insert_revision};
use crate::store::{
    Conn, Store, StoreResult,
    db::sql,
    dialect::lock_parent,
    query::{Owned, Table, owned_table, row},
};

/// A flow joined with its latest revision.
#[derive(Debug, Clone, FromRow, serde::Deserialize)]
pub struct FlowRow {
    pub seq: i64,
    pub sid: String,
    pub account_sid: String,
    pub revision: i64,
    #[sqlx(flatten)]
    #[serde(flatten)]
    pub content: RevisionContent,
    pub date_created: i64,
    pub date_updated: Option<i64>,
}

/// Flows as they are read: each joined with its latest revision.
const LATEST: Table = Table {
    from: "flows f join flow_revisions r on r.flow_sid = f.sid and r.revision = f.revision",
    columns: "f.seq, f.sid, f.account_sid, r.revision, r.friendly_name, r.status, r.definition, \
     r.commit_message, r.errors, f.date_created, f.date_updated",
    owner: "f.account_sid",
    sid: "f.sid",
    seq: "f.seq",
};

row! {
    /// A row of the `flows` table itself (its revisions are `flow_revisions`): for existence
    /// checks, deletes, and `seed FILE`/`export`.
    #[derive(Debug, Clone, PartialEq)]
    pub struct FlowRecord {
        seq: i64,
        sid: String,
        account_sid: String,
        revision: i64,
        date_created: i64,
        date_updated: Option<i64>,
    }
}
owned_table!(FLOWS: FlowRecord = "flows" by "account_sid");

impl Owned for FlowRow {
    const TABLE: Table = LATEST;
    fn seq(&self) -> i64 {
        self.seq
    }
}

/// How an update ended.
pub enum FlowUpdate {
    Updated(FlowRow),
    Unchanged(FlowRow),
    NotFound,
}

impl Store {
    /// Inserts the flow with `content` as its revision 1, in one write through the group-commit
    /// writer (a transaction of its own would wait for SQLite's write lock behind the writer's
    /// batches: the p99 of half a second in bench/RESULTS.md). Nothing is read back: the row is
    /// what was written, with the `seq` its insert returns.
    pub async fn create_flow(
        &self,
        sid: &str,
        account_sid: &str,
        content: RevisionContent,
        now: i64,
    ) -> StoreResult<FlowRow> {
        let (sid, account_sid) = (sid.to_owned(), account_sid.to_owned());
        let written = (sid.clone(), account_sid.clone(), content.clone());
        let seq = self
            .write(move |mut conn| {
                let (sid, account_sid, content) = written.clone();
                Box::pin(async move {
                    let seq = sql(
                        "insert into flows (sid, account_sid, revision, date_created) \
                         values ($1, $2, 1, $3) returning seq",
                    )
                    .bind(&sid)
                    .bind(&account_sid)
                    .bind(now)
                    .fetch_scalar::<i64>(&mut conn)
                    .await?;
                    insert_revision(&mut conn, &sid, 1, &content, now).await?;
                    Ok(seq)
                })
            })
            .await?;
        Ok(FlowRow {
            seq,
            sid,
            account_sid,
            revision: 1,
            content,
            date_created: now,
            date_updated: None,
        })
    }

    pub async fn flow_exists(&self, account_sid: &str, sid: &str) -> StoreResult<bool> {
        FLOWS.exists(self, account_sid, sid).await
    }

    /// Adds a revision built by `next` from the latest one, under the write lock so concurrent
    /// updates number their revisions without gaps or clashes. `next` returns `None` when the
    /// update changes nothing (no revision is added).
    pub async fn update_flow<F>(
        &self,
        account_sid: &str,
        sid: &str,
        now: i64,
        next: F,
    ) -> StoreResult<FlowUpdate>
    where
        F: FnOnce(&FlowRow) -> Option<RevisionContent>,
    {
        let mut tx = self.begin_write().await?;
        // Concurrent updates take their revision numbers one after the other.
        lock_parent(&mut tx, "flows", "sid", sid).await?;
        let Some(current) = LATEST.fetch(&mut tx, account_sid, sid).await? else {
            return Ok(FlowUpdate::NotFound);
        };
        let Some(content) = next(&current) else {
            return Ok(FlowUpdate::Unchanged(current));
        };
        let revision = current.revision + 1;
        insert_revision(&mut tx.conn(), sid, revision, &content, now).await?;
        sql("update flows set revision = $1, date_updated = $2 where sid = $3")
            .bind(revision)
            .bind(now)
            .bind(sid)
            .execute(&mut tx)
            .await?;
        let row = LATEST.fetch(&mut tx, account_sid, sid).await?;
        tx.commit().await?;
        Ok(row.map_or(FlowUpdate::NotFound, FlowUpdate::Updated))
    }

    /// True when a flow was deleted (its revisions and test users go with it).
    pub async fn delete_flow(&self, account_sid: &str, sid: &str) -> StoreResult<bool> {
        FLOWS.delete(self, account_sid, sid).await
    }
}

/// Whether the account has the flow (on any connection, e.g. the group-commit writer's).
pub(super) async fn flow_exists_in(
    conn: &mut Conn<'_>,
    account_sid: &str,
    sid: &str,
) -> StoreResult<bool> {
    FLOWS.exists(conn, account_sid, sid).await
}
