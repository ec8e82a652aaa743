//! Rows of `flows`, `flow_revisions` and `flow_test_users`.

use sqlx::{FromRow, QueryBuilder, Sqlite};

use super::{Keyset, Store, StoreResult};

/// A flow joined with one of its revisions (its latest, or the one asked for).
#[derive(Debug, Clone, FromRow)]
pub struct FlowRow {
    pub seq: i64,
    pub sid: String,
    pub account_sid: String,
    pub revision: i64,
    pub friendly_name: String,
    pub status: String,
    pub definition: String,
    pub commit_message: Option<String>,
    pub errors: String,
    pub date_created: i64,
    pub date_updated: Option<i64>,
}

/// The content of one revision.
#[derive(Debug, Clone, PartialEq, FromRow)]
pub struct RevisionContent {
    pub friendly_name: String,
    pub status: String,
    pub definition: String,
    pub commit_message: Option<String>,
    /// JSON array of validation problems.
    pub errors: String,
}

const FLOW_SELECT: &str = "select f.seq, f.sid, f.account_sid, r.revision, r.friendly_name, r.status, \
     r.definition, r.commit_message, r.errors, f.date_created, f.date_updated \
     from flows f join flow_revisions r on r.flow_sid = f.sid and r.revision = f.revision";

/// A revision as its own resource: its own date, no flow date_updated.
const REVISION_SELECT: &str = "select f.seq, f.sid, f.account_sid, r.revision, r.friendly_name, r.status, \
     r.definition, r.commit_message, r.errors, r.date_created, null as date_updated \
     from flows f join flow_revisions r on r.flow_sid = f.sid";

/// How an update ended.
pub enum FlowUpdate {
    Updated(FlowRow),
    Unchanged(FlowRow),
    NotFound,
}

impl Store {
    pub async fn create_flow(
        &self,
        sid: &str,
        account_sid: &str,
        content: RevisionContent,
        now: i64,
    ) -> StoreResult<FlowRow> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "insert into flows (sid, account_sid, revision, date_created) values (?, ?, 1, ?)",
        )
        .bind(sid)
        .bind(account_sid)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        insert_revision(&mut tx, sid, 1, &content, now).await?;
        let row = fetch_latest(&mut tx, account_sid, sid).await?;
        tx.commit().await?;
        row.ok_or_else(|| sqlx::Error::RowNotFound.into())
    }

    pub async fn fetch_flow(&self, account_sid: &str, sid: &str) -> StoreResult<Option<FlowRow>> {
        let mut conn = self.pool.acquire().await?;
        fetch_latest(&mut conn, account_sid, sid).await
    }

    pub async fn flow_exists(&self, account_sid: &str, sid: &str) -> StoreResult<bool> {
        let found: Option<i64> =
            sqlx::query_scalar("select seq from flows where account_sid = ? and sid = ?")
                .bind(account_sid)
                .bind(sid)
                .fetch_optional(&self.pool)
                .await?;
        Ok(found.is_some())
    }

    pub async fn list_flows(&self, account_sid: &str, keyset: Keyset) -> StoreResult<Vec<FlowRow>> {
        let mut qb = QueryBuilder::<Sqlite>::new(FLOW_SELECT);
        qb.push(" where f.account_sid = ").push_bind(account_sid);
        keyset.push(&mut qb, "f.seq");
        Ok(qb.build_query_as::<FlowRow>().fetch_all(&self.pool).await?)
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
        let Some(current) = fetch_latest(&mut tx, account_sid, sid).await? else {
            return Ok(FlowUpdate::NotFound);
        };
        let Some(content) = next(&current) else {
            return Ok(FlowUpdate::Unchanged(current));
        };
        let revision = current.revision + 1;
        insert_revision(&mut tx, sid, revision, &content, now).await?;
        sqlx::query("update flows set revision = ?, date_updated = ? where sid = ?")
            .bind(revision)
            .bind(now)
            .bind(sid)
            .execute(&mut *tx)
            .await?;
        let row = fetch_latest(&mut tx, account_sid, sid).await?;
        tx.commit().await?;
        Ok(row.map_or(FlowUpdate::NotFound, FlowUpdate::Updated))
    }

    /// True when a flow was deleted (its revisions and test users go with it).
    pub async fn delete_flow(&self, account_sid: &str, sid: &str) -> StoreResult<bool> {
        let done = sqlx::query("delete from flows where account_sid = ? and sid = ?")
            .bind(account_sid)
            .bind(sid)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    pub async fn list_revisions(
        &self,
        account_sid: &str,
        sid: &str,
        keyset: Keyset,
    ) -> StoreResult<Vec<FlowRow>> {
        let mut qb = QueryBuilder::<Sqlite>::new(REVISION_SELECT);
        qb.push(" where f.account_sid = ")
            .push_bind(account_sid)
            .push(" and f.sid = ")
            .push_bind(sid);
        keyset.push(&mut qb, "r.revision");
        Ok(qb.build_query_as::<FlowRow>().fetch_all(&self.pool).await?)
    }

    /// A revision by number; `None` for the latest published one.
    pub async fn fetch_revision(
        &self,
        account_sid: &str,
        sid: &str,
        revision: Option<i64>,
    ) -> StoreResult<Option<FlowRow>> {
        let mut qb = QueryBuilder::<Sqlite>::new(REVISION_SELECT);
        qb.push(" where f.account_sid = ")
            .push_bind(account_sid)
            .push(" and f.sid = ")
            .push_bind(sid);
        match revision {
            Some(n) => {
                qb.push(" and r.revision = ").push_bind(n);
            }
            None => {
                qb.push(" and r.status = 'published' order by r.revision desc limit 1");
            }
        }
        Ok(qb
            .build_query_as::<FlowRow>()
            .fetch_optional(&self.pool)
            .await?)
    }

    /// The flow's test users in order; `None` when the flow is not the account's.
    pub async fn test_users(
        &self,
        account_sid: &str,
        sid: &str,
    ) -> StoreResult<Option<Vec<String>>> {
        if !self.flow_exists(account_sid, sid).await? {
            return Ok(None);
        }
        Ok(Some(select_test_users(&self.pool, sid).await?))
    }

    /// Replaces the whole list in one transaction: readers see the old list or the new one,
    /// never a mix. `false` when the flow is not the account's.
    pub async fn replace_test_users(
        &self,
        account_sid: &str,
        sid: &str,
        identities: &[String],
    ) -> StoreResult<bool> {
        let (account_sid, sid, identities) =
            (account_sid.to_owned(), sid.to_owned(), identities.to_vec());
        self.writer
            .write(move |conn| {
                Box::pin(async move {
                    let found: Option<i64> = sqlx::query_scalar(
                        "select seq from flows where account_sid = ? and sid = ?",
                    )
                    .bind(&account_sid)
                    .bind(&sid)
                    .fetch_optional(&mut *conn)
                    .await?;
                    if found.is_none() {
                        return Ok(false);
                    }
                    write_test_users(conn, &sid, &identities).await?;
                    Ok(true)
                })
            })
            .await
    }
}

