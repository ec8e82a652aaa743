//! `conversation_webhooks`: a conversation's own webhooks (at most five, counted against the
//! locked conversation row, so concurrent creates cannot pass the limit).

use super::conversations::lock_conversation;
use crate::store::{
    Store, StoreResult,
    db::sql,
    query::{owned_table, row},
};

row! {
    #[derive(Debug, Clone, PartialEq)]
    pub struct ScopedWebhookRow {
        seq: i64,
        sid: String,
        conversation_sid: String,
        service_sid: String,
        account_sid: String,
        target: String,
        url: Option<String>,
        method: Option<String>,
        /// JSON arrays.
        filters: String,
        triggers: String,
        flow_sid: Option<String>,
        replay_after: Option<i64>,
        date_created: i64,
        date_updated: i64,
    }
}
owned_table!(SCOPED_WEBHOOKS: ScopedWebhookRow = "conversation_webhooks" by "conversation_sid", Deletable);

/// "Maximum 5 webhooks per conversation" (error 50361).
pub const MAX_SCOPED_WEBHOOKS: i64 = 5;

/// Why a scoped webhook was not created.
#[derive(Debug)]
pub enum ScopedWebhookRefused {
    Missing,
    TooMany,
}

impl Store {
    pub async fn insert_scoped_webhook(
        &self,
        row: &ScopedWebhookRow,
    ) -> StoreResult<Result<ScopedWebhookRow, ScopedWebhookRefused>> {
        let mut tx = self.begin_write().await?;
        if lock_conversation(&mut tx.conn(), &row.conversation_sid)
            .await?
            .is_none()
        {
            return Ok(Err(ScopedWebhookRefused::Missing));
        }
        let count = sql("select count(*) from conversation_webhooks where conversation_sid = $1")
            .bind(&row.conversation_sid)
            .fetch_scalar::<i64>(&mut tx)
            .await?;
        if count >= MAX_SCOPED_WEBHOOKS {
            return Ok(Err(ScopedWebhookRefused::TooMany));
        }
        let stored = SCOPED_WEBHOOKS
            .insert(row)
            .fetch_one::<ScopedWebhookRow>(&mut tx)
            .await?;
        tx.commit().await?;
        Ok(Ok(stored))
    }

    /// Replaces a scoped webhook's configuration (the whole row as given, but its keys).
    pub async fn update_scoped_webhook(
        &self,
        row: &ScopedWebhookRow,
    ) -> StoreResult<Option<ScopedWebhookRow>> {
        let change = SCOPED_WEBHOOKS
            .assign()
            .set("url", row.url.clone())
            .set("method", row.method.clone())
            .set("filters", row.filters.clone())
            .set("triggers", row.triggers.clone())
            .set("flow_sid", row.flow_sid.clone())
            .set("date_updated", row.date_updated);
        SCOPED_WEBHOOKS
            .update(self, &row.conversation_sid, &row.sid, change)
            .await
    }

    /// Every scoped webhook of a conversation (at most five).
    pub async fn scoped_webhooks(
        &self,
        conversation_sid: &str,
    ) -> StoreResult<Vec<ScopedWebhookRow>> {
        self.list_owned(
            conversation_sid,
            crate::store::Keyset::after(None, MAX_SCOPED_WEBHOOKS + 1),
        )
        .await
    }
}
