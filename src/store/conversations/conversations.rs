//! `conversations`: a service's conversations. A conversation's row also holds its message
//! counter (`next_message_index`) and its timers' due times; every write under a conversation
//! (participants, messages, scoped webhooks) first updates this row, which serialises writes to
//! one conversation on any backend (SQLite's write lock, PostgreSQL's row lock) so limits and
//! the index counter are checked against committed state.

use crate::store::{
    Conn, Keyset, Store, StoreError, StoreResult,
    db::sql,
    dialect::lock_parent,
    error::classify,
    query::{Owned, fetch_all, fetch_optional, owned_table, row},
    webhooks::{NewDelivery, enqueue},
};

row! {
    #[derive(Debug, Clone, PartialEq)]
    pub struct ConversationRow {
        seq: i64,
        sid: String,
        service_sid: String,
        account_sid: String,
        friendly_name: Option<String>,
        unique_name: Option<String>,
        attributes: String,
        messaging_service_sid: Option<String>,
        state: String,
        timer_inactive: Option<String>,
        timer_closed: Option<String>,
        date_inactive: Option<i64>,
        date_closed: Option<i64>,
        email_address: Option<String>,
        email_name: Option<String>,
        next_message_index: i64,
        date_created: i64,
        date_updated: i64,
    }
}
owned_table!(CONVERSATIONS: ConversationRow = "conversations" by "service_sid", Deletable);

/// What a conversation list keeps: `State` and the creation-date range (epoch seconds).
#[derive(Debug, Default, Clone)]
pub struct ConversationFilter {
    pub state: Option<String>,
    pub created_from: Option<i64>,
    pub created_to: Option<i64>,
}

/// What a conversation write could not do.
#[derive(Debug)]
pub enum ConversationRefused {
    /// No such conversation (or its service went away).
    Missing,
    /// The unique name is taken in the service.
    UniqueNameTaken,
    /// The conversation is closed: it takes no more changes.
    Closed,
}

/// The deliveries a write queues, derived from what it stored (see `domain::…::events`).
/// Callable more than once: on PostgreSQL a write that meets a serialization failure runs again.
pub type Fire<R> = std::sync::Arc<dyn Fn(&R) -> StoreResult<Vec<NewDelivery>> + Send + Sync>;

/// A change to a conversation; `None` leaves a column as it is. `close` also frees the
/// participants' address/proxy pairs.
#[derive(Debug, Default, Clone)]
pub struct ConversationChange {
    pub friendly_name: Option<String>,
    pub unique_name: Option<String>,
    pub attributes: Option<String>,
    pub messaging_service_sid: Option<String>,
    pub state: Option<String>,
    pub timer_inactive: Option<Option<String>>,
    pub timer_closed: Option<Option<String>>,
    pub date_inactive: Option<Option<i64>>,
    pub date_closed: Option<Option<i64>>,
    pub email_address: Option<String>,
    pub email_name: Option<String>,
    pub date_created: Option<i64>,
    pub date_updated: i64,
}

/// The row as it was before a change and as it is after.
pub struct Changed {
    pub before: ConversationRow,
    pub after: ConversationRow,
}

pub(super) fn is_unique_name_clash(err: &StoreError) -> bool {
    matches!(err, StoreError::Conflict(m) if m.contains("unique_name"))
}

/// Locks the conversation's row for the rest of the transaction (`lock_parent`: on SQLite the
/// write transaction already holds the lock) and reads it; `None` when there is no such
/// conversation. Every write under a conversation starts here, so its checks (limits, state)
/// see committed state on either backend.
pub(crate) async fn lock_conversation(
    conn: &mut Conn<'_>,
    sid: &str,
) -> StoreResult<Option<ConversationRow>> {
    lock_parent(&mut *conn, "conversations", "sid", sid).await?;
    fetch_optional(CONVERSATIONS.select_where("sid", sid), &mut *conn).await
}

async fn apply_change(
    conn: &mut Conn<'_>,
    sid: &str,
    change: &ConversationChange,
) -> StoreResult<Option<ConversationRow>> {
    let mut assign = CONVERSATIONS
        .assign()
        .keep_unless("friendly_name", change.friendly_name.clone())
        .keep_unless("unique_name", change.unique_name.clone())
        .keep_unless("attributes", change.attributes.clone())
        .keep_unless(
            "messaging_service_sid",
            change.messaging_service_sid.clone(),
        )
        .keep_unless("state", change.state.clone())
        .keep_unless("email_address", change.email_address.clone())
        .keep_unless("email_name", change.email_name.clone())
        .keep_unless("date_created", change.date_created)
        .set("date_updated", change.date_updated);
    if let Some(timer) = &change.timer_inactive {
        assign = assign.set("timer_inactive", timer.clone());
    }
    if let Some(timer) = &change.timer_closed {
        assign = assign.set("timer_closed", timer.clone());
    }
    if let Some(due) = change.date_inactive {
        assign = assign.set("date_inactive", due);
    }
    if let Some(due) = change.date_closed {
        assign = assign.set("date_closed", due);
    }
    let qb = CONVERSATIONS.update_where(assign, "sid", sid);
    fetch_optional(qb, &mut *conn).await.map_err(|e| match e {
        StoreError::Db(db) => classify(db),
        other => other,
    })
}

