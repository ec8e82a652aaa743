//! Rows of `flow_revisions`: every version of a flow's content, numbered from 1 without gaps
//! (the flow's update takes the write lock, see `flows`). A revision is written once and never
//! changed; it goes with its flow.

use sqlx::FromRow;

use crate::store::{
    Conn, Keyset, Store, StoreResult,
    db::sql,
    query::{Table, fetch_all, fetch_optional},
};

/// The content of one revision, as stored.
#[derive(Debug, Clone, PartialEq, FromRow, serde::Deserialize)]
pub struct RevisionContent {
    pub friendly_name: String,
    pub status: String,
    /// The definition as JSON text.
    pub definition: String,
    pub commit_message: Option<String>,
    /// JSON array of validation problems.
    pub errors: String,
}

/// One revision of a flow, as its own resource.
#[derive(Debug, Clone, FromRow, serde::Deserialize)]
pub struct RevisionRow {
    /// The flow's SID (a revision has none of its own).
    pub sid: String,
    pub account_sid: String,
    pub revision: i64,
    #[sqlx(flatten)]
    #[serde(flatten)]
    pub content: RevisionContent,
    /// When this revision was written.
    pub date_created: i64,
}

/// Which revision `fetch_revision` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevisionAt {
    Number(i64),
    /// The flow's current revision.
    Latest,
    /// The highest-numbered revision whose status is `published`.
    LatestPublished,
}

/// Revisions as they are read: joined with their flow, owned by the flow's account.
const REVISIONS: Table = Table {
    from: "flows f join flow_revisions r on r.flow_sid = f.sid",
    columns: "f.sid, f.account_sid, r.revision, r.friendly_name, r.status, r.definition, \
     r.commit_message, r.errors, r.date_created",
    owner: "f.account_sid",
    sid: "f.sid",
    seq: "r.revision",
};

impl Store {
    /// A page of the flow's revisions in revision order (the flow's existence is the caller's
    /// check: an unknown flow simply has no rows).
    pub async fn list_revisions(
        &self,
        account_sid: &str,
        sid: &str,
        keyset: Keyset,
    ) -> StoreResult<Vec<RevisionRow>> {
        let mut qb = REVISIONS.select_one(account_sid, sid);
        keyset.push(&mut qb, REVISIONS.seq);
        fetch_all(qb, self).await
    }

    /// One revision of the account's flow; `None` when the flow or the revision does not exist.
    pub async fn fetch_revision(
        &self,
        account_sid: &str,
        sid: &str,
        at: RevisionAt,
    ) -> StoreResult<Option<RevisionRow>> {
        let mut qb = REVISIONS.select_one(account_sid, sid);
        match at {
            RevisionAt::Number(n) => {
                qb.push(" and r.revision = ").push_bind(n);
            }
            RevisionAt::Latest => {
                qb.push(" and r.revision = f.revision");
            }
            RevisionAt::LatestPublished => {
                qb.push(" and r.status = 'published' order by r.revision desc limit 1");
            }
        }
        fetch_optional(qb, self).await
    }
}

/// Writes revision `revision` of flow `sid` (on an open transaction).
pub(in crate::store) async fn insert_revision(
    conn: &mut Conn<'_>,
    sid: &str,
    revision: i64,
    content: &RevisionContent,
    now: i64,
) -> StoreResult<()> {
    sql(
        "insert into flow_revisions (flow_sid, revision, friendly_name, status, definition, \
         commit_message, errors, date_created) values ($1, $2, $3, $4, $5, $6, $7, $8)",
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
