//! `conversation_configurations`: an account's Conversations configuration (its default service).

use sqlx::{FromRow, QueryBuilder, Sqlite};

use crate::store::{Store, StoreResult};

#[derive(Debug, Clone, PartialEq, FromRow)]
pub struct ConfigurationRow {
    pub account_sid: String,
    pub default_chat_service_sid: String,
    pub default_messaging_service_sid: Option<String>,
    pub default_inactive_timer: Option<String>,
    pub default_closed_timer: Option<String>,
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
