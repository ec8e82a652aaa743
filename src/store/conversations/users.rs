//! `conversation_users`: the users of a service. Creates and updates go through group commit
//! (`store::writer`) with the webhook deliveries they fire, in the same transaction.

use sqlx::{FromRow, QueryBuilder, Sqlite};

use super::is_foreign_key_violation;
use crate::store::{
    Store, StoreResult,
    error::classify,
    query::{fetch_optional, owned_table},
    webhooks::{NewDelivery, enqueue},
};

#[derive(Debug, Clone, PartialEq, FromRow)]
pub struct UserRow {
    pub seq: i64,
    pub sid: String,
    pub service_sid: String,
    pub account_sid: String,
    pub identity: String,
    pub friendly_name: Option<String>,
    pub attributes: String,
    pub role_sid: Option<String>,
    pub date_created: i64,
    pub date_updated: i64,
}

/// What a user create or update did.
#[derive(Debug)]
pub enum UserWrite {
    Stored(UserRow),
    /// No such user (an update).
    Missing,
    /// A row the user references (its service or role) was deleted meanwhile: the foreign key
    /// refused it, nothing was written.
    Orphaned,
}

owned_table! {
    USERS: UserRow = "conversation_users" by "service_sid",
    "seq, sid, service_sid, account_sid, identity, friendly_name, attributes, \
     role_sid, date_created, date_updated"
}

impl Store {
    /// Inserts a user and queues the webhooks `fire` derives from the stored row, in one
    /// transaction; a taken identity in the service is `StoreError::Conflict`.
    pub async fn insert_user(
        &self,
        row: &UserRow,
        fire: impl FnOnce(&UserRow) -> StoreResult<Vec<NewDelivery>> + Send + 'static,
        now_ms: i64,
    ) -> StoreResult<UserWrite> {
        let row = row.clone();
        self.writer
            .write(move |conn| {
                Box::pin(async move {
                    let inserted = sqlx::query_as::<_, UserRow>(
                        "insert into conversation_users (sid, service_sid, account_sid, identity, \
                         friendly_name, attributes, role_sid, date_created, date_updated) \
                         values (?, ?, ?, ?, ?, ?, ?, ?, ?) returning seq, sid, service_sid, \
                         account_sid, identity, friendly_name, attributes, role_sid, date_created, date_updated",
                    )
                    .bind(&row.sid)
                    .bind(&row.service_sid)
                    .bind(&row.account_sid)
                    .bind(&row.identity)
                    .bind(&row.friendly_name)
                    .bind(&row.attributes)
                    .bind(&row.role_sid)
                    .bind(row.date_created)
                    .bind(row.date_updated)
                    .fetch_one(&mut *conn)
                    .await;
                    let stored = match inserted {
                        Ok(stored) => stored,
                        Err(e) if is_foreign_key_violation(&e) => return Ok(UserWrite::Orphaned),
                        Err(e) => return Err(classify(e)),
                    };
                    enqueue(conn, &fire(&stored)?, now_ms).await?;
                    Ok(UserWrite::Stored(stored))
                })
            })
            .await
    }

    /// A user by `US` SID (`by_sid`) or identity, in one query: in the account's default
    /// service (`service_sid` None) or in the named service, which must be the account's.
    pub async fn fetch_user(
        &self,
        account_sid: &str,
        service_sid: Option<&str>,
        key: &str,
        by_sid: bool,
    ) -> StoreResult<Option<UserRow>> {
        let mut qb = QueryBuilder::<Sqlite>::new("select ");
        match service_sid {
            None => {
                qb.push(
                    "u.seq, u.sid, u.service_sid, u.account_sid, u.identity, u.friendly_name, \
                     u.attributes, u.role_sid, u.date_created, u.date_updated \
                     from conversation_configurations c join conversation_users u \
                     on u.service_sid = c.default_chat_service_sid where c.account_sid = ",
                )
                .push_bind(account_sid);
            }
            Some(service) => {
                qb.push(
                    "u.seq, u.sid, u.service_sid, u.account_sid, u.identity, u.friendly_name, \
                     u.attributes, u.role_sid, u.date_created, u.date_updated \
                     from conversation_users u where u.account_sid = ",
                )
                .push_bind(account_sid)
                .push(" and u.service_sid = ")
                .push_bind(service);
            }
        }
        qb.push(if by_sid {
            " and u.sid = "
        } else {
            " and u.identity = "
        })
        .push_bind(key);
        fetch_optional(qb, &self.pool).await
    }

    /// Updates a user and queues the webhooks `fire` derives from the new row, in one transaction.
    #[allow(clippy::too_many_arguments)]
    pub async fn update_user(
        &self,
        sid: &str,
        friendly_name: Option<&str>,
        attributes: Option<&str>,
        role_sid: Option<&str>,
        now: i64,
        fire: impl FnOnce(&UserRow) -> StoreResult<Vec<NewDelivery>> + Send + 'static,
        now_ms: i64,
    ) -> StoreResult<UserWrite> {
        let (sid, friendly_name, attributes, role_sid) = (
            sid.to_owned(),
            friendly_name.map(str::to_owned),
            attributes.map(str::to_owned),
            role_sid.map(str::to_owned),
        );
        self.writer
            .write(move |conn| {
                Box::pin(async move {
                    let updated = sqlx::query_as::<_, UserRow>(
                        "update conversation_users set friendly_name = coalesce(?, friendly_name), \
                         attributes = coalesce(?, attributes), role_sid = coalesce(?, role_sid), \
                         date_updated = ? where sid = ? returning seq, sid, service_sid, account_sid, \
                         identity, friendly_name, attributes, role_sid, date_created, date_updated",
                    )
                    .bind(&friendly_name)
                    .bind(&attributes)
                    .bind(&role_sid)
                    .bind(now)
                    .bind(&sid)
                    .fetch_optional(&mut *conn)
                    .await;
                    match updated {
                        Ok(Some(stored)) => {
                            enqueue(conn, &fire(&stored)?, now_ms).await?;
                            Ok(UserWrite::Stored(stored))
                        }
                        Ok(None) => Ok(UserWrite::Missing),
                        Err(e) if is_foreign_key_violation(&e) => Ok(UserWrite::Orphaned),
                        Err(e) => Err(e.into()),
                    }
                })
            })
            .await
    }

    pub async fn delete_user(&self, sid: &str) -> StoreResult<bool> {
        let done = sqlx::query("delete from conversation_users where sid = ?")
            .bind(sid)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }
}
