//! `conversation_messages`: a conversation's messages, listed by index. A create goes through
//! group commit (`store::writer`): in its savepoint it takes the next index from the
//! conversation's counter (the same UPDATE that locks the conversation row), so indexes are
//! strictly increasing under concurrent posts and never reused after a delete; a unique index
//! on (conversation, index) is the database's own guard.

use super::conversations::{ConversationRow, Fire};
use crate::store::{
    Keyset, Sql, Store, StoreError, StoreResult,
    db::sql,
    messages::{NewMessage, write_message},
    query::{Owned, Table, fetch_all, fetch_optional, row},
    webhooks::enqueue,
};

row! {
    #[derive(Debug, Clone, PartialEq)]
    pub struct MessageRow {
        seq: i64,
        sid: String,
        conversation_sid: String,
        service_sid: String,
        account_sid: String,
        message_index: i64,
        author: String,
        body: Option<String>,
        media: Option<String>,
        attributes: String,
        participant_sid: Option<String>,
        content_sid: Option<String>,
        subject: Option<String>,
        date_created: i64,
        date_updated: i64,
    }
}

/// Messages are named by SID within their conversation and listed by index.
const MESSAGES: Table = Table {
    seq: "message_index",
    ..Table::owned(
        "conversation_messages",
        <MessageRow as crate::store::query::Columns>::COLUMNS,
        "conversation_sid",
    )
};

impl Owned for MessageRow {
    const TABLE: Table = MESSAGES;
    // A message's place in its list is its index (the table's `seq` column above).
    #[allow(clippy::misnamed_getters)]
    fn seq(&self) -> i64 {
        self.message_index
    }
}

row! {
    /// A delivery receipt (DY): the 2010 Message a conversation message was sent as to one
    /// non-chat participant.
    #[derive(Debug, Clone, PartialEq)]
    pub struct ReceiptRow {
        seq: i64,
        sid: String,
        account_sid: String,
        conversation_sid: String,
        message_sid: String,
        participant_sid: String,
        channel_message_sid: String,
        date_created: i64,
    }
}

const RECEIPTS: Table = Table::owned(
    "conversation_message_receipts",
    <ReceiptRow as crate::store::query::Columns>::COLUMNS,
    "message_sid",
);

/// The channel side of a conversation message, written in its transaction: 2010 Messages (the
/// inbound one it came as, the SMS it is sent as) and the receipts of those sent.
#[derive(Debug, Clone, Default)]
pub struct Delivered {
    pub messages: Vec<NewMessage>,
    pub receipts: Vec<ReceiptRow>,
}

/// Page keys of a newest-first list are `MIRROR - index` (see `Keyset::push_mirrored`).
pub const MIRROR: i64 = 1 << 52;

/// A stored message, and the conversation as it is after the message reactivated it (`None`
/// when it was not inactive).
pub struct Posted {
    pub message: MessageRow,
    pub reactivated: Option<ConversationRow>,
}

/// The index a message took, and the state of its conversation.
#[derive(sqlx::FromRow)]
struct Taken {
    message_index: i64,
    state: String,
}

/// Why a message was not written.
#[derive(Debug)]
pub enum MessageRefused {
    Missing,
    Closed,
}

/// A change to a message; `None` leaves a column as it is.
#[derive(Debug, Default, Clone)]
pub struct MessageChange {
    pub author: Option<String>,
    pub body: Option<String>,
    pub attributes: Option<String>,
    pub subject: Option<String>,
    pub date_created: Option<i64>,
    pub date_updated: i64,
}

impl Store {
    /// A keyset page of the message's receipts, in the order they were written.
    pub async fn message_receipts(
        &self,
        message_sid: &str,
        keyset: Keyset,
    ) -> StoreResult<Vec<ReceiptRow>> {
        let mut qb = RECEIPTS.select_owned(message_sid);
        keyset.push(&mut qb, RECEIPTS.seq);
        fetch_all(qb, self).await
    }

    /// The receipts of any of `message_sids`.
    pub async fn receipts_of(&self, message_sids: &[String]) -> StoreResult<Vec<ReceiptRow>> {
        if message_sids.is_empty() {
            return Ok(Vec::new());
        }
        let mut qb = RECEIPTS.select();
        qb.push(" where message_sid in (");
        let mut list = qb.separated(", ");
        for sid in message_sids {
            list.push_bind(sid.clone());
        }
        qb.push(") order by seq");
        fetch_all(qb, self).await
    }

    /// The message's receipt `sid`.
    pub async fn message_receipt(
        &self,
        message_sid: &str,
        sid: &str,
    ) -> StoreResult<Option<ReceiptRow>> {
        fetch_optional(RECEIPTS.select_one(message_sid, sid), self).await
    }

