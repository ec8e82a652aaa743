//! `conversation_participants`: who is in a conversation. A chat participant (identity) is
//! backed by a user of the service, created here in the participant's own transaction when the
//! identity is new (`insert … on conflict do nothing` on the users' unique identity index, so
//! concurrent first participants of one identity make one user). A non-chat participant holds
//! its address/proxy pair while its conversation is not closed (a partial unique index).

use super::conversations::{Fire, lock_conversation};
use crate::store::{
    Conn, Keyset, Store, StoreError, StoreResult,
    db::sql,
    error::classify,
    query::{fetch_all, fetch_optional, owned_table, row},
    webhooks::enqueue,
};

row! {
    #[derive(Debug, Clone, PartialEq)]
    pub struct ParticipantRow {
        seq: i64,
        sid: String,
        conversation_sid: String,
        service_sid: String,
        account_sid: String,
        identity: Option<String>,
        user_sid: Option<String>,
        address: Option<String>,
        proxy_address: Option<String>,
        projected_address: Option<String>,
        binding_type: Option<String>,
        binding_open: bool,
        attributes: String,
        role_sid: Option<String>,
        last_read_message_index: Option<i64>,
        last_read_timestamp: Option<String>,
        notification_level: String,
        date_created: i64,
        date_updated: i64,
    }
}
owned_table!(PARTICIPANTS: ParticipantRow = "conversation_participants" by "conversation_sid");

/// Participants per conversation, and of them non-chat ones (conversations-limits).
pub const MAX_PARTICIPANTS: i64 = 1000;
pub const MAX_NON_CHAT_PARTICIPANTS: i64 = 50;

/// A participant to insert: the row (its `user_sid` is filled in here), and for a chat
/// participant the user to create if the identity is new in the service.
#[derive(Debug, Clone)]
pub struct NewParticipant {
    pub row: ParticipantRow,
    pub new_user: Option<NewUser>,
}

/// The user a new identity gets: its SID and role (the service's default chat role).
#[derive(Debug, Clone)]
pub struct NewUser {
    pub sid: String,
    pub role_sid: Option<String>,
}

/// Why a participant was not written.
#[derive(Debug, Clone, PartialEq)]
pub enum ParticipantRefused {
    Missing,
    Closed,
    IdentityTaken,
    /// The address/proxy pair is in another non-closed conversation (its SID, when known).
    BindingTaken(Option<String>),
    TooMany,
    TooManyNonChat,
}

/// A change to a participant; `None` leaves a column as it is.
#[derive(Debug, Default, Clone)]
pub struct ParticipantChange {
    pub identity: Option<String>,
    pub new_user: Option<NewUser>,
    pub attributes: Option<String>,
    pub role_sid: Option<String>,
    pub proxy_address: Option<Option<String>>,
    pub projected_address: Option<Option<String>>,
    pub last_read_message_index: Option<i64>,
    pub last_read_timestamp: Option<String>,
    pub notification_level: Option<String>,
    pub date_created: Option<i64>,
    pub date_updated: i64,
}

/// A conversation's participants, and of them non-chat ones.
#[derive(sqlx::FromRow, serde::Deserialize)]
struct Counts {
    total: i64,
    non_chat: i64,
}

fn refusal(err: &StoreError) -> Option<ParticipantRefused> {
    match err {
        StoreError::Conflict(m) if m.contains("identity") => {
            Some(ParticipantRefused::IdentityTaken)
        }
        StoreError::Conflict(_) => Some(ParticipantRefused::BindingTaken(None)),
        _ => None,
    }
}

/// The SID of the service's user `identity`, created (with `new`) if there is none.
async fn ensure_user(
    conn: &mut Conn<'_>,
    row: &ParticipantRow,
    identity: &str,
    new: &NewUser,
) -> StoreResult<String> {
    sql(
        "insert into conversation_users (sid, service_sid, account_sid, identity, friendly_name, \
         attributes, role_sid, date_created, date_updated) \
         values ($1, $2, $3, $4, null, '{}', $5, $6, $6) \
         on conflict (service_sid, identity) do nothing",
    )
    .bind(&new.sid)
    .bind(&row.service_sid)
    .bind(&row.account_sid)
    .bind(identity)
    .bind(&new.role_sid)
    .bind(row.date_updated)
    .execute(&mut *conn)
    .await?;
    Ok(
        sql("select sid from conversation_users where service_sid = $1 and identity = $2")
            .bind(&row.service_sid)
            .bind(identity)
            .fetch_scalar::<String>(&mut *conn)
            .await?,
    )
}

