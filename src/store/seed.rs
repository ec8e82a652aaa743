//! Whole rows for `localtwilio seed FILE` and `localtwilio export`: read every column
//! of a row by SID or by owner, and write a row as given — dates included — in one transaction
//! that the caller commits only when every entry of the file was accepted.

use sqlx::FromRow;

use super::{
    Store, StoreResult, Tx, accounts,
    db::sql,
    error::classify,
    query::{Columns, Owned, Sole, fetch_all, fetch_optional, fetch_sole, save_sole},
    studio::{
        revisions::{self, RevisionContent},
        test_users,
    },
};

pub use super::{accounts::AccountRecord, keys::KeyRecord, studio::flows::FlowRecord};

/// `flow_revisions`.
#[derive(Debug, Clone, PartialEq, FromRow, serde::Deserialize)]
pub struct RevisionRecord {
    pub flow_sid: String,
    pub revision: i64,
    #[sqlx(flatten)]
    #[serde(flatten)]
    pub content: RevisionContent,
    pub date_created: i64,
}

/// A table row addressed by its `sid` and owned by the row its table's `owner` column names,
/// read and written whole (every column, credential hashes included).
pub trait Record: Owned + Columns {}
impl<R: Owned + Columns> Record for R {}

/// One seed file's transaction (or one export's snapshot). Dropped without `commit`, it rolls
/// back: nothing of the file is applied.
pub struct SeedTx {
    tx: Tx,
}

impl Store {
    /// A write transaction holding SQLite's write lock from the start.
    pub async fn seed_tx(&self) -> StoreResult<SeedTx> {
        Ok(SeedTx {
            tx: self.begin_write().await?,
        })
    }

    /// A read transaction: every read through it sees one snapshot.
    pub async fn snapshot(&self) -> StoreResult<SeedTx> {
        Ok(SeedTx {
            tx: self.begin_read().await?,
        })
    }
}

impl SeedTx {
    fn conn(&mut self) -> &mut Tx {
        &mut self.tx
    }

    pub async fn get<R: Record>(&mut self, sid: &str) -> StoreResult<Option<R>> {
        fetch_optional(R::TABLE.select_where(R::TABLE.sid, sid), self.conn()).await
    }

    /// The owner's rows, in creation order.
    pub async fn owned_by<R: Record>(&mut self, owner: &str) -> StoreResult<Vec<R>> {
        let mut qb = R::TABLE.select_owned(owner);
        qb.push(" order by ").push(R::TABLE.seq);
        fetch_all(qb, self.conn()).await
    }

    /// Writes the row as given, replacing the one with its SID (which keeps its `seq`).
    pub async fn put<R: Record>(&mut self, row: &R) -> StoreResult<()> {
        // A UNIQUE clash (a user identity taken in its service) is `Conflict`.
        R::TABLE
            .upsert(self.conn(), row, R::TABLE.sid)
            .await
            .map_err(classify)
    }

    /// The owner's row of a table with one per owner (a configuration, a webhook target).
    pub async fn sole<R: Sole>(&mut self, owner: &str) -> StoreResult<Option<R>> {
        fetch_sole(self.conn(), owner).await
    }

    pub async fn put_sole<R: Sole>(&mut self, row: &R) -> StoreResult<()> {
        save_sole(self.conn(), row).await
    }

    /// The SID of the service's user `identity`, if it has one.
    pub async fn user_sid_by_identity(
        &mut self,
        service_sid: &str,
        identity: &str,
    ) -> StoreResult<Option<String>> {
        Ok(
            sql("select sid from conversation_users where service_sid = $1 and identity = $2")
                .bind(service_sid)
                .bind(identity)
                .fetch_optional_scalar::<String>(self.conn())
                .await?,
        )
    }

    /// Main accounts (their own owner), in creation order.
    pub async fn main_accounts(&mut self) -> StoreResult<Vec<AccountRecord>> {
        let mut qb = AccountRecord::TABLE.select();
        qb.push(" where owner_account_sid = sid order by seq");
        fetch_all(qb, self.conn()).await
    }

    pub async fn subaccount_count(&mut self, owner: &str) -> StoreResult<i64> {
        accounts::subaccount_count_in(self.conn(), owner).await
    }

    pub async fn revisions(&mut self, flow_sid: &str) -> StoreResult<Vec<RevisionRecord>> {
        Ok(sql(
            "select flow_sid, revision, friendly_name, status, definition, commit_message, errors, \
             date_created from flow_revisions where flow_sid = $1 order by revision",
        )
        .bind(flow_sid)
        .fetch_all::<RevisionRecord>(self.conn())
        .await?)
    }

    /// Makes the flow's revisions exactly `revisions`.
    pub async fn replace_revisions(
        &mut self,
        flow_sid: &str,
        revisions: &[RevisionRecord],
    ) -> StoreResult<()> {
        sql("delete from flow_revisions where flow_sid = $1")
            .bind(flow_sid)
            .execute(self.conn())
            .await?;
        for r in revisions {
            revisions::insert_revision(
                &mut self.tx.conn(),
                &r.flow_sid,
                r.revision,
                &r.content,
                r.date_created,
            )
            .await?;
        }
        Ok(())
    }

    pub async fn test_users(&mut self, flow_sid: &str) -> StoreResult<Vec<String>> {
        test_users::select_test_users(&mut self.tx.conn(), flow_sid).await
    }

    pub async fn replace_test_users(
        &mut self,
        flow_sid: &str,
        identities: &[String],
    ) -> StoreResult<()> {
        test_users::write_test_users(&mut self.tx.conn(), flow_sid, identities).await
    }

    /// Points the account's Conversations configuration at its default service.
    pub async fn set_default_service(
        &mut self,
        account_sid: &str,
        service_sid: &str,
    ) -> StoreResult<()> {
        sql(
            "insert into conversation_configurations (account_sid, default_chat_service_sid) \
             values ($1, $2) on conflict (account_sid) do update \
             set default_chat_service_sid = excluded.default_chat_service_sid",
        )
        .bind(account_sid)
        .bind(service_sid)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    pub async fn commit(self) -> StoreResult<()> {
        self.tx.commit().await
    }
}
