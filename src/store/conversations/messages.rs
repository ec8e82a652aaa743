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
    packed::{Unpack, fetch_page, unpack_rows},
    query::{Owned, Table, fetch_all, fetch_optional, push_columns, row},
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
    const UNPACK: Option<Unpack<Self>> = Some(unpack_rows::<Self>);
}

// The list always reads messages packed: a column JSON cannot carry must not slip in.
const _: () = assert!(<MessageRow as crate::store::query::Columns>::PACKABLE);

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

/// A conversation to post to, and whether any of its participants is sent messages as SMS.
#[derive(sqlx::FromRow, serde::Deserialize)]
pub struct ToPost {
    #[sqlx(flatten)]
    #[serde(flatten)]
    pub conversation: ConversationRow,
    pub texted: bool,
}

/// The index a message took, the state of its conversation, and the author's participant.
#[derive(sqlx::FromRow, serde::Deserialize)]
struct Taken {
    message_index: i64,
    state: String,
    participant_sid: Option<String>,
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

    /// The conversation a message is posted to, by SID (`by_sid`) or unique name within the
    /// service, and whether it has a participant a message is sent to as an SMS (the same rule
    /// as `sms_participants`), in one query: a chat-only conversation needs no second read.
    pub async fn conversation_to_post(
        &self,
        service_sid: &str,
        key: &str,
        by_sid: bool,
    ) -> StoreResult<Option<ToPost>> {
        let mut qb = Sql::new("select ");
        push_columns(&mut qb, "c.", <ConversationRow as Owned>::TABLE.columns);
        qb.push(
            ", exists(select 1 from conversation_participants p where p.conversation_sid = c.sid \
             and p.identity is null and p.address is not null and p.proxy_address is not null) \
             as texted from conversations c where c.service_sid = ",
        )
        .push_bind(service_sid)
        .push(if by_sid {
            " and c.sid = "
        } else {
            " and c.unique_name = "
        })
        .push_bind(key);
        fetch_optional(qb, self).await
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
                    // One statement takes the index, restarts the timers and finds the author's
                    // participant (a subquery of RETURNING, which both backends allow).
                    let taken = sql(
                        "update conversations set next_message_index = next_message_index + 1, \
                         date_inactive = coalesce($2, date_inactive), \
                         date_closed = coalesce($3, date_closed) \
                         where sid = $1 returning next_message_index - 1 as message_index, state, \
                         (select p.sid from conversation_participants p \
                         where p.conversation_sid = $1 and (p.identity = $4 or p.address = $4) \
                         order by p.seq limit 1) as participant_sid",
                    )
                    .bind(&row.conversation_sid)
                    .bind(inactive_due)
                    .bind(closed_due)
                    .bind(&row.author)
                    .fetch_optional::<Taken>(&mut conn)
                    .await?;
                    let taken = match taken {
                        None => return Err(StoreError::Refused("missing")),
                        Some(t) if t.state == "closed" => {
                            return Err(StoreError::Refused("closed"));
                        }
                        Some(t) => t,
                    };
                    row.message_index = taken.message_index;
                    row.participant_sid = taken.participant_sid;
                    // A message reactivates an inactive conversation (only then a second
                    // statement, which reads the conversation back for the webhooks).
                    let reactivated: Option<ConversationRow> = if taken.state == "inactive" {
                        let mut qb = Sql::new(
                            "update conversations set state = 'active' where state = 'inactive' and sid = ",
                        );
                        qb.push_bind(row.conversation_sid.clone());
                        <ConversationRow as Owned>::TABLE.push_returning(&mut qb);
                        fetch_optional(qb, &mut conn).await?
                    } else {
                        None
                    };
                    // The row is the one built here: only its `seq` comes back.
                    let mut insert = MESSAGES.insert_values(&row);
                    insert.push(" returning seq");
                    row.seq = insert.fetch_scalar::<i64>(&mut conn).await?;
                    let message = row;
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
        let order = (MESSAGES.seq, keyset.direction(true));
        fetch_page(qb, MESSAGES.columns, order, unpack_rows::<MessageRow>, self).await
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
