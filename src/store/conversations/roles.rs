//! `conversation_roles`: the roles of a service (its four defaults included).

use sqlx::{FromRow, QueryBuilder, Sqlite, SqliteConnection};

use super::is_foreign_key_violation;
use crate::store::{Store, StoreResult, error::classify, query::owned_table};

#[derive(Debug, Clone, PartialEq, FromRow)]
pub struct RoleRow {
    pub seq: i64,
    pub sid: String,
    pub service_sid: String,
    pub account_sid: String,
    pub friendly_name: String,
    pub r#type: String,
    /// JSON text: an array of permission names.
    pub permissions: String,
    pub date_created: i64,
    pub date_updated: i64,
}

/// A role to insert.
#[derive(Debug, Clone)]
pub struct NewRole {
    pub sid: String,
    pub friendly_name: String,
    pub r#type: String,
    pub permissions: String,
}

/// Why a role could not be deleted.
pub enum RoleDelete {
    Deleted,
    NotFound,
    InUse,
}

owned_table! {
    ROLES: RoleRow = "conversation_roles" by "service_sid",
    "seq, sid, service_sid, account_sid, friendly_name, type, permissions, date_created, date_updated"
}

/// Inserts a role of `service_sid` on an open connection.
pub(crate) async fn insert_role_on(
    conn: &mut SqliteConnection,
    service_sid: &str,
    account_sid: &str,
    role: &NewRole,
    now: i64,
) -> Result<RoleRow, sqlx::Error> {
    let mut qb = QueryBuilder::<Sqlite>::new(
        "insert into conversation_roles (sid, service_sid, account_sid, friendly_name, type, permissions, date_created, date_updated) values (",
    );
    let mut values = qb.separated(", ");
    values.push_bind(role.sid.clone());
    values.push_bind(service_sid);
    values.push_bind(account_sid);
    values.push_bind(role.friendly_name.clone());
    values.push_bind(role.r#type.clone());
    values.push_bind(role.permissions.clone());
    values.push_bind(now);
    values.push_bind(now);
    qb.push(") returning ").push(ROLES.columns);
    qb.build_query_as::<RoleRow>().fetch_one(conn).await
}

impl Store {
    /// Inserts a role; `Ok(None)` when its service was deleted meanwhile (the foreign key).
    pub async fn insert_role(
        &self,
        service_sid: &str,
        account_sid: &str,
        role: &NewRole,
        now: i64,
    ) -> StoreResult<Option<RoleRow>> {
        let mut conn = self.pool.acquire().await?;
        match insert_role_on(&mut conn, service_sid, account_sid, role, now).await {
            Ok(row) => Ok(Some(row)),
            Err(e) if is_foreign_key_violation(&e) => Ok(None),
            Err(e) => Err(classify(e)),
        }
    }

    pub async fn update_role_permissions(
        &self,
        service_sid: &str,
        sid: &str,
        permissions: &str,
        now: i64,
    ) -> StoreResult<Option<RoleRow>> {
        let change = ROLES
            .assign()
            .set("permissions", permissions)
            .set("date_updated", now);
        ROLES.update(&self.pool, service_sid, sid, change).await
    }

    /// Deletes a role unless a user holds it or the service names it as a default.
    pub async fn delete_role(&self, service_sid: &str, sid: &str) -> StoreResult<RoleDelete> {
        let mut tx = self.begin_write().await?;
        if !ROLES.exists(&mut *tx, service_sid, sid).await? {
            return Ok(RoleDelete::NotFound);
        }
        let in_use: i64 = sqlx::query_scalar(
            "select (select count(*) from conversation_users where role_sid = ?1) + \
             (select count(*) from conversation_services where sid = ?2 and ?1 in \
              (default_chat_service_role_sid, default_conversation_role_sid, default_conversation_creator_role_sid))",
        )
        .bind(sid)
        .bind(service_sid)
        .fetch_one(&mut *tx)
        .await?;
        if in_use > 0 {
            return Ok(RoleDelete::InUse);
        }
        sqlx::query("delete from conversation_roles where sid = ?")
            .bind(sid)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(RoleDelete::Deleted)
    }
}
