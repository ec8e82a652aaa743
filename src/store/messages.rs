//! Rows of `messages` (2010 Messages, one account's each) and `message_media`, and the status
//! callbacks queued with them (see `migrations/sqlite/0010_messages.sql` for how a row holds
//! its whole simulated delivery).

use super::{
    Conn, Keyset, Sql, Store, StoreResult,
    db::sql,
    error::classify,
    query::{Columns, Table, fetch_all, fetch_optional, owned_table, row},
    webhooks::{NewDelivery, enqueue_due, withdraw_pending},
};

row! {
    #[derive(Debug, Clone, PartialEq)]
    pub struct MessageRow {
        seq: i64,
        sid: String,
        account_sid: String,
        direction: String,
        from_address: Option<String>,
        to_address: String,
        body: String,
        num_segments: i64,
        num_media: i64,
        messaging_service_sid: Option<String>,
        status_callback: Option<String>,
        initial_status: String,
        queued_at: Option<i64>,
        sent_at: Option<i64>,
        final_status: String,
        final_at: i64,
        canceled_at: Option<i64>,
        error_code: Option<i64>,
        date_created: i64,
        date_updated: i64,
    }
}
owned_table!(MESSAGES: MessageRow = "messages" by "account_sid");

row! {
    #[derive(Debug, Clone, PartialEq)]
    pub struct MediaRow {
        seq: i64,
        sid: String,
        message_sid: String,
        account_sid: String,
        url: String,
        content_type: String,
        date_created: i64,
    }
}
/// A message's media, read by message (its owner here) and checked against the account.
const MEDIA: Table = Table::owned("message_media", MediaRow::COLUMNS, "message_sid");

/// A status callback to queue with a message: when it is due (Unix ms) and what it sends.
pub type Callback = (i64, NewDelivery);

/// A message to store: the row, its media and its status callbacks.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub row: MessageRow,
    pub media: Vec<MediaRow>,
    pub callbacks: Vec<Callback>,
}

/// Which of an account's messages a list reads (all given filters apply).
#[derive(Debug, Clone, Default)]
pub struct MessageFilter {
    pub to: Option<String>,
    pub from: Option<String>,
    /// Sent at or after this (Unix ms).
    pub sent_from: Option<i64>,
    /// Sent before this (Unix ms).
    pub sent_before: Option<i64>,
}

/// Writes a message, its media and its callbacks on an open transaction: for a caller whose
/// own transaction records the message with other rows (a Studio execution's step).
pub(crate) async fn write_message(
    conn: &mut Conn<'_>,
    message: &NewMessage,
    now_ms: i64,
) -> StoreResult<MessageRow> {
    // No `returning`: the row is what was written (its `seq` is the database's, and no reader
    // of a fresh message needs it), and on SQLite this runs on the one writer connection, where
    // decoding twenty columns back would be paid by every create in the batch in turn.
    MESSAGES
        .insert_values(&message.row)
        .execute(&mut *conn)
        .await
        .map_err(classify)?;
    let stored = message.row.clone();
    for media in &message.media {
        MEDIA
            .insert_values(media)
            .execute(&mut *conn)
            .await
            .map_err(classify)?;
    }
    enqueue_due(conn, &stored.sid, &message.callbacks, now_ms).await?;
    Ok(stored)
}

impl Store {
    /// Stores a message through the group-commit writer (creates are a hot path).
    pub async fn insert_message(
        &self,
        message: NewMessage,
        now_ms: i64,
    ) -> StoreResult<MessageRow> {
        // Shared, not copied, by every run of the write (a PostgreSQL retry runs it again).
        let message = std::sync::Arc::new(message);
        self.write(move |mut conn| {
            let message = std::sync::Arc::clone(&message);
            Box::pin(async move { write_message(&mut conn, &message, now_ms).await })
        })
        .await
    }

    /// One keyset page of the account's messages that pass `filter`, newest first (see
    /// `Keyset::push_newest_first`). `now_ms` decides which messages have been sent yet.
    pub async fn list_messages(
        &self,
        account_sid: &str,
        filter: &MessageFilter,
        now_ms: i64,
        keyset: Keyset,
    ) -> StoreResult<Vec<MessageRow>> {
        let mut qb = MESSAGES.select_owned(account_sid);
        push_filter(&mut qb, filter, now_ms);
        keyset.push_newest_first(&mut qb, "seq");
        fetch_all(qb, self).await
    }

    /// Empties the body of the account's message `sid`; `None` when it has none.
    pub async fn redact_message(
        &self,
        account_sid: &str,
        sid: &str,
        now_ms: i64,
    ) -> StoreResult<Option<MessageRow>> {
        let change = MESSAGES
            .assign()
            .set("body", "")
            .set("date_updated", now_ms);
        MESSAGES.update(self, account_sid, sid, change).await
    }

