//! `conversation_configurations`: an account's Conversations configuration (its default service).

use crate::store::{
    Store, StoreResult,
    db::sql,
    query::{Sole, Table, change, row, sole_table},
};

row! {
    #[derive(Debug, Clone, PartialEq)]
    pub struct ConfigurationRow {
        account_sid: String,
        default_chat_service_sid: String,
        default_messaging_service_sid: Option<String>,
        default_inactive_timer: Option<String>,
        default_closed_timer: Option<String>,
    }
}
sole_table!(ConfigurationRow = "conversation_configurations" by "account_sid");

change! {
    /// Field changes of an account configuration.
    pub struct ConfigChange {
        default_chat_service_sid: String,
        default_messaging_service_sid: String,
        default_inactive_timer: String,
        default_closed_timer: String,
    }
}

/// One row per account.
const CONFIGURATIONS: Table = <ConfigurationRow as Sole>::TABLE;

impl Store {
    /// Accounts that have no Conversations configuration yet (created before migration 0004).
    pub async fn accounts_without_default_service(&self) -> StoreResult<Vec<String>> {
        Ok(sql(
            "select a.sid from accounts a left join conversation_configurations c \
             on c.account_sid = a.sid where c.account_sid is null order by a.seq",
        )
        .fetch_all_scalar(self)
        .await?)
    }

    pub async fn fetch_configuration(
        &self,
        account_sid: &str,
    ) -> StoreResult<Option<ConfigurationRow>> {
        self.sole(account_sid).await
    }

    pub async fn update_configuration(
        &self,
        account_sid: &str,
        change: &ConfigChange,
    ) -> StoreResult<Option<ConfigurationRow>> {
        let assignments = change.assign(CONFIGURATIONS.assign());
        CONFIGURATIONS
            .update_sole(self, account_sid, assignments)
            .await
    }
}
