//! Rows of `accounts`.

use sqlx::FromRow;

use super::{
    Conn, Keyset, Store, StoreResult,
    conversations::{NewService, insert_default_service},
    db::{On, sql},
    dialect::lock_parent,
    error::classify,
    query::{fetch_all, fetch_optional, owned_table, row},
    shared::bump_cache_epoch,
};

row! {
    #[derive(Debug, Clone)]
    pub struct AccountRow {
        seq: i64,
        sid: String,
        owner_account_sid: String,
        friendly_name: String,
        status: String,
        r#type: String,
        auth_token_sealed: Vec<u8>,
        date_created: i64,
        date_updated: i64,
    }
}
owned_table!(ACCOUNTS: AccountRow = "accounts" by "owner_account_sid");

row! {
    /// `accounts` with its credential hash: what a create and `seed FILE` write, and `export`
    /// reads.
    #[derive(Debug, Clone, PartialEq)]
    pub struct AccountRecord {
        seq: i64,
        sid: String,
        owner_account_sid: String,
        friendly_name: String,
        status: String,
        r#type: String,
        auth_token_hash: String,
        auth_token_sealed: Vec<u8>,
        date_created: i64,
        date_updated: i64,
    }
}
owned_table!(ACCOUNT_RECORDS: AccountRecord = "accounts" by "owner_account_sid");

/// What authentication needs to know about an account credential.
#[derive(Debug, Clone, FromRow, serde::Deserialize)]
pub struct AccountCredentialRow {
    pub sid: String,
    pub owner_account_sid: String,
    pub auth_token_hash: String,
    pub status: String,
    pub owner_status: String,
}

pub struct NewAccount<'a> {
    pub sid: &'a str,
    pub owner_account_sid: &'a str,
    pub friendly_name: &'a str,
    pub auth_token_hash: &'a str,
    pub auth_token_sealed: &'a [u8],
    pub now: i64,
    /// Every account gets its default Conversations service in the same transaction.
    pub default_service: &'a NewService,
}

impl NewAccount<'_> {
    /// The row to insert: active, of type `Full`.
    fn record(&self) -> AccountRecord {
        AccountRecord {
            seq: 0,
            sid: self.sid.to_owned(),
            owner_account_sid: self.owner_account_sid.to_owned(),
            friendly_name: self.friendly_name.to_owned(),
            status: "active".to_owned(),
            r#type: "Full".to_owned(),
            auth_token_hash: self.auth_token_hash.to_owned(),
            auth_token_sealed: self.auth_token_sealed.to_owned(),
            date_created: self.now,
            date_updated: self.now,
        }
    }
}

/// Why a subaccount was not created.
pub enum CreateSubaccount {
    Created(AccountRow),
    LimitReached,
}

impl Store {
    pub async fn count_accounts(&self) -> StoreResult<i64> {
        Ok(sql("select count(*) from accounts")
            .fetch_scalar(self)
            .await?)
    }

