//! Rows of the Conversations tables: services, roles, users and account configuration.

use sqlx::{FromRow, QueryBuilder, Sqlite, SqliteConnection};

use super::{
    Keyset, Store, StoreResult,
    error::classify,
    webhooks::{NewDelivery, enqueue},
};

#[derive(Debug, Clone, PartialEq, FromRow)]
pub struct ServiceRow {
    pub seq: i64,
    pub sid: String,
    pub account_sid: String,
    pub friendly_name: String,
    pub default_chat_service_role_sid: Option<String>,
    pub default_conversation_role_sid: Option<String>,
    pub default_conversation_creator_role_sid: Option<String>,
    pub reachability_enabled: bool,
    pub date_created: i64,
    pub date_updated: i64,
}

#[derive(Debug, Clone, PartialEq, FromRow)]
pub struct RoleRow {
    pub seq: i64,
    pub sid: String,
    pub service_sid: String,
    pub account_sid: String,
    pub friendly_name: String,
    pub r#type: String,
    pub permissions: String,
    pub date_created: i64,
    pub date_updated: i64,
}

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

#[derive(Debug, Clone, PartialEq, FromRow)]
pub struct ConfigurationRow {
    pub account_sid: String,
    pub default_chat_service_sid: String,
    pub default_messaging_service_sid: Option<String>,
    pub default_inactive_timer: Option<String>,
    pub default_closed_timer: Option<String>,
}

/// A role to insert.
#[derive(Debug, Clone)]
pub struct NewRole {
    pub sid: String,
    pub friendly_name: String,
    pub r#type: String,
    pub permissions: String,
}

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

const SERVICE_COLUMNS: &str = "seq, sid, account_sid, friendly_name, default_chat_service_role_sid, \
     default_conversation_role_sid, default_conversation_creator_role_sid, reachability_enabled, \
     date_created, date_updated";
const ROLE_COLUMNS: &str = "seq, sid, service_sid, account_sid, friendly_name, type, permissions, date_created, date_updated";
const USER_COLUMNS: &str = "seq, sid, service_sid, account_sid, identity, friendly_name, attributes, \
     role_sid, date_created, date_updated";