/// The conversation holding the account's open address/proxy pair, if any.
async fn binding_holder(
    conn: &mut Conn<'_>,
    account_sid: &str,
    address: &str,
    proxy: &str,
) -> StoreResult<Option<String>> {
    Ok(
        sql("select conversation_sid from conversation_participants \
         where account_sid = $1 and address = $2 and proxy_address = $3 and binding_open")
        .bind(account_sid)
        .bind(address)
        .bind(proxy)
        .fetch_optional_scalar::<String>(&mut *conn)
        .await?,
    )
}

/// Inserts a participant on an open transaction, checking against the locked conversation:
/// not closed, under the limits, identity and binding free; creates the identity's user.
pub(crate) async fn insert_participant_on(
    conn: &mut Conn<'_>,
    new: &NewParticipant,
) -> StoreResult<Result<ParticipantRow, ParticipantRefused>> {
    let mut row = new.row.clone();
    let Some(conversation) = lock_conversation(conn, &row.conversation_sid).await? else {
        return Ok(Err(ParticipantRefused::Missing));
    };
    if conversation.state == "closed" {
        return Ok(Err(ParticipantRefused::Closed));
    }
    let Counts { total, non_chat } = sql("select count(*) as total, \
         coalesce(sum(case when identity is null then 1 else 0 end), 0) as non_chat \
         from conversation_participants where conversation_sid = $1")
    .bind(&row.conversation_sid)
    .fetch_one::<Counts>(&mut *conn)
    .await?;
    if total >= MAX_PARTICIPANTS {
        return Ok(Err(ParticipantRefused::TooMany));
    }
    if row.identity.is_none() && non_chat >= MAX_NON_CHAT_PARTICIPANTS {
        return Ok(Err(ParticipantRefused::TooManyNonChat));
    }
    if let (Some(address), Some(proxy)) = (&row.address, &row.proxy_address) {
        row.binding_open = true;
        if let Some(holder) = binding_holder(conn, &row.account_sid, address, proxy).await? {
            return Ok(Err(ParticipantRefused::BindingTaken(Some(holder))));
        }
    }
    if let (Some(identity), Some(user)) = (row.identity.clone(), &new.new_user) {
        let taken = sql(
            "select sid from conversation_participants where conversation_sid = $1 and identity = $2",
        )
        .bind(&row.conversation_sid)
        .bind(&identity)
        .exists(&mut *conn)
        .await?;
        if taken {
            return Ok(Err(ParticipantRefused::IdentityTaken));
        }
        row.user_sid = Some(ensure_user(conn, &row, &identity, user).await?);
    }
    let inserted = PARTICIPANTS
        .insert(&row)
        .fetch_one::<ParticipantRow>(&mut *conn)
        .await
        .map_err(classify);
    match inserted {
        Ok(stored) => Ok(Ok(stored)),
        Err(e) => match refusal(&e) {
            Some(refused) => Ok(Err(refused)),
            None => Err(e),
        },
    }
}

impl Store {
    /// The conversation holding the account's open SMS binding `address` + `proxy` (at most
    /// one: a binding is in one non-closed conversation at a time).
    pub async fn open_binding(
        &self,
        account_sid: &str,
        address: &str,
        proxy: &str,
    ) -> StoreResult<Option<String>> {
        let mut tx = self.begin_read().await?;
        binding_holder(&mut tx.conn(), account_sid, address, proxy).await
    }

    /// The conversation's non-chat participants with an SMS binding (address and proxy
    /// address), in the order they joined: who a message is sent to as an SMS.
    pub async fn sms_participants(
        &self,
        conversation_sid: &str,
    ) -> StoreResult<Vec<ParticipantRow>> {
        let mut qb = PARTICIPANTS.select_owned(conversation_sid);
        qb.push(
            " and identity is null and address is not null and proxy_address is not null \
             order by seq",
        );
        fetch_all(qb, self).await
    }

