//! Whole rows for `localtwilio seed FILE` and `localtwilio export`: read every column
//! of a row by SID or by owner, and write a row as given — dates included — in one transaction
//! that the caller commits only when every entry of the file was accepted.

use sqlx::{
    FromRow, QueryBuilder, Sqlite, SqliteConnection, query::Query, sqlite::SqliteArguments,
};

use super::{
    Store, StoreResult, accounts,
    conversations::{self, ConfigurationRow, RoleRow, ServiceRow, UserRow},
    studio::{
        revisions::{self, RevisionContent},
        test_users,
    },
    trusthub::end_users::EndUserRow,
    webhooks::{self, AccountWebhookRow, ServiceWebhookRow},
};

/// `accounts` with its credential columns.
#[derive(Debug, Clone, PartialEq, FromRow)]
pub struct AccountRecord {
    pub seq: i64,
    pub sid: String,
    pub owner_account_sid: String,
    pub friendly_name: String,
    pub status: String,
    pub r#type: String,
    pub auth_token_hash: String,
    pub auth_token_sealed: Vec<u8>,
    pub date_created: i64,
    pub date_updated: i64,
}

/// `api_keys` with its secret hash.
#[derive(Debug, Clone, PartialEq, FromRow)]
pub struct KeyRecord {
    pub seq: i64,
    pub sid: String,
    pub account_sid: String,
    pub friendly_name: Option<String>,
    pub secret_hash: String,
    pub date_created: i64,
    pub date_updated: i64,
}

/// `flows` (the revisions are `RevisionRecord`s).
#[derive(Debug, Clone, PartialEq, FromRow)]
pub struct FlowRecord {
    pub seq: i64,
    pub sid: String,
    pub account_sid: String,
    pub revision: i64,
    pub date_created: i64,
    pub date_updated: Option<i64>,
}

/// `flow_revisions`.
#[derive(Debug, Clone, PartialEq, FromRow)]
pub struct RevisionRecord {
    pub flow_sid: String,
    pub revision: i64,
    #[sqlx(flatten)]
    pub content: RevisionContent,
    pub date_created: i64,
}

type Bound<'q> = Query<'q, Sqlite, SqliteArguments>;

/// A table row addressed by its `sid`, owned by the row named in `owner` column.
pub trait Record: for<'r> FromRow<'r, sqlx::sqlite::SqliteRow> + Send + Unpin {
    /// `select <all columns> from <table>`
    const SELECT: &'static str;
    /// `select <all columns> from <table> where sid = ?`
    const BY_SID: &'static str;
    /// `select <all columns> from <table> where <owner> = ? order by seq`
    const BY_OWNER: &'static str;
    /// `insert … on conflict (sid) do update set <every column but seq>` — binds in `bind`'s
    /// order. An existing row keeps its `seq`, so list order survives an update.
    const UPSERT: &'static str;
    fn bind<'q>(&'q self, query: Bound<'q>) -> Bound<'q>;
}

macro_rules! record {
    ($ty:ty, $table:literal, owner $owner:literal, columns $columns:literal,
     values $values:literal, updates $updates:literal, |$row:ident| [$($field:expr),+ $(,)?]) => {
        impl Record for $ty {
            const SELECT: &'static str = concat!("select seq, ", $columns, " from ", $table);
            const BY_SID: &'static str =
                concat!("select seq, ", $columns, " from ", $table, " where sid = ?");
            const BY_OWNER: &'static str = concat!(
                "select seq, ", $columns, " from ", $table, " where ", $owner, " = ? order by seq"
            );
            const UPSERT: &'static str = concat!(
                "insert into ", $table, " (", $columns, ") values (", $values,
                ") on conflict (sid) do update set ", $updates
            );
            fn bind<'q>(&'q self, query: Bound<'q>) -> Bound<'q> {
                let $row = self;
                query$(.bind($field))+
            }
        }
    };
}

record!(AccountRecord, "accounts", owner "owner_account_sid",
    columns "sid, owner_account_sid, friendly_name, status, type, auth_token_hash, auth_token_sealed, date_created, date_updated",
    values "?, ?, ?, ?, ?, ?, ?, ?, ?",
    updates "owner_account_sid = excluded.owner_account_sid, friendly_name = excluded.friendly_name, \
             status = excluded.status, type = excluded.type, auth_token_hash = excluded.auth_token_hash, \
             auth_token_sealed = excluded.auth_token_sealed, date_created = excluded.date_created, \
             date_updated = excluded.date_updated",
    |r| [&r.sid, &r.owner_account_sid, &r.friendly_name, &r.status, &r.r#type, &r.auth_token_hash,
         &r.auth_token_sealed, r.date_created, r.date_updated]);

