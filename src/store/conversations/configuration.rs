//! `conversation_configurations`: an account's Conversations configuration (its default service).

use sqlx::FromRow;

use crate::store::{
    Store, StoreResult,
    query::{Table, fetch_optional},
};

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

/// One row per account: `sid` is unused (there is no row SID).
const CONFIGURATIONS: Table = Table::sole(
    "conversation_configurations",
    "account_sid, default_chat_service_sid, default_messaging_service_sid, \
     default_inactive_timer, default_closed_timer",
    "account_sid",
);

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
        let assignments = CONFIGURATIONS
            .assign()
            .keep_unless(
                "default_chat_service_sid",
                change.default_chat_service_sid.clone(),
            )
            .keep_unless(
                "default_messaging_service_sid",
                change.default_messaging_service_sid.clone(),
            )
            .keep_unless(
                "default_inactive_timer",
                change.default_inactive_timer.clone(),
            )
            .keep_unless("default_closed_timer", change.default_closed_timer.clone());
        CONFIGURATIONS
            .update_sole(&self.pool, account_sid, assignments)
            .await
    }
}

/// An account's Conversations configuration row.
pub(crate) async fn configuration_in<'c>(
    db: impl sqlx::SqliteExecutor<'c>,
    account_sid: &str,
) -> StoreResult<Option<ConfigurationRow>> {
    fetch_optional(CONFIGURATIONS.select_owned(account_sid), db).await
}