    /// Cancels the account's message `sid` if it is scheduled and not yet queued at `now_ms`:
    /// its pending status callbacks are withdrawn and `callbacks` (the `canceled` one) queued,
    /// in one transaction. `Ok(None)` when the message is not (or no longer) cancelable, or
    /// does not exist: the caller tells which by reading it.
    pub async fn cancel_message(
        &self,
        account_sid: &str,
        sid: &str,
        callbacks: Vec<Callback>,
        now_ms: i64,
    ) -> StoreResult<Option<MessageRow>> {
        let (account_sid, sid) = (account_sid.to_owned(), sid.to_owned());
        self.write(move |mut conn| {
            let (account_sid, sid, callbacks) = (account_sid.clone(), sid.clone(), callbacks.clone());
            Box::pin(async move {
                let mut qb = MESSAGES
                    .assign()
                    .set("canceled_at", now_ms)
                    .set("date_updated", now_ms)
                    .into_builder();
                qb.push(" where account_sid = ")
                    .push_bind(account_sid.clone())
                    .push(" and sid = ")
                    .push_bind(sid.clone())
                    .push(" and initial_status = 'scheduled' and canceled_at is null and queued_at > ")
                    .push_bind(now_ms);
                MESSAGES.push_returning(&mut qb);
                let Some(row) = fetch_optional::<MessageRow>(qb, &mut conn).await? else {
                    return Ok(None);
                };
                withdraw_pending(&mut conn, &account_sid, &sid).await?;
                enqueue_due(&mut conn, &sid, &callbacks, now_ms).await?;
                Ok(Some(row))
            })
        })
        .await
    }

    /// Deletes the account's message `sid` (its media go by cascade) and withdraws its status
    /// callbacks not yet sent; false when it has none.
    /// The account's messages among `sids` (in no particular order).
    pub async fn messages_by_sid(
        &self,
        account_sid: &str,
        sids: &[String],
    ) -> StoreResult<Vec<MessageRow>> {
        if sids.is_empty() {
            return Ok(Vec::new());
        }
        let mut qb = MESSAGES.select_owned(account_sid);
        qb.push(" and sid in (");
        let mut list = qb.separated(", ");
        for sid in sids {
            list.push_bind(sid.clone());
        }
        qb.push(")");
        fetch_all(qb, self).await
    }

    pub async fn delete_message(&self, account_sid: &str, sid: &str) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let deleted = MESSAGES.delete(&mut tx, account_sid, sid).await?;
        if deleted {
            withdraw_pending(&mut tx.conn(), account_sid, sid).await?;
        }
        tx.commit().await?;
        Ok(deleted)
    }

    /// One keyset page of a message's media, in creation order.
    pub async fn list_media(
        &self,
        account_sid: &str,
        message_sid: &str,
        keyset: Keyset,
    ) -> StoreResult<Vec<MediaRow>> {
        let mut qb = MEDIA.select_owned(message_sid);
        qb.push(" and account_sid = ")
            .push_bind(account_sid.to_owned());
        keyset.push(&mut qb, "seq");
        fetch_all(qb, self).await
    }

    /// The message's media item `sid`, within the account.
    pub async fn fetch_media(
        &self,
        account_sid: &str,
        message_sid: &str,
        sid: &str,
    ) -> StoreResult<Option<MediaRow>> {
        let mut qb = MEDIA.select_one(message_sid, sid);
        qb.push(" and account_sid = ")
            .push_bind(account_sid.to_owned());
        fetch_optional(qb, self).await
    }

    /// Deletes the message's media item `sid`, within the account.
    pub async fn delete_media(
        &self,
        account_sid: &str,
        message_sid: &str,
        sid: &str,
    ) -> StoreResult<bool> {
        let done = sql(
            "delete from message_media where message_sid = $1 and sid = $2 and account_sid = $3",
        )
        .bind(message_sid)
        .bind(sid)
        .bind(account_sid)
        .execute(self)
        .await?;
        Ok(done > 0)
    }
}

/// ` and …` for each filter given.
fn push_filter(qb: &mut Sql, filter: &MessageFilter, now_ms: i64) {
    if let Some(to) = &filter.to {
        qb.push(" and to_address = ").push_bind(to.clone());
    }
    if let Some(from) = &filter.from {
        qb.push(" and from_address = ").push_bind(from.clone());
    }
    if filter.sent_from.is_some() || filter.sent_before.is_some() {
        // Only a message whose send time has come has a `date_sent` (and none canceled).
        qb.push(" and canceled_at is null and sent_at <= ")
            .push_bind(now_ms);
    }
    if let Some(from) = filter.sent_from {
        qb.push(" and sent_at >= ").push_bind(from);
    }
    if let Some(before) = filter.sent_before {
        qb.push(" and sent_at < ").push_bind(before);
    }
}
