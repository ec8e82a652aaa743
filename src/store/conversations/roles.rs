//! `conversation_roles`: the roles of a service (its four defaults included).

use super::is_foreign_key_violation;
use crate::store::{
    Conn, Store, StoreResult,
    db::sql,
    dialect::lock_parent,
    error::classify,
    query::{owned_table, row},
};

row! {
    #[derive(Debug, Clone, PartialEq)]
    pub struct RoleRow {
        seq: i64,
        sid: String,
        service_sid: String,
        account_sid: String,
        friendly_name: String,
        r#type: String,
        /// JSON text: an array of permission names.
        permissions: String,
        date_created: i64,
        date_updated: i64,
    }
}
owned_table!(ROLES: RoleRow = "conversation_roles" by "service_sid");

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

/// Inserts a role of `service_sid` on an open connection.
pub(crate) async fn insert_role_on(
    conn: &mut Conn<'_>,
    service_sid: &str,
    account_sid: &str,
    role: &NewRole,
    now: i64,
) -> Result<RoleRow, sqlx::Error> {
    let row = RoleRow {
        seq: 0,
        sid: role.sid.clone(),
        service_sid: service_sid.to_owned(),
        account_sid: account_sid.to_owned(),
        friendly_name: role.friendly_name.clone(),
        r#type: role.r#type.clone(),
        permissions: role.permissions.clone(),
        date_created: now,
        date_updated: now,
    };
    ROLES.insert(&row).fetch_one::<RoleRow>(conn).await
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
        let mut tx = self.begin_write().await?;
        let inserted = insert_role_on(&mut tx.conn(), service_sid, account_sid, role, now).await;
        if inserted.is_ok() {
            tx.commit().await?;
        }
        match inserted {
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
        ROLES.update(self, service_sid, sid, change).await
    }

    /// Deletes a role unless a user holds it or the service names it as a default.
    pub async fn delete_role(&self, service_sid: &str, sid: &str) -> StoreResult<RoleDelete> {
        let mut tx = self.begin_write().await?;
        // A user taking the role, or the service naming it a default, races this check: both
        // lock the role's row (a user insert's foreign key takes a share lock on it).
        lock_parent(&mut tx, "conversation_roles", "sid", sid).await?;
        if !ROLES.exists(&mut tx, service_sid, sid).await? {
            return Ok(RoleDelete::NotFound);
        }
        let in_use: i64 = sql(
            "select (select count(*) from conversation_users where role_sid = $1) + \
             (select count(*) from conversation_participants where role_sid = $1) + \
             (select count(*) from conversation_services where sid = $2 and $1 in \
              (default_chat_service_role_sid, default_conversation_role_sid, default_conversation_creator_role_sid))",
        )
        .bind(sid)
        .bind(service_sid)
        .fetch_scalar(&mut tx)
        .await?;
        if in_use > 0 {
            return Ok(RoleDelete::InUse);
        }
        sql("delete from conversation_roles where sid = $1")
            .bind(sid)
            .execute(&mut tx)
            .await?;
        tx.commit().await?;
        Ok(RoleDelete::Deleted)
    }
}
