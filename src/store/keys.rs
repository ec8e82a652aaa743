//! Rows of `api_keys`.

use sqlx::{FromRow, QueryBuilder, Sqlite};

use super::{Store, StoreResult, error::classify, query::owned_table};

#[derive(Debug, Clone, FromRow)]
pub struct KeyRow {
    pub seq: i64,
    pub sid: String,
    pub account_sid: String,
    pub friendly_name: Option<String>,
    pub date_created: i64,
    pub date_updated: i64,
}

/// What authentication needs to know about a key credential.
#[derive(Debug, Clone, FromRow)]
pub struct KeyCredentialRow {
    pub sid: String,
    pub account_sid: String,
    pub owner_account_sid: String,
    pub secret_hash: String,
    pub status: String,
    pub owner_status: String,
}

owned_table! {
    KEYS: KeyRow = "api_keys" by "account_sid",
    "seq, sid, account_sid, friendly_name, date_created, date_updated",
    Deletable
}

impl Store {
    pub async fn insert_key(
        &self,
        sid: &str,
        account_sid: &str,
        friendly_name: Option<&str>,
        secret_hash: &str,
        now: i64,
    ) -> StoreResult<KeyRow> {
        let mut qb = QueryBuilder::<Sqlite>::new(
            "insert into api_keys (sid, account_sid, friendly_name, secret_hash, date_created, date_updated) values (",
        );
        qb.separated(", ")
            .push_bind(sid)
            .push_bind(account_sid)
            .push_bind(friendly_name)
            .push_bind(secret_hash)
            .push_bind(now)
            .push_bind(now);
        qb.push(") returning ").push(KEYS.columns);
        qb.build_query_as::<KeyRow>()
            .fetch_one(&self.pool)
            .await
            .map_err(classify)
    }

    pub async fn update_key(
        &self,
        account_sid: &str,
        sid: &str,
        friendly_name: Option<&str>,
        now: i64,
    ) -> StoreResult<Option<KeyRow>> {
        let change = KEYS
            .assign()
            .keep_unless("friendly_name", friendly_name)
            .set("date_updated", now);
        KEYS.update(&self.pool, account_sid, sid, change).await
    }

    pub async fn key_credential(&self, sid: &str) -> StoreResult<Option<KeyCredentialRow>> {
        Ok(sqlx::query_as::<_, KeyCredentialRow>(
            "select k.sid, k.account_sid, a.owner_account_sid, k.secret_hash, a.status, \
             o.status as owner_status from api_keys k \
             join accounts a on a.sid = k.account_sid \
             join accounts o on o.sid = a.owner_account_sid where k.sid = ?",
        )
        .bind(sid)
        .fetch_optional(&self.pool)
        .await?)
    }
}