    /// Posts a message: `row.message_index` and `row.participant_sid` are filled in here (the
    /// next index; the participant whose identity or address is the author). An inactive
    /// conversation becomes active; timers restart with `inactive_due`/`closed_due`.
    pub async fn insert_conversation_message(
        &self,
        row: MessageRow,
        inactive_due: Option<i64>,
        closed_due: Option<i64>,
        fire: Fire<Posted>,
        delivered: Delivered,
        now_ms: i64,
    ) -> StoreResult<Result<Posted, MessageRefused>> {
        let outcome = self
            .write(move |mut conn| {
                let (mut row, fire) = (row.clone(), std::sync::Arc::clone(&fire));
                let delivered = delivered.clone();
                Box::pin(async move {
                    let reactivated: Option<ConversationRow> = {
                        let mut qb = Sql::new(
                            "update conversations set state = 'active' where state = 'inactive' and sid = ",
                        );
                        qb.push_bind(row.conversation_sid.clone());
                        <ConversationRow as Owned>::TABLE.push_returning(&mut qb);
                        fetch_optional(qb, &mut conn).await?
                    };
                    let taken = sql(
                        "update conversations set next_message_index = next_message_index + 1, \
                         date_inactive = coalesce($2, date_inactive), \
                         date_closed = coalesce($3, date_closed) \
                         where sid = $1 returning next_message_index - 1 as message_index, state",
                    )
                    .bind(&row.conversation_sid)
                    .bind(inactive_due)
                    .bind(closed_due)
                    .fetch_optional::<Taken>(&mut conn)
                    .await?;
                    let index = match taken {
                        None => return Err(StoreError::Refused("missing")),
                        Some(t) if t.state == "closed" => {
                            return Err(StoreError::Refused("closed"));
                        }
                        Some(t) => t.message_index,
                    };
                    row.message_index = index;
                    row.participant_sid = sql(
                        "select sid from conversation_participants where conversation_sid = $1 \
                         and (identity = $2 or address = $2) order by seq limit 1",
                    )
                    .bind(&row.conversation_sid)
                    .bind(&row.author)
                    .fetch_optional_scalar::<String>(&mut conn)
                    .await?;
                    let message = MESSAGES
                        .insert(&row)
                        .fetch_one::<MessageRow>(&mut conn)
                        .await?;
                    for channel in &delivered.messages {
                        write_message(&mut conn, channel, now_ms).await?;
                    }
                    for receipt in &delivered.receipts {
                        RECEIPTS.insert_values(receipt).execute(&mut conn).await?;
                    }
                    let posted = Posted {
                        message,
                        reactivated,
                    };
                    enqueue(&mut conn, &fire(&posted)?, now_ms).await?;
                    Ok(posted)
                })
            })
            .await;
        match outcome {
            Ok(posted) => Ok(Ok(posted)),
            Err(StoreError::Refused("closed")) => Ok(Err(MessageRefused::Closed)),
            Err(StoreError::Refused(_)) => Ok(Err(MessageRefused::Missing)),
            Err(e) => Err(e),
        }
    }

    pub async fn fetch_message(
        &self,
        conversation_sid: &str,
        sid: &str,
    ) -> StoreResult<Option<MessageRow>> {
        self.fetch_owned(conversation_sid, sid).await
    }

    /// One keyset page of the conversation's messages, by index, oldest first (`ascending`)
    /// or newest first.
    pub async fn list_conversation_messages(
        &self,
        conversation_sid: &str,
        ascending: bool,
        keyset: Keyset,
    ) -> StoreResult<Vec<MessageRow>> {
        if ascending {
            return self.list_owned(conversation_sid, keyset).await;
        }
        let mut qb = MESSAGES.select_owned(conversation_sid);
        keyset.push_mirrored(&mut qb, MESSAGES.seq, MIRROR);
        fetch_all(qb, self).await
    }

    pub async fn update_message(
        &self,
        conversation_sid: &str,
        sid: &str,
        change: &MessageChange,
        fire: Fire<MessageRow>,
        now_ms: i64,
    ) -> StoreResult<Option<MessageRow>> {
        let mut tx = self.begin_write().await?;
        let assign = MESSAGES
            .assign()
            .keep_unless("author", change.author.clone())
            .keep_unless("body", change.body.clone())
            .keep_unless("attributes", change.attributes.clone())
            .keep_unless("subject", change.subject.clone())
            .keep_unless("date_created", change.date_created)
            .set("date_updated", change.date_updated);
        let Some(stored) = MESSAGES
            .update::<MessageRow>(&mut tx, conversation_sid, sid, assign)
            .await?
        else {
            return Ok(None);
        };
        enqueue(&mut tx.conn(), &fire(&stored)?, now_ms).await?;
        tx.commit().await?;
        Ok(Some(stored))
    }

    pub async fn delete_conversation_message(
        &self,
        conversation_sid: &str,
        sid: &str,
        fire: Fire<MessageRow>,
        now_ms: i64,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let Some(row) = MESSAGES
            .fetch::<MessageRow>(&mut tx, conversation_sid, sid)
            .await?
        else {
            return Ok(false);
        };
        MESSAGES.delete(&mut tx, conversation_sid, sid).await?;
        enqueue(&mut tx.conn(), &fire(&row)?, now_ms).await?;
        tx.commit().await?;
        Ok(true)
    }
}