record!(KeyRecord, "api_keys", owner "account_sid",
    columns "sid, account_sid, friendly_name, secret_hash, date_created, date_updated",
    values "?, ?, ?, ?, ?, ?",
    updates "friendly_name = excluded.friendly_name, secret_hash = excluded.secret_hash, \
             date_created = excluded.date_created, date_updated = excluded.date_updated",
    |r| [&r.sid, &r.account_sid, &r.friendly_name, &r.secret_hash, r.date_created, r.date_updated]);

record!(FlowRecord, "flows", owner "account_sid",
    columns "sid, account_sid, revision, date_created, date_updated",
    values "?, ?, ?, ?, ?",
    updates "revision = excluded.revision, date_created = excluded.date_created, \
             date_updated = excluded.date_updated",
    |r| [&r.sid, &r.account_sid, r.revision, r.date_created, r.date_updated]);

record!(ServiceRow, "conversation_services", owner "account_sid",
    columns "sid, account_sid, friendly_name, default_chat_service_role_sid, \
             default_conversation_role_sid, default_conversation_creator_role_sid, \
             reachability_enabled, date_created, date_updated",
    values "?, ?, ?, ?, ?, ?, ?, ?, ?",
    updates "friendly_name = excluded.friendly_name, \
             default_chat_service_role_sid = excluded.default_chat_service_role_sid, \
             default_conversation_role_sid = excluded.default_conversation_role_sid, \
             default_conversation_creator_role_sid = excluded.default_conversation_creator_role_sid, \
             reachability_enabled = excluded.reachability_enabled, \
             date_created = excluded.date_created, date_updated = excluded.date_updated",
    |r| [&r.sid, &r.account_sid, &r.friendly_name, &r.default_chat_service_role_sid,
         &r.default_conversation_role_sid, &r.default_conversation_creator_role_sid,
         r.reachability_enabled, r.date_created, r.date_updated]);

record!(RoleRow, "conversation_roles", owner "service_sid",
    columns "sid, service_sid, account_sid, friendly_name, type, permissions, date_created, date_updated",
    values "?, ?, ?, ?, ?, ?, ?, ?",
    updates "friendly_name = excluded.friendly_name, type = excluded.type, \
             permissions = excluded.permissions, date_created = excluded.date_created, \
             date_updated = excluded.date_updated",
    |r| [&r.sid, &r.service_sid, &r.account_sid, &r.friendly_name, &r.r#type, &r.permissions,
         r.date_created, r.date_updated]);

record!(UserRow, "conversation_users", owner "service_sid",
    columns "sid, service_sid, account_sid, identity, friendly_name, attributes, role_sid, date_created, date_updated",
    values "?, ?, ?, ?, ?, ?, ?, ?, ?",
    updates "identity = excluded.identity, friendly_name = excluded.friendly_name, \
             attributes = excluded.attributes, role_sid = excluded.role_sid, \
             date_created = excluded.date_created, date_updated = excluded.date_updated",
    |r| [&r.sid, &r.service_sid, &r.account_sid, &r.identity, &r.friendly_name, &r.attributes,
         &r.role_sid, r.date_created, r.date_updated]);

record!(EndUserRow, "end_users", owner "account_sid",
    columns "sid, account_sid, friendly_name, type, attributes, date_created, date_updated",
    values "?, ?, ?, ?, ?, ?, ?",
    updates "friendly_name = excluded.friendly_name, type = excluded.type, \
             attributes = excluded.attributes, date_created = excluded.date_created, \
             date_updated = excluded.date_updated",
    |r| [&r.sid, &r.account_sid, &r.friendly_name, &r.r#type, &r.attributes, r.date_created,
         r.date_updated]);

/// One seed file's transaction (or one export's snapshot). Dropped without `commit`, it rolls
/// back: nothing of the file is applied.
pub struct SeedTx {
    tx: sqlx::Transaction<'static, Sqlite>,
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
        let mut tx = self.pool.begin().await?;
        // A deferred transaction takes its snapshot at the first read; take it now.
        sqlx::query("select count(*) from accounts")
            .execute(&mut *tx)
            .await?;
        Ok(SeedTx { tx })
    }
}

impl SeedTx {
    fn conn(&mut self) -> &mut SqliteConnection {
        &mut self.tx
    }

    pub async fn get<R: Record>(&mut self, sid: &str) -> StoreResult<Option<R>> {
        Ok(sqlx::query_as::<_, R>(R::BY_SID)
            .bind(sid.to_owned())
            .fetch_optional(self.conn())
            .await?)
    }