/// Inserts a service and its roles on an open transaction.
pub(crate) async fn insert_service(
    conn: &mut SqliteConnection,
    new: &NewService,
) -> StoreResult<()> {
    sqlx::query(
        "insert into conversation_services (sid, account_sid, friendly_name, date_created, date_updated) \
         values (?, ?, ?, ?, ?)",
    )
    .bind(&new.sid)
    .bind(&new.account_sid)
    .bind(&new.friendly_name)
    .bind(new.now)
    .bind(new.now)
    .execute(&mut *conn)
    .await?;
    for role in &new.roles {
        sqlx::query(
            "insert into conversation_roles (sid, service_sid, account_sid, friendly_name, type, \
             permissions, date_created, date_updated) values (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&role.sid)
        .bind(&new.sid)
        .bind(&new.account_sid)
        .bind(&role.friendly_name)
        .bind(&role.r#type)
        .bind(&role.permissions)
        .bind(new.now)
        .bind(new.now)
        .execute(&mut *conn)
        .await?;
    }
    sqlx::query(
        "update conversation_services set default_chat_service_role_sid = ?, \
         default_conversation_role_sid = ?, default_conversation_creator_role_sid = ? where sid = ?",
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
    conn: &mut SqliteConnection,
    new: &NewService,
) -> StoreResult<()> {
    insert_service(conn, new).await?;
    sqlx::query("insert into conversation_configurations (account_sid, default_chat_service_sid) values (?, ?)")
        .bind(&new.account_sid)
        .bind(&new.sid)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Why a role could not be deleted.
pub enum RoleDelete {
    Deleted,
    NotFound,
    InUse,
}

/// Field changes of a service configuration; `None` leaves a field as it is.
#[derive(Debug, Default)]
pub struct ServiceConfigChange {
    pub default_chat_service_role_sid: Option<String>,
    pub default_conversation_role_sid: Option<String>,
    pub default_conversation_creator_role_sid: Option<String>,
    pub reachability_enabled: Option<bool>,
}

/// Field changes of an account configuration.
#[derive(Debug, Default)]
pub struct ConfigChange {
    pub default_chat_service_sid: Option<String>,
    pub default_messaging_service_sid: Option<String>,
    pub default_inactive_timer: Option<String>,
    pub default_closed_timer: Option<String>,
}

impl Store {
    /// Accounts that have no Conversations configuration yet (created before migration 0004).
    pub async fn accounts_without_default_service(&self) -> StoreResult<Vec<String>> {
        Ok(sqlx::query_scalar(
            "select a.sid from accounts a left join conversation_configurations c \
             on c.account_sid = a.sid where c.account_sid is null order by a.seq",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn create_default_service(&self, new: &NewService) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        insert_default_service(&mut tx, new).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn create_service(&self, new: &NewService) -> StoreResult<ServiceRow> {
        let mut tx = self.begin_write().await?;
        insert_service(&mut tx, new).await?;
        let row = fetch_service_on(&mut tx, &new.account_sid, &new.sid).await?;
        tx.commit().await?;
        row.ok_or_else(|| sqlx::Error::RowNotFound.into())
    }

    pub async fn fetch_service(
        &self,
        account_sid: &str,
        sid: &str,
    ) -> StoreResult<Option<ServiceRow>> {
        let mut conn = self.pool.acquire().await?;
        fetch_service_on(&mut conn, account_sid, sid).await
    }

    pub async fn list_services(
        &self,
        account_sid: &str,
        keyset: Keyset,
    ) -> StoreResult<Vec<ServiceRow>> {
        self.page_of(
            SERVICE_COLUMNS,
            " from conversation_services where account_sid = ",
            account_sid,
            "seq",
            keyset,
        )
        .await
    }

    /// Deletes a service with its roles and users. `Ok(None)` when it is the account's default
    /// service (refused); `Ok(Some(false))` when not found.
    pub async fn delete_service(&self, account_sid: &str, sid: &str) -> StoreResult<Option<bool>> {
        let mut tx = self.begin_write().await?;
        let is_default: Option<String> = sqlx::query_scalar(
            "select account_sid from conversation_configurations where account_sid = ? and default_chat_service_sid = ?",
        )
        .bind(account_sid)
        .bind(sid)
        .fetch_optional(&mut *tx)
        .await?;
        if is_default.is_some() {
            return Ok(None);
        }
        // Users first: they reference roles, which go with the service.
        sqlx::query("delete from conversation_users where service_sid = ? and account_sid = ?")
            .bind(sid)
            .bind(account_sid)
            .execute(&mut *tx)
            .await?;
        let done =
            sqlx::query("delete from conversation_services where sid = ? and account_sid = ?")
                .bind(sid)
                .bind(account_sid)
                .execute(&mut *tx)
                .await?;
        tx.commit().await?;
        Ok(Some(done.rows_affected() > 0))
    }

    pub async fn update_service_config(
        &self,
        account_sid: &str,
        sid: &str,
        change: &ServiceConfigChange,
        now: i64,
    ) -> StoreResult<Option<ServiceRow>> {
        let mut qb = QueryBuilder::<Sqlite>::new(
            "update conversation_services set default_chat_service_role_sid = coalesce(",
        );
        qb.push_bind(change.default_chat_service_role_sid.clone())
            .push(", default_chat_service_role_sid), default_conversation_role_sid = coalesce(")
            .push_bind(change.default_conversation_role_sid.clone())
            .push(", default_conversation_role_sid), default_conversation_creator_role_sid = coalesce(")
            .push_bind(change.default_conversation_creator_role_sid.clone())
            .push(", default_conversation_creator_role_sid), reachability_enabled = coalesce(")
            .push_bind(change.reachability_enabled)
            .push(", reachability_enabled), date_updated = ")
            .push_bind(now)
            .push(" where account_sid = ")
            .push_bind(account_sid)
            .push(" and sid = ")
            .push_bind(sid)
            .push(" returning ")
            .push(SERVICE_COLUMNS);
        Ok(qb
            .build_query_as::<ServiceRow>()
            .fetch_optional(&self.pool)
            .await?)
    }

    pub async fn fetch_configuration(
        &self,
        account_sid: &str,
    ) -> StoreResult<Option<ConfigurationRow>> {
        configuration_in(&self.pool, account_sid).await
    }

    pub async fn update_configuration(
        &self,
        account_sid: &str,
        change: &ConfigChange,
    ) -> StoreResult<Option<ConfigurationRow>> {
        let mut qb = QueryBuilder::<Sqlite>::new(
            "update conversation_configurations set default_chat_service_sid = coalesce(",
        );
        qb.push_bind(change.default_chat_service_sid.clone())
            .push(", default_chat_service_sid), default_messaging_service_sid = coalesce(")
            .push_bind(change.default_messaging_service_sid.clone())
            .push(", default_messaging_service_sid), default_inactive_timer = coalesce(")
            .push_bind(change.default_inactive_timer.clone())
            .push(", default_inactive_timer), default_closed_timer = coalesce(")
            .push_bind(change.default_closed_timer.clone())
            .push(", default_closed_timer) where account_sid = ")
            .push_bind(account_sid)
            .push(" returning account_sid, default_chat_service_sid, default_messaging_service_sid, default_inactive_timer, default_closed_timer");
        Ok(qb
            .build_query_as::<ConfigurationRow>()
            .fetch_optional(&self.pool)
            .await?)
    }

    pub async fn insert_role(
        &self,
        service_sid: &str,
        account_sid: &str,
        role: &NewRole,
        now: i64,
    ) -> StoreResult<RoleRow> {
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
        qb.push(") returning ").push(ROLE_COLUMNS);
        qb.build_query_as::<RoleRow>()
            .fetch_one(&self.pool)
            .await
            .map_err(classify)
    }

    pub async fn fetch_role(&self, service_sid: &str, sid: &str) -> StoreResult<Option<RoleRow>> {
        let mut qb = QueryBuilder::<Sqlite>::new("select ");
        qb.push(ROLE_COLUMNS)
            .push(" from conversation_roles where service_sid = ")
            .push_bind(service_sid)
            .push(" and sid = ")
            .push_bind(sid);
        Ok(qb
            .build_query_as::<RoleRow>()
            .fetch_optional(&self.pool)
            .await?)
    }

    pub async fn list_roles(&self, service_sid: &str, keyset: Keyset) -> StoreResult<Vec<RoleRow>> {
        self.page_of(
            ROLE_COLUMNS,
            " from conversation_roles where service_sid = ",
            service_sid,
            "seq",
            keyset,
        )
        .await
    }

    pub async fn update_role_permissions(
        &self,
        service_sid: &str,
        sid: &str,
        permissions: &str,
        now: i64,
    ) -> StoreResult<Option<RoleRow>> {
        let mut qb = QueryBuilder::<Sqlite>::new("update conversation_roles set permissions = ");
        qb.push_bind(permissions)
            .push(", date_updated = ")
            .push_bind(now)
            .push(" where service_sid = ")
            .push_bind(service_sid)
            .push(" and sid = ")
            .push_bind(sid)
            .push(" returning ")
            .push(ROLE_COLUMNS);
        Ok(qb
            .build_query_as::<RoleRow>()
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Deletes a role unless a user holds it or the service names it as a default.
    pub async fn delete_role(&self, service_sid: &str, sid: &str) -> StoreResult<RoleDelete> {
        let mut tx = self.begin_write().await?;
        let exists: Option<i64> = sqlx::query_scalar(
            "select seq from conversation_roles where service_sid = ? and sid = ?",
        )
        .bind(service_sid)
        .bind(sid)
        .fetch_optional(&mut *tx)
        .await?;
        if exists.is_none() {
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

    /// Inserts a user and queues the webhooks `fire` derives from the stored row, in one
    /// transaction; a taken identity in the service is `StoreError::Conflict`.
    pub async fn insert_user(
        &self,
        row: &UserRow,
        fire: impl FnOnce(&UserRow) -> Vec<NewDelivery> + Send + 'static,
        now_ms: i64,
    ) -> StoreResult<UserRow> {
        let row = row.clone();
        self.writer
            .write(move |conn| {
                Box::pin(async move {
                    let stored = sqlx::query_as::<_, UserRow>(
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
                    .await
                    .map_err(classify)?;
                    enqueue(conn, &fire(&stored), now_ms).await?;
                    Ok(stored)
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
        Ok(qb
            .build_query_as::<UserRow>()
            .fetch_optional(&self.pool)
            .await?)
    }

    pub async fn list_users(&self, service_sid: &str, keyset: Keyset) -> StoreResult<Vec<UserRow>> {
        self.page_of(
            USER_COLUMNS,
            " from conversation_users where service_sid = ",
            service_sid,
            "seq",
            keyset,
        )
        .await
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
        fire: impl FnOnce(&UserRow) -> Vec<NewDelivery> + Send + 'static,
        now_ms: i64,
    ) -> StoreResult<Option<UserRow>> {
        let (sid, friendly_name, attributes, role_sid) = (
            sid.to_owned(),
            friendly_name.map(str::to_owned),
            attributes.map(str::to_owned),
            role_sid.map(str::to_owned),
        );
        self.writer
            .write(move |conn| {
                Box::pin(async move {
                    let stored = sqlx::query_as::<_, UserRow>(
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
                    .await?;
                    if let Some(stored) = &stored {
                        enqueue(conn, &fire(stored), now_ms).await?;
                    }
                    Ok(stored)
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

async fn fetch_service_on(
    conn: &mut SqliteConnection,
    account_sid: &str,
    sid: &str,
) -> StoreResult<Option<ServiceRow>> {
    let mut qb = QueryBuilder::<Sqlite>::new("select ");
    qb.push(SERVICE_COLUMNS)
        .push(" from conversation_services where account_sid = ")
        .push_bind(account_sid)
        .push(" and sid = ")
        .push_bind(sid);
    Ok(qb
        .build_query_as::<ServiceRow>()
        .fetch_optional(conn)
        .await?)
}

/// An account's Conversations configuration row.
pub(crate) async fn configuration_in<'c>(
    db: impl sqlx::SqliteExecutor<'c>,
    account_sid: &str,
) -> StoreResult<Option<ConfigurationRow>> {
    Ok(sqlx::query_as::<_, ConfigurationRow>(
        "select account_sid, default_chat_service_sid, default_messaging_service_sid, \
         default_inactive_timer, default_closed_timer from conversation_configurations where account_sid = ?",
    )
    .bind(account_sid)
    .fetch_optional(db)
    .await?)
}
