//! UserConversations, as read: a user's participant rows with their conversations and unread
//! counts (conversations-core.md §4). The rows themselves are `participants`'.

use super::{conversations::ConversationRow, participants::ParticipantRow};
use crate::store::{
    Keyset, Sql, Store, StoreResult,
    dialect::json_row,
    packed::{fetch_packed, page_columns},
    query::{Owned, fetch_all, fetch_optional, push_columns},
};

impl Store {
    /// A user's participations, in the order joined, with their conversations and unread
    /// counts (UserConversations): one statement joining each participant to its conversation,
    /// its page read as one value (`store::packed`; the two rows' columns share names, so the
    /// select names them `c0…`).
    pub async fn user_participations(
        &self,
        user_sid: &str,
        keyset: Keyset,
    ) -> StoreResult<Vec<Participation>> {
        let backend = self.backend();
        let mut qb = Sql::new("select p.seq as page_seq");
        let (mut participant, mut conversation) = (Vec::new(), Vec::new());
        let tables = [
            (
                "p.",
                <ParticipantRow as Owned>::TABLE.columns,
                &mut participant,
            ),
            (
                "c.",
                <ConversationRow as Owned>::TABLE.columns,
                &mut conversation,
            ),
        ];
        let mut n = 0;
        for (prefix, columns, names) in tables {
            for column in columns.split(',') {
                qb.push(format_args!(", {prefix}{} as c{n}", column.trim()));
                names.push(format!("c{n}"));
                n += 1;
            }
        }
        qb.push(", ")
            .push(UNREAD)
            .push(
                " as unread from conversation_participants p \
                 join conversations c on c.sid = p.conversation_sid where p.user_sid = ",
            )
            .push_bind(user_sid);
        keyset.push(&mut qb, "p.seq");
        let row =
            |names: &[String]| json_row(backend, &page_columns(names.iter().map(String::as_str)));
        let values = format!(
            "{}, {}, page_rows.unread",
            row(&participant),
            row(&conversation)
        );
        let order = format!("page_rows.page_seq {}", keyset.direction(false));
        let text = fetch_packed(qb, &values, &order, self).await?;
        let rows: Vec<(ParticipantRow, ConversationRow, Option<i64>)> =
            serde_json::from_str(&text).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
        Ok(rows
            .into_iter()
            .map(|(participant, conversation, unread)| Participation {
                participant,
                conversation,
                unread,
            })
            .collect())
    }

    /// The participant of user `user_sid` (identity `identity`) in one conversation, with its
    /// unread count (a UserConversation of a conversation the caller has read already). Looked
    /// up on the (conversation, identity) unique index: a user's participants carry its
    /// identity, and a user in many conversations would otherwise be a scan of them all.
    pub async fn user_participant(
        &self,
        conversation_sid: &str,
        identity: &str,
        user_sid: &str,
    ) -> StoreResult<Option<(ParticipantRow, Option<i64>)>> {
        let mut qb = participations_select();
        qb.push(" where p.conversation_sid = ")
            .push_bind(conversation_sid)
            .push(" and p.identity = ")
            .push_bind(identity)
            .push(" and p.user_sid = ")
            .push_bind(user_sid);
        let row: Option<ParticipationRow> = fetch_optional(qb, self).await?;
        Ok(row.map(|row| (row.participant, row.unread)))
    }

    /// The conversations of `rows`, in one query.
    pub(super) async fn with_conversations(
        &self,
        rows: Vec<ParticipationRow>,
    ) -> StoreResult<Vec<Participation>> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let mut qb = <ConversationRow as Owned>::TABLE.select();
        qb.push(" where sid in (");
        let mut list = qb.separated(", ");
        for row in &rows {
            list.push_bind(row.participant.conversation_sid.clone());
        }
        qb.push(")");
        let conversations: Vec<ConversationRow> = fetch_all(qb, self).await?;
        let mut by_sid: std::collections::HashMap<String, ConversationRow> = conversations
            .into_iter()
            .map(|c| (c.sid.clone(), c))
            .collect();
        Ok(rows
            .into_iter()
            .filter_map(|row| {
                let conversation = by_sid.remove(&row.participant.conversation_sid)?;
                Some(Participation {
                    participant: row.participant,
                    conversation,
                    unread: row.unread,
                })
            })
            .collect())
    }
}

/// A participant row with the messages above its read horizon (null while it has none).
#[derive(sqlx::FromRow)]
pub(super) struct ParticipationRow {
    #[sqlx(flatten)]
    pub(super) participant: ParticipantRow,
    pub(super) unread: Option<i64>,
}

/// A participant, its conversation, and the number of messages above its read horizon.
pub struct Participation {
    pub participant: ParticipantRow,
    pub conversation: ConversationRow,
    pub unread: Option<i64>,
}

/// `select p.…, unread from conversation_participants p`: the unread count is a count on the
/// messages' (conversation, index) index, in the same statement. It stops at the 1,000th unread
/// message (the most Twilio reports, `MAX_UNREAD`): the count runs up to that message's index,
/// found by an index walk of at most 1,000 entries, so a horizon far behind in a long
/// conversation costs no more than one 1,000 behind.
pub(super) fn participations_select() -> Sql {
    let mut qb = Sql::new("select ");
    push_columns(&mut qb, "p.", <ParticipantRow as Owned>::TABLE.columns);
    qb.push(", ")
        .push(UNREAD)
        .push(" as unread from conversation_participants p");
    qb
}

/// The unread count of participant `p` (see `participations_select`).
const UNREAD: &str = "case when p.last_read_message_index is null then null else \
     (select count(*) from conversation_messages m where m.conversation_sid = p.conversation_sid \
     and m.message_index > p.last_read_message_index \
     and m.message_index <= coalesce((select t.message_index from conversation_messages t \
     where t.conversation_sid = p.conversation_sid and t.message_index > p.last_read_message_index \
     order by t.message_index limit 1 offset 999), m.message_index)) end";
