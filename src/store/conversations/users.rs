//! `conversation_users`: the users of a service. Creates and updates go through group commit
//! (`store::writer`) with the webhook deliveries they fire, in the same transaction.

use super::is_foreign_key_violation;
use crate::store::{
    Sql, Store, StoreResult,
    db::sql,
    error::classify,
    query::{fetch_optional, owned_table, push_columns, row},
    webhooks::{NewDelivery, enqueue},
};

row! {
    #[derive(Debug, Clone, PartialEq)]
    pub struct UserRow {
        seq: i64,
        sid: String,
        service_sid: String,
        account_sid: String,
        identity: String,
        friendly_name: Option<String>,
        attributes: String,
        role_sid: Option<String>,
        date_created: i64,
        date_updated: i64,
    }
}
owned_table!(USERS: UserRow = "conversation_users" by "service_sid");

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
        self.write(move |mut conn| {
            Box::pin(async move {
                let inserted = USERS.insert(&row).fetch_one::<UserRow>(&mut conn).await;
                let stored = match inserted {
                    Ok(stored) => stored,
                    Err(e) if is_foreign_key_violation(&e) => return Ok(UserWrite::Orphaned),
                    Err(e) => return Err(classify(e)),
                };
                enqueue(&mut conn, &fire(&stored)?, now_ms).await?;
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
        let mut qb = Sql::new("select ");
        push_columns(&mut qb, "u.", USERS.columns);
        match service_sid {
            None => {
                qb.push(
                    " from conversation_configurations c join conversation_users u \
                     on u.service_sid = c.default_chat_service_sid where c.account_sid = ",
                )
                .push_bind(account_sid);
            }
            Some(service) => {
                qb.push(" from conversation_users u where u.account_sid = ")
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
        fetch_optional(qb, self).await
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
        self.write(move |mut conn| {
            Box::pin(async move {
                let change = USERS
                    .assign()
                    .keep_unless("friendly_name", friendly_name)
                    .keep_unless("attributes", attributes)
                    .keep_unless("role_sid", role_sid)
                    .set("date_updated", now);
                let updated = USERS
                    .update_where(change, "sid", &sid)
                    .fetch_optional::<UserRow>(&mut conn)
                    .await;
                match updated {
                    Ok(Some(stored)) => {
                        enqueue(&mut conn, &fire(&stored)?, now_ms).await?;
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
        let done = sql("delete from conversation_users where sid = $1")
            .bind(sid)
            .execute(self)
            .await?;
        Ok(done > 0)
    }
}