/// A flow's test users, in order.
pub(super) async fn select_test_users<'c>(
    db: impl sqlx::SqliteExecutor<'c>,
    sid: &str,
) -> StoreResult<Vec<String>> {
    Ok(sqlx::query_scalar(
        "select identity from flow_test_users where flow_sid = ? order by position",
    )
    .bind(sid)
    .fetch_all(db)
    .await?)
}

/// Makes the flow's test users exactly `identities` (on an open transaction).
pub(super) async fn write_test_users(
    conn: &mut sqlx::SqliteConnection,
    sid: &str,
    identities: &[String],
) -> StoreResult<()> {
    sqlx::query("delete from flow_test_users where flow_sid = ?")
        .bind(sid)
        .execute(&mut *conn)
        .await?;
    for (position, identity) in identities.iter().enumerate() {
        sqlx::query("insert into flow_test_users (flow_sid, position, identity) values (?, ?, ?)")
            .bind(sid)
            .bind(position as i64)
            .bind(identity)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

pub(super) async fn insert_revision(
    conn: &mut sqlx::SqliteConnection,
    sid: &str,
    revision: i64,
    content: &RevisionContent,
    now: i64,
) -> StoreResult<()> {
    sqlx::query(
        "insert into flow_revisions (flow_sid, revision, friendly_name, status, definition, \
         commit_message, errors, date_created) values (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(sid)
    .bind(revision)
    .bind(&content.friendly_name)
    .bind(&content.status)
    .bind(&content.definition)
    .bind(&content.commit_message)
    .bind(&content.errors)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

async fn fetch_latest(
    conn: &mut sqlx::SqliteConnection,
    account_sid: &str,
    sid: &str,
) -> StoreResult<Option<FlowRow>> {
    let mut qb = QueryBuilder::<Sqlite>::new(FLOW_SELECT);
    qb.push(" where f.account_sid = ")
        .push_bind(account_sid)
        .push(" and f.sid = ")
        .push_bind(sid);
    Ok(qb.build_query_as::<FlowRow>().fetch_optional(conn).await?)
}