/// A closed conversation's address/proxy pairs are free for other conversations again.
async fn free_bindings(conn: &mut Conn<'_>, conversation_sid: &str) -> StoreResult<()> {
    sql("update conversation_participants set binding_open = false \
         where conversation_sid = $1 and binding_open")
    .bind(conversation_sid)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

impl Store {
    /// The account's conversation `sid`, whatever its service (inbound routing's read).
    pub async fn conversation_of_account(
        &self,
        account_sid: &str,
        sid: &str,
    ) -> StoreResult<Option<ConversationRow>> {
        let mut qb = CONVERSATIONS.select_where("sid", sid);
        qb.push(" and account_sid = ")
            .push_bind(account_sid.to_owned());
        fetch_optional(qb, self).await
    }

    /// A conversation of the service by `CH` SID (`by_sid`) or unique name.
    pub async fn fetch_conversation(
        &self,
        service_sid: &str,
        key: &str,
        by_sid: bool,
    ) -> StoreResult<Option<ConversationRow>> {
        let column = if by_sid { "sid" } else { "unique_name" };
        let mut qb = CONVERSATIONS.select_owned(service_sid);
        qb.push(" and ")
            .push(column)
            .push(" = ")
            .push_bind(key.to_owned());
        fetch_optional(qb, self).await
    }

    /// One keyset page of the service's conversations that pass `filter`, in creation order.
    pub async fn list_conversations(
        &self,
        service_sid: &str,
        filter: &ConversationFilter,
        keyset: Keyset,
    ) -> StoreResult<Vec<ConversationRow>> {
        let mut qb = CONVERSATIONS.select_owned(service_sid);
        if let Some(state) = &filter.state {
            qb.push(" and state = ").push_bind(state.clone());
        }
        if let Some(from) = filter.created_from {
            qb.push(" and date_created >= ").push_bind(from);
        }
        if let Some(to) = filter.created_to {
            qb.push(" and date_created <= ").push_bind(to);
        }
        keyset.push(&mut qb, <ConversationRow as Owned>::TABLE.seq);
        fetch_all(qb, self).await
    }

    /// Applies `change` unless the conversation is closed, with the deliveries `fire` derives
    /// from the rows before and after; closing frees the participants' bindings.
    pub async fn update_conversation(
        &self,
        sid: &str,
        change: &ConversationChange,
        fire: Fire<Changed>,
        now_ms: i64,
    ) -> StoreResult<Result<Changed, ConversationRefused>> {
        let mut tx = self.begin_write().await?;
        let Some(before) = lock_conversation(&mut tx.conn(), sid).await? else {
            return Ok(Err(ConversationRefused::Missing));
        };
        if before.state == "closed" {
            return Ok(Err(ConversationRefused::Closed));
        }
        let after = match apply_change(&mut tx.conn(), sid, change).await {
            Ok(Some(after)) => after,
            Ok(None) => return Ok(Err(ConversationRefused::Missing)),
            Err(e) if is_unique_name_clash(&e) => {
                return Ok(Err(ConversationRefused::UniqueNameTaken));
            }
            Err(e) => return Err(e),
        };
        if after.state == "closed" {
            free_bindings(&mut tx.conn(), sid).await?;
        }
        let changed = Changed { before, after };
        enqueue(&mut tx.conn(), &fire(&changed)?, now_ms).await?;
        tx.commit().await?;
        Ok(Ok(changed))
    }

    /// Deletes a conversation (its participants, messages and scoped webhooks go with it) and
    /// queues the deliveries `fire` derives from the row as it was.
    pub async fn delete_conversation(
        &self,
        service_sid: &str,
        sid: &str,
        fire: Fire<ConversationRow>,
        now_ms: i64,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let Some(row) = CONVERSATIONS
            .fetch::<ConversationRow>(&mut tx, service_sid, sid)
            .await?
        else {
            return Ok(false);
        };
        CONVERSATIONS.delete(&mut tx, service_sid, sid).await?;
        enqueue(&mut tx.conn(), &fire(&row)?, now_ms).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Conversations whose inactive or closed timer is due at `now` on their account's clock, at
    /// most `limit`.
    pub async fn due_conversation_timers(
        &self,
        now: i64,
        limit: i64,
    ) -> StoreResult<Vec<ConversationRow>> {
        // Due on the account's clock: `now` plus its `account_clocks` offset.
        let mut qb = CONVERSATIONS.select();
        qb.push(
            " where sid in (select c.sid from conversations c left join account_clocks k \
             on k.account_sid = c.account_sid where c.date_closed <= coalesce(k.offset_secs, 0) + ",
        )
        .push_bind(now)
        .push(
            " union select c.sid from conversations c left join account_clocks k \
             on k.account_sid = c.account_sid where c.date_inactive <= coalesce(k.offset_secs, 0) + ",
        )
        .push_bind(now)
        .push(") limit ")
        .push_bind(limit);
        fetch_all(qb, self).await
    }

    /// Fires a conversation's due timer: `state` with both due times as given, only if the
    /// row still has the due time that was seen (`seen_inactive`, `seen_closed`), so a timer
    /// that was changed meanwhile is left alone.
    #[allow(clippy::too_many_arguments)]
    pub async fn fire_conversation_timer(
        &self,
        sid: &str,
        seen_inactive: Option<i64>,
        seen_closed: Option<i64>,
        change: &ConversationChange,
        fire: Fire<Changed>,
        now_ms: i64,
    ) -> StoreResult<Option<Changed>> {
        let mut tx = self.begin_write().await?;
        let Some(before) = lock_conversation(&mut tx.conn(), sid).await? else {
            return Ok(None);
        };
        if before.date_inactive != seen_inactive
            || before.date_closed != seen_closed
            || before.state == "closed"
        {
            return Ok(None);
        }
        let Some(after) = apply_change(&mut tx.conn(), sid, change).await? else {
            return Ok(None);
        };
        if after.state == "closed" {
            free_bindings(&mut tx.conn(), sid).await?;
        }
        let changed = Changed { before, after };
        enqueue(&mut tx.conn(), &fire(&changed)?, now_ms).await?;
        tx.commit().await?;
        Ok(Some(changed))
    }
}
