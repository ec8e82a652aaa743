//! `conversation_services`: an account's services, created with their default roles, and each
//! service's configuration columns (default roles, reachability).

use super::roles::{NewRole, insert_role_on};
use crate::store::{
    Conn, Store, StoreResult,
    db::sql,
    dialect::lock_parent,
    query::{change, owned_table, row},
};

row! {
    #[derive(Debug, Clone, PartialEq)]
    pub struct ServiceRow {
        seq: i64,
        sid: String,
        account_sid: String,
        friendly_name: String,
        default_chat_service_role_sid: Option<String>,
        default_conversation_role_sid: Option<String>,
        default_conversation_creator_role_sid: Option<String>,
        reachability_enabled: bool,
        date_created: i64,
        date_updated: i64,
    }
}
owned_table!(SERVICES: ServiceRow = "conversation_services" by "account_sid");

/// A service with its default roles; the three defaults name roles in `roles` by SID.
#[derive(Debug, Clone)]
pub struct NewService {
    pub sid: String,
    pub account_sid: String,
    pub friendly_name: String,
    pub roles: Vec<NewRole>,
    pub default_chat_service_role_sid: String,
    pub default_conversation_role_sid: String,
    pub default_conversation_creator_role_sid: String,
    pub now: i64,
}

change! {
    /// Field changes of a service configuration.
    pub struct ServiceConfigChange {
        default_chat_service_role_sid: String,
        default_conversation_role_sid: String,
        default_conversation_creator_role_sid: String,
        reachability_enabled: bool,
    }
}

/// Inserts a service and its roles on an open transaction.
pub(crate) async fn insert_service(conn: &mut Conn<'_>, new: &NewService) -> StoreResult<()> {
    sql(
        "insert into conversation_services (sid, account_sid, friendly_name, date_created, date_updated) \
         values ($1, $2, $3, $4, $5)",
    )
    .bind(&new.sid)
    .bind(&new.account_sid)
    .bind(&new.friendly_name)
    .bind(new.now)
    .bind(new.now)
    .execute(&mut *conn)
    .await?;
    for role in &new.roles {
        insert_role_on(conn, &new.sid, &new.account_sid, role, new.now).await?;
    }
    sql(
        "update conversation_services set default_chat_service_role_sid = $1, \
         default_conversation_role_sid = $2, default_conversation_creator_role_sid = $3 where sid = $4",
    )
    .bind(&new.default_chat_service_role_sid)
    .bind(&new.default_conversation_role_sid)
    .bind(&new.default_conversation_creator_role_sid)
    .bind(&new.sid)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Makes `new` the account's default service, with its configuration row (on an open
/// transaction).
pub(crate) async fn insert_default_service(
    conn: &mut Conn<'_>,
    new: &NewService,
) -> StoreResult<()> {
    insert_service(conn, new).await?;
    sql("insert into conversation_configurations (account_sid, default_chat_service_sid) values ($1, $2)")
        .bind(&new.account_sid)
        .bind(&new.sid)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

impl Store {
    pub async fn create_default_service(&self, new: &NewService) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        insert_default_service(&mut tx.conn(), new).await?;
        tx.commit().await
    }

    pub async fn create_service(&self, new: &NewService) -> StoreResult<ServiceRow> {
        let mut tx = self.begin_write().await?;
        insert_service(&mut tx.conn(), new).await?;
        let row = SERVICES.fetch(&mut tx, &new.account_sid, &new.sid).await?;
        tx.commit().await?;
        row.ok_or_else(|| sqlx::Error::RowNotFound.into())
    }

    /// Deletes a service with its roles and users. `Ok(None)` when it is the account's default
    /// service (refused); `Ok(Some(false))` when not found.
    pub async fn delete_service(&self, account_sid: &str, sid: &str) -> StoreResult<Option<bool>> {
        let mut tx = self.begin_write().await?;
        // The configuration row is what a concurrent `POST /v1/Configuration` changes.
        lock_parent(
            &mut tx,
            "conversation_configurations",
            "account_sid",
            account_sid,
        )
        .await?;
        let is_default: Option<String> = sql(
            "select account_sid from conversation_configurations where account_sid = $1 and default_chat_service_sid = $2",
        )
        .bind(account_sid)
        .bind(sid)
        .fetch_optional_scalar(&mut tx)
        .await?;
        if is_default.is_some() {
            return Ok(None);
        }
        // Users first: they reference roles, which go with the service.
        sql("delete from conversation_users where service_sid = $1 and account_sid = $2")
            .bind(sid)
            .bind(account_sid)
            .execute(&mut tx)
            .await?;
        let deleted = SERVICES.delete(&mut tx, account_sid, sid).await?;
        tx.commit().await?;
        Ok(Some(deleted))
    }

    pub async fn update_service_config(
        &self,
        account_sid: &str,
        sid: &str,
        change: &ServiceConfigChange,
        now: i64,
    ) -> StoreResult<Option<ServiceRow>> {
        let change = change.assign(SERVICES.assign()).set("date_updated", now);
        SERVICES.update(self, account_sid, sid, change).await
    }
}
