//! Rows of `api_keys`.

use sqlx::FromRow;

use super::{
    Store, StoreResult,
    db::sql,
    error::classify,
    query::{owned_table, row},
    shared::bump_cache_epoch,
};

row! {
    #[derive(Debug, Clone)]
    pub struct KeyRow {
        seq: i64,
        sid: String,
        account_sid: String,
        friendly_name: Option<String>,
        date_created: i64,
        date_updated: i64,
    }
}
owned_table!(KEYS: KeyRow = "api_keys" by "account_sid");

row! {
    /// `api_keys` with its secret hash: what a create and `seed FILE` write, and `export` reads.
    #[derive(Debug, Clone, PartialEq)]
    pub struct KeyRecord {
        seq: i64,
        sid: String,
        account_sid: String,
        friendly_name: Option<String>,
        secret_hash: String,
        date_created: i64,
        date_updated: i64,
    }
}
owned_table!(KEY_RECORDS: KeyRecord = "api_keys" by "account_sid");

/// What authentication needs to know about a key credential.
#[derive(Debug, Clone, FromRow, serde::Deserialize)]
pub struct KeyCredentialRow {
    pub sid: String,
    pub account_sid: String,
    pub owner_account_sid: String,
    pub secret_hash: String,
    pub status: String,
    pub owner_status: String,
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
        let record = KeyRecord {
            seq: 0,
            sid: sid.to_owned(),
            account_sid: account_sid.to_owned(),
            friendly_name: friendly_name.map(str::to_owned),
            secret_hash: secret_hash.to_owned(),
            date_created: now,
            date_updated: now,
        };
        KEYS.insert(&record)
            .fetch_one::<KeyRow>(self)
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
        KEYS.update(self, account_sid, sid, change).await
    }

    /// Deletes the account's key; every instance refuses it from the next cache-epoch poll.
    pub async fn delete_key(&self, account_sid: &str, sid: &str) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let deleted = KEYS.delete(&mut tx, account_sid, sid).await?;
        if deleted {
            bump_cache_epoch(&mut tx.conn()).await?;
        }
        tx.commit().await?;
        Ok(deleted)
    }

    pub async fn key_credential(&self, sid: &str) -> StoreResult<Option<KeyCredentialRow>> {
        Ok(sql(
            "select k.sid, k.account_sid, a.owner_account_sid, k.secret_hash, a.status, \
             o.status as owner_status from api_keys k \
             join accounts a on a.sid = k.account_sid \
             join accounts o on o.sid = a.owner_account_sid where k.sid = $1",
        )
        .bind(sid)
        .fetch_optional::<KeyCredentialRow>(self)
        .await?)
    }
}
