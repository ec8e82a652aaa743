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

    /// User `user_key`'s participation in conversation `conversation_key`, both in service
    /// `service_sid` (`None`: the account's default service), with the conversation and the
    /// unread count, in one query (a UserConversation). The user is a `US` SID
    /// (`user_by_sid`) or an identity, the conversation a `CH` SID (`conversation_by_sid`) or a
    /// unique name; the participant is found on the (conversation, identity) unique index, as a
    /// user's participants carry its identity.
    #[allow(clippy::too_many_arguments)]
    pub async fn user_conversation(
        &self,
        account_sid: &str,
        service_sid: Option<&str>,
        user_key: &str,
        user_by_sid: bool,
        conversation_key: &str,
        conversation_by_sid: bool,
    ) -> StoreResult<Option<Participation>> {
        let mut qb = Sql::new("select ");
        push_columns(&mut qb, "c.", <ConversationRow as Owned>::TABLE.columns);
        qb.push(", ")
            .push(PARTICIPANT_BESIDE_CONVERSATION)
            .push(", ")
            .push(UNREAD)
            .push(" as unread from ");
        qb.push(match service_sid {
            None => {
                "conversation_configurations cfg join conversation_users u \
                 on u.service_sid = cfg.default_chat_service_sid"
            }
            Some(_) => "conversation_users u",
        });
        qb.push(" join conversations c on c.service_sid = u.service_sid and ")
            .push(if conversation_by_sid {
                "c.sid = "
            } else {
                "c.unique_name = "
            })
            .push_bind(conversation_key)
            .push(
                " join conversation_participants p on p.conversation_sid = c.sid \
                 and p.identity = u.identity and p.user_sid = u.sid",
            );
        match service_sid {
            None => qb.push(" where cfg.account_sid = ").push_bind(account_sid),
            Some(service) => qb
                .push(" where u.account_sid = ")
                .push_bind(account_sid)
                .push(" and u.service_sid = ")
                .push_bind(service),
        };
        qb.push(if user_by_sid {
            " and u.sid = "
        } else {
            " and u.identity = "
        })
        .push_bind(user_key);
        let row: Option<UserConversationRow> = fetch_optional(qb, self).await?;
        Ok(row.map(UserConversationRow::into_participation))
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
#[derive(sqlx::FromRow, serde::Deserialize)]
pub(super) struct ParticipationRow {
    #[sqlx(flatten)]
    #[serde(flatten)]
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

/// The participant's columns beside its conversation's (`c.…`) in one select: those both
/// tables have under their own names (the account and service are the conversation's).
const PARTICIPANT_BESIDE_CONVERSATION: &str = "p.seq as participant_seq, \
     p.sid as participant_sid, p.attributes as participant_attributes, \
     p.date_created as participant_date_created, p.date_updated as participant_date_updated, \
     p.conversation_sid, p.identity, p.user_sid, p.address, p.proxy_address, \
     p.projected_address, p.binding_type, p.binding_open, p.role_sid, \
     p.last_read_message_index, p.last_read_timestamp, p.notification_level";

/// A row of `user_conversation`: a conversation, one of its participants
/// (`PARTICIPANT_BESIDE_CONVERSATION`) and the participant's unread count.
#[derive(sqlx::FromRow, serde::Deserialize)]
struct UserConversationRow {
    #[sqlx(flatten)]
    #[serde(flatten)]
    conversation: ConversationRow,
    participant_seq: i64,
    participant_sid: String,
    participant_attributes: String,
    participant_date_created: i64,
    participant_date_updated: i64,
    conversation_sid: String,
    identity: Option<String>,
    user_sid: Option<String>,
    address: Option<String>,
    proxy_address: Option<String>,
    projected_address: Option<String>,
    binding_type: Option<String>,
    binding_open: bool,
    role_sid: Option<String>,
    last_read_message_index: Option<i64>,
    last_read_timestamp: Option<String>,
    notification_level: String,
    unread: Option<i64>,
}

impl UserConversationRow {
    fn into_participation(self) -> Participation {
        let participant = ParticipantRow {
            seq: self.participant_seq,
            sid: self.participant_sid,
            conversation_sid: self.conversation_sid,
            service_sid: self.conversation.service_sid.clone(),
            account_sid: self.conversation.account_sid.clone(),
            identity: self.identity,
            user_sid: self.user_sid,
            address: self.address,
            proxy_address: self.proxy_address,
            projected_address: self.projected_address,
            binding_type: self.binding_type,
            binding_open: self.binding_open,
            attributes: self.participant_attributes,
            role_sid: self.role_sid,
            last_read_message_index: self.last_read_message_index,
            last_read_timestamp: self.last_read_timestamp,
            notification_level: self.notification_level,
            date_created: self.participant_date_created,
            date_updated: self.participant_date_updated,
        };
        Participation {
            participant,
            conversation: self.conversation,
            unread: self.unread,
        }
    }
}

// The list reads both rows packed (`user_participations`): a column JSON cannot carry must
// not slip into either.
const _: () = assert!(
    <ParticipantRow as crate::store::query::Columns>::PACKABLE
        && <ConversationRow as crate::store::query::Columns>::PACKABLE
);
