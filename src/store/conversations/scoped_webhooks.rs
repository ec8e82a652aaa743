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

/// One post-event webhook a conversation's events may reach, of any of the three levels:
/// `level` 0 the account's target, 1 the service's, 2 one of the conversation's own (in `seq`
/// order; their `triggers` and `flow_sid`).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow, serde::Deserialize)]
pub struct HookRow {
    pub level: i64,
    pub seq: i64,
    pub target: String,
    pub url: Option<String>,
    pub method: Option<String>,
    /// JSON arrays.
    pub filters: String,
    pub triggers: String,
    pub flow_sid: Option<String>,
}

/// `HookRow::level` of each table.
pub const ACCOUNT_LEVEL: i64 = 0;
pub const SERVICE_LEVEL: i64 = 1;
pub const CONVERSATION_LEVEL: i64 = 2;

impl Store {
    /// Every webhook an event of `conversation_sid` (or, `None`, of the service alone) may
    /// reach, in one query: the account's target, the service's and the conversation's own, in
    /// that order (a request that fires several events reads them once).
    pub async fn conversation_hooks(
        &self,
        account_sid: &str,
        service_sid: &str,
        conversation_sid: Option<&str>,
    ) -> StoreResult<Vec<HookRow>> {
        Ok(sql(
            "select cast(0 as bigint) as level, cast(0 as bigint) as seq, target, \
             post_webhook_url as url, method, filters, '[]' as triggers, \
             cast(null as text) as flow_sid from account_webhooks where account_sid = $1 \
             union all select 1, 0, 'webhook', post_webhook_url, method, filters, '[]', null \
             from service_webhooks where service_sid = $2 \
             union all select 2, seq, target, url, method, filters, triggers, flow_sid \
             from conversation_webhooks where conversation_sid = $3 \
             order by level, seq",
        )
        .bind(account_sid)
        .bind(service_sid)
        .bind(conversation_sid)
        .fetch_all::<HookRow>(self)
        .await?)
    }
}