    /// Inserts the main account unless the database already has an account: `false` when it
    /// had one. Under the `bootstrap` lock row, so of several instances starting at the same
    /// moment on one database exactly one creates it.
    pub async fn insert_main_account_once(&self, new: NewAccount<'_>) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        lock_parent(&mut tx, "shared_state", "name", "bootstrap").await?;
        let accounts: i64 = sql("select count(*) from accounts")
            .fetch_scalar(&mut tx)
            .await?;
        if accounts > 0 {
            return Ok(false);
        }
        insert_main_account_in(&mut tx.conn(), new).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Inserts a subaccount unless its owner already has `max` of them (checked under the write
    /// lock, so concurrent creates cannot overshoot).
    pub async fn create_subaccount(
        &self,
        new: NewAccount<'_>,
        max: i64,
    ) -> StoreResult<CreateSubaccount> {
        let mut tx = self.begin_write().await?;
        lock_account(&mut tx, new.owner_account_sid).await?;
        if subaccount_count_in(&mut tx, new.owner_account_sid).await? >= max {
            return Ok(CreateSubaccount::LimitReached);
        }
        let row = ACCOUNTS
            .insert(&new.record())
            .fetch_one::<AccountRow>(&mut tx)
            .await
            .map_err(classify)?;
        insert_default_service(&mut tx.conn(), new.default_service).await?;
        tx.commit().await?;
        Ok(CreateSubaccount::Created(row))
    }

    pub async fn fetch_account(&self, sid: &str) -> StoreResult<Option<AccountRow>> {
        fetch_optional(ACCOUNTS.select_where("sid", sid), self).await
    }

    /// Every account, main accounts each followed by their subaccounts, at most `limit` (the
    /// console operator's account list).
    pub async fn all_accounts(&self, limit: i64) -> StoreResult<Vec<AccountRow>> {
        let mut qb = ACCOUNTS.select();
        qb.push(
            " order by (select o.seq from accounts o where o.sid = accounts.owner_account_sid), ",
        )
        .push("owner_account_sid != sid, seq limit ")
        .push_bind(limit);
        fetch_all(qb, self).await
    }

    /// The account itself and the accounts it owns, filtered, in creation order.
    pub async fn list_accounts(
        &self,
        visible_to: &str,
        friendly_name: Option<&str>,
        status: Option<&str>,
        keyset: Keyset,
    ) -> StoreResult<Vec<AccountRow>> {
        let mut qb = ACCOUNTS.select();
        qb.push(" where (sid = ")
            .push_bind(visible_to)
            .push(" or owner_account_sid = ")
            .push_bind(visible_to)
            .push(")");
        if let Some(name) = friendly_name {
            qb.push(" and friendly_name = ").push_bind(name);
        }
        if let Some(status) = status {
            qb.push(" and status = ").push_bind(status);
        }
        keyset.push(&mut qb, "seq");
        fetch_all(qb, self).await
    }

    /// Applies the given changes. A closed account stays closed: the WHERE clause refuses any
    /// status other than `closed` for it, so a racing reopen cannot slip through. `None` when no
    /// row was changed (missing, or a refused reopen).
    pub async fn update_account(
        &self,
        sid: &str,
        friendly_name: Option<&str>,
        status: Option<&str>,
        now: i64,
    ) -> StoreResult<Option<AccountRow>> {
        let mut tx = self.begin_write().await?;
        let row = sql(
            "update accounts set friendly_name = coalesce($2, friendly_name), \
             status = coalesce($3, status), date_updated = $4 \
             where sid = $1 and (status != 'closed' or $3 is null or $3 = 'closed') \
             returning seq, sid, owner_account_sid, friendly_name, status, type, \
             auth_token_sealed, date_created, date_updated",
        )
        .bind(sid)
        .bind(friendly_name)
        .bind(status)
        .bind(now)
        .fetch_optional::<AccountRow>(&mut tx)
        .await?;
        if row.is_some() && status.is_some() {
            // Its credentials (and its subaccounts') are checked anew on every instance.
            bump_cache_epoch(&mut tx.conn()).await?;
        }
        tx.commit().await?;
        Ok(row)
    }

    /// Every account's SID with its sealed auth token, in creation order: start-up checks that
    /// the server key opens them all before serving.
    pub async fn sealed_auth_tokens(&self) -> StoreResult<Vec<(String, Vec<u8>)>> {
        Ok(
            sql("select sid, auth_token_sealed from accounts order by seq")
                .fetch_all(self)
                .await?,
        )
    }

    pub async fn account_credential(&self, sid: &str) -> StoreResult<Option<AccountCredentialRow>> {
        Ok(sql(
            "select a.sid, a.owner_account_sid, a.auth_token_hash, a.status, o.status as owner_status \
             from accounts a join accounts o on o.sid = a.owner_account_sid where a.sid = $1",
        )
        .bind(sid)
        .fetch_optional::<AccountCredentialRow>(self)
        .await?)
    }
}

/// A main account and its default service, on an open transaction.
pub(crate) async fn insert_main_account_in(
    conn: &mut Conn<'_>,
    new: NewAccount<'_>,
) -> StoreResult<()> {
    ACCOUNT_RECORDS
        .insert_values(&new.record())
        .execute(&mut *conn)
        .await
        .map_err(classify)?;
    insert_default_service(conn, new.default_service).await
}

/// How many subaccounts `owner` has (a main account is its own owner and does not count).
pub(crate) async fn subaccount_count_in<'c>(
    db: impl Into<On<'c>>,
    owner: &str,
) -> StoreResult<i64> {
    Ok(
        sql("select count(*) from accounts where owner_account_sid = $1 and sid != $1")
            .bind(owner)
            .fetch_scalar(db)
            .await?,
    )
}

/// Locks the account's row until the transaction ends, so a read-then-write that depends on
/// what the account owns (its subaccount count) is serialised per account on PostgreSQL, as
/// SQLite's write lock serialises every write (`dialect::lock_parent`).
pub(crate) async fn lock_account<'c>(db: impl Into<On<'c>>, sid: &str) -> StoreResult<()> {
    super::dialect::lock_parent(db, "accounts", "sid", sid).await
}
