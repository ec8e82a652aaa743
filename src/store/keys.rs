//! Rows of `api_keys`.

use sqlx::{FromRow, QueryBuilder, Sqlite};

use super::{Keyset, Store, StoreResult, error::classify};

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

const RETURNING: &str =
    " returning seq, sid, account_sid, friendly_name, date_created, date_updated";

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
        qb.push_bind(sid)
            .push(", ")
            .push_bind(account_sid)
            .push(", ")
            .push_bind(friendly_name)
            .push(", ")
            .push_bind(secret_hash)
            .push(", ")
            .push_bind(now)
            .push(", ")
            .push_bind(now)
            .push(")")
            .push(RETURNING);
        qb.build_query_as::<KeyRow>()
            .fetch_one(&self.pool)
            .await
            .map_err(classify)
    }

    pub async fn fetch_key(&self, account_sid: &str, sid: &str) -> StoreResult<Option<KeyRow>> {
        Ok(sqlx::query_as::<_, KeyRow>(
            "select seq, sid, account_sid, friendly_name, date_created, date_updated \
             from api_keys where account_sid = ? and sid = ?",
        )
        .bind(account_sid)
        .bind(sid)
        .fetch_optional(&self.pool)
        .await?)
    }

    pub async fn list_keys(&self, account_sid: &str, keyset: Keyset) -> StoreResult<Vec<KeyRow>> {
        self.page_of(
            "seq, sid, account_sid, friendly_name, date_created, date_updated",
            " from api_keys where account_sid = ",
            account_sid,
            "seq",
            keyset,
        )
        .await
    }

    pub async fn update_key(
        &self,
        account_sid: &str,
        sid: &str,
        friendly_name: Option<&str>,
        now: i64,
    ) -> StoreResult<Option<KeyRow>> {
        let mut qb = QueryBuilder::<Sqlite>::new("update api_keys set friendly_name = coalesce(");
        qb.push_bind(friendly_name)
            .push(", friendly_name), date_updated = ")
            .push_bind(now)
            .push(" where account_sid = ")
            .push_bind(account_sid)
            .push(" and sid = ")
            .push_bind(sid)
            .push(RETURNING);
        Ok(qb
            .build_query_as::<KeyRow>()
            .fetch_optional(&self.pool)
            .await?)
    }

    /// True when a key was deleted.
    pub async fn delete_key(&self, account_sid: &str, sid: &str) -> StoreResult<bool> {
        let done = sqlx::query("delete from api_keys where account_sid = ? and sid = ?")
            .bind(account_sid)
            .bind(sid)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
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