    pub async fn owned_by<R: Record>(&mut self, owner: &str) -> StoreResult<Vec<R>> {
        Ok(sqlx::query_as::<_, R>(R::BY_OWNER)
            .bind(owner.to_owned())
            .fetch_all(self.conn())
            .await?)
    }

    pub async fn put<R: Record>(&mut self, row: &R) -> StoreResult<()> {
        // A UNIQUE clash (a user identity taken in its service) is `Conflict`.
        row.bind(sqlx::query(R::UPSERT))
            .execute(&mut *self.tx)
            .await
            .map_err(super::error::classify)?;
        Ok(())
    }

    /// Main accounts (their own owner), in creation order.
    pub async fn main_accounts(&mut self) -> StoreResult<Vec<AccountRecord>> {
        let mut query = QueryBuilder::<Sqlite>::new(AccountRecord::SELECT);
        query.push(" where owner_account_sid = sid order by seq");
        Ok(query
            .build_query_as::<AccountRecord>()
            .fetch_all(self.conn())
            .await?)
    }

    pub async fn subaccount_count(&mut self, owner: &str) -> StoreResult<i64> {
        accounts::subaccount_count_in(self.conn(), owner).await
    }

    pub async fn revisions(&mut self, flow_sid: &str) -> StoreResult<Vec<RevisionRecord>> {
        Ok(sqlx::query_as::<_, RevisionRecord>(
            "select flow_sid, revision, friendly_name, status, definition, commit_message, errors, \
             date_created from flow_revisions where flow_sid = ? order by revision",
        )
        .bind(flow_sid.to_owned())
        .fetch_all(self.conn())
        .await?)
    }

    /// Makes the flow's revisions exactly `revisions`.
    pub async fn replace_revisions(
        &mut self,
        flow_sid: &str,
        revisions: &[RevisionRecord],
    ) -> StoreResult<()> {
        sqlx::query("delete from flow_revisions where flow_sid = ?")
            .bind(flow_sid.to_owned())
            .execute(self.conn())
            .await?;
        for r in revisions {
            revisions::insert_revision(
                &mut self.tx,
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
        test_users::select_test_users(self.conn(), flow_sid).await
    }

    pub async fn replace_test_users(
        &mut self,
        flow_sid: &str,
        identities: &[String],
    ) -> StoreResult<()> {
        test_users::write_test_users(self.conn(), flow_sid, identities).await
    }

    pub async fn configuration(
        &mut self,
        account_sid: &str,
    ) -> StoreResult<Option<ConfigurationRow>> {
        conversations::configuration_in(self.conn(), account_sid).await
    }

    /// Points the account's Conversations configuration at its default service.
    pub async fn set_default_service(
        &mut self,
        account_sid: &str,
        service_sid: &str,
    ) -> StoreResult<()> {
        sqlx::query(
            "insert into conversation_configurations (account_sid, default_chat_service_sid) \
             values (?, ?) on conflict (account_sid) do update \
             set default_chat_service_sid = excluded.default_chat_service_sid",
        )
        .bind(account_sid.to_owned())
        .bind(service_sid.to_owned())
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Sets the configuration's messaging service and timers as given.
    pub async fn put_configuration(&mut self, row: &ConfigurationRow) -> StoreResult<()> {
        sqlx::query(
            "update conversation_configurations set default_messaging_service_sid = ?, \
             default_inactive_timer = ?, default_closed_timer = ? where account_sid = ?",
        )
        .bind(row.default_messaging_service_sid.clone())
        .bind(row.default_inactive_timer.clone())
        .bind(row.default_closed_timer.clone())
        .bind(row.account_sid.clone())
        .execute(self.conn())
        .await?;
        Ok(())
    }

    pub async fn account_webhook(
        &mut self,
        account_sid: &str,
    ) -> StoreResult<Option<AccountWebhookRow>> {
        webhooks::account_webhook_in(self.conn(), account_sid).await
    }

    pub async fn put_account_webhook(&mut self, row: &AccountWebhookRow) -> StoreResult<()> {
        webhooks::save_account_webhook_in(self.conn(), row).await
    }

    pub async fn service_webhook(
        &mut self,
        service_sid: &str,
    ) -> StoreResult<Option<ServiceWebhookRow>> {
        webhooks::service_webhook_in(self.conn(), service_sid).await
    }

    pub async fn put_service_webhook(&mut self, row: &ServiceWebhookRow) -> StoreResult<()> {
        webhooks::save_service_webhook_in(self.conn(), row).await
    }

    pub async fn commit(self) -> StoreResult<()> {
        self.tx.commit().await?;
        Ok(())
    }
}