    /// Inserts a participant with the deliveries `fire` derives from it, in one transaction.
    pub async fn insert_participant(
        &self,
        new: &NewParticipant,
        fire: Fire<ParticipantRow>,
        now_ms: i64,
    ) -> StoreResult<Result<ParticipantRow, ParticipantRefused>> {
        let mut tx = self.begin_write().await?;
        let stored = match insert_participant_on(&mut tx.conn(), new).await? {
            Ok(stored) => stored,
            Err(refused) => return Ok(Err(refused)),
        };
        enqueue(&mut tx.conn(), &fire(&stored)?, now_ms).await?;
        tx.commit().await?;
        Ok(Ok(stored))
    }

    /// A participant of the conversation by `MB` SID (`by_sid`) or identity.
    pub async fn fetch_participant(
        &self,
        conversation_sid: &str,
        key: &str,
        by_sid: bool,
    ) -> StoreResult<Option<ParticipantRow>> {
        let column = if by_sid { "sid" } else { "identity" };
        let mut qb = PARTICIPANTS.select_owned(conversation_sid);
        qb.push(" and ")
            .push(column)
            .push(" = ")
            .push_bind(key.to_owned());
        fetch_optional(qb, self).await
    }

    pub async fn list_participants(
        &self,
        conversation_sid: &str,
        keyset: Keyset,
    ) -> StoreResult<Vec<ParticipantRow>> {
        self.list_owned(conversation_sid, keyset).await
    }

    /// Applies `change` to a participant, with the deliveries `fire` derives from the new row.
    pub async fn update_participant(
        &self,
        conversation_sid: &str,
        sid: &str,
        change: &ParticipantChange,
        fire: Fire<ParticipantRow>,
        now_ms: i64,
    ) -> StoreResult<Result<ParticipantRow, ParticipantRefused>> {
        let mut tx = self.begin_write().await?;
        let Some(current) = PARTICIPANTS
            .fetch::<ParticipantRow>(&mut tx, conversation_sid, sid)
            .await?
        else {
            return Ok(Err(ParticipantRefused::Missing));
        };
        let mut user_sid = None;
        if let (Some(identity), Some(user)) = (&change.identity, &change.new_user)
            && current.identity.as_deref() != Some(identity.as_str())
        {
            user_sid = Some(ensure_user(&mut tx.conn(), &current, identity, user).await?);
        }
        let mut assign = PARTICIPANTS
            .assign()
            .keep_unless("identity", change.identity.clone())
            .keep_unless("user_sid", user_sid)
            .keep_unless("attributes", change.attributes.clone())
            .keep_unless("role_sid", change.role_sid.clone())
            .keep_unless("last_read_message_index", change.last_read_message_index)
            .keep_unless("last_read_timestamp", change.last_read_timestamp.clone())
            .keep_unless("notification_level", change.notification_level.clone())
            .keep_unless("date_created", change.date_created)
            .set("date_updated", change.date_updated);
        if let Some(proxy) = &change.proxy_address {
            assign = assign.set("proxy_address", proxy.clone());
            if proxy.is_none() {
                assign = assign.set("binding_open", false);
            }
        }
        if let Some(projected) = &change.projected_address {
            assign = assign.set("projected_address", projected.clone());
        }
        let updated = fetch_optional::<ParticipantRow>(
            PARTICIPANTS.update_where(assign, "sid", sid),
            &mut tx,
        )
        .await
        .map_err(|e| match e {
            StoreError::Db(db) => classify(db),
            other => other,
        });
        let stored = match updated {
            Ok(Some(stored)) => stored,
            Ok(None) => return Ok(Err(ParticipantRefused::Missing)),
            Err(e) => {
                return match refusal(&e) {
                    Some(refused) => Ok(Err(refused)),
                    None => Err(e),
                };
            }
        };
        enqueue(&mut tx.conn(), &fire(&stored)?, now_ms).await?;
        tx.commit().await?;
        Ok(Ok(stored))
    }

    /// Deletes a participant, queueing the deliveries `fire` derives from the row as it was.
    pub async fn delete_participant(
        &self,
        conversation_sid: &str,
        sid: &str,
        fire: Fire<ParticipantRow>,
        now_ms: i64,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let Some(row) = PARTICIPANTS
            .fetch::<ParticipantRow>(&mut tx, conversation_sid, sid)
            .await?
        else {
            return Ok(false);
        };
        PARTICIPANTS.delete(&mut tx, conversation_sid, sid).await?;
        enqueue(&mut tx.conn(), &fire(&row)?, now_ms).await?;
        tx.commit().await?;
        Ok(true)
    }
}
