//! UserConversations (`/v1/Users/{US}/Conversations[/{CH}]`), conversations-core.md §4: views
//! of a participant row joined with its conversation (ParticipantConversations, the other such
//! view, is `participant_conversations`).
//!
//! - One item per conversation the user participates in, in the order they joined.
//! - `unread_messages_count`: messages with an index above `last_read_message_index`, at most
//!   1,000 ("UnreadMessageCount returns a maximum value of 1000"); null while the read horizon
//!   is null *(ours)*.
//! - Update writes the participant's read horizon and `notification_level`; delete removes the
//!   participant (no webhooks: these routes take no `X-Twilio-Webhook-Enabled`).
//! - `created_by` is `system` for REST-created conversations *(ours)*.

use super::{
    conversations::Conversation,
    participants::{self, Participant, ParticipantUpdate},
    scope::{Scope, resolve},
    users::{User, fetch_user},
};
use crate::{
    domain::{
        Core,
        auth::Principal,
        paging::{Page, PageRequest},
        sid::{UserSid, matches_pattern},
    },
    error::{Error, Result},
    store::conversations as store,
};

/// "UnreadMessageCount returns a maximum value of 1000" (UC).
pub const MAX_UNREAD: i64 = 1000;

/// A participant with its conversation.
#[derive(Debug, Clone)]
pub struct Participation {
    pub participant: Participant,
    pub conversation: Conversation,
    pub unread_messages_count: Option<i64>,
}

fn participation(row: store::Participation) -> Result<(i64, Participation)> {
    Ok((
        row.participant.seq,
        Participation {
            participant: Participant::try_from(row.participant)?,
            conversation: Conversation::try_from(row.conversation)?,
            unread_messages_count: row.unread.map(|n| n.min(MAX_UNREAD)),
        },
    ))
}

/// A page of participations read by `rows` (keyed by the participant's `seq`).
pub(super) fn page_of(
    request: PageRequest,
    rows: Vec<store::Participation>,
) -> Result<Page<Participation>> {
    let keyed = rows
        .into_iter()
        .map(participation)
        .collect::<Result<Vec<_>>>()?;
    Ok(Page::from_rows(request, keyed, |(seq, _)| *seq).map(|(_, p)| p))
}

pub async fn list_user_conversations(
    core: &Core,
    principal: &Principal,
    scope: Scope<'_>,
    user: &str,
    request: PageRequest,
) -> Result<(User, Page<Participation>)> {
    let user = fetch_user(core, principal, scope, user).await?;
    let rows = core
        .store
        .user_participations(user.sid.as_str(), request.keyset())
        .await?;
    Ok((user, page_of(request, rows)?))
}

/// The user's participation in conversation `key` (SID or unique name), in one query; 404
/// when there is none (no such user, conversation, or participation).
async fn find_user_conversation(
    core: &Core,
    principal: &Principal,
    scope: Scope<'_>,
    user: &str,
    key: &str,
) -> Result<Participation> {
    let service = match scope {
        Scope::Default => None,
        Scope::Service(sid) => Some(sid.as_str()),
    };
    let row = core
        .store
        .user_conversation(
            principal.account_sid.as_str(),
            service,
            user,
            matches_pattern(user, "US"),
            key,
            matches_pattern(key, "CH"),
        )
        .await?
        .ok_or(Error::NotFound)?;
    Ok(participation(row)?.1)
}

/// The user of a participation (a user's participant always names it).
fn user_of(found: &Participation) -> Result<UserSid> {
    found
        .participant
        .user_sid
        .clone()
        .ok_or_else(|| Error::internal(anyhow::anyhow!("a user's participant has no user")))
}

/// The user (its SID) and its participation.
pub async fn fetch_user_conversation(
    core: &Core,
    principal: &Principal,
    scope: Scope<'_>,
    user: &str,
    key: &str,
) -> Result<(UserSid, Participation)> {
    let found = find_user_conversation(core, principal, scope, user, key).await?;
    Ok((user_of(&found)?, found))
}

/// `NotificationLevel`, `LastReadMessageIndex`, `LastReadTimestamp`.
pub async fn update_user_conversation(
    core: &Core,
    principal: &Principal,
    scope: Scope<'_>,
    user: &str,
    key: &str,
    update: ParticipantUpdate,
) -> Result<(UserSid, Participation)> {
    let found = find_user_conversation(core, principal, scope, user, key).await?;
    let user = user_of(&found)?;
    // The conversation's service, as the lookup found it (cached: no query).
    let service = resolve(
        core,
        principal,
        Scope::Service(&found.conversation.service_sid),
    )
    .await?;
    participants::apply_update(
        core,
        &service,
        &found.conversation,
        &found.participant,
        update,
        false,
    )
    .await?;
    // Read back with its unread count under the new horizon (the same one query).
    let updated = find_user_conversation(
        core,
        principal,
        Scope::Service(&found.conversation.service_sid),
        user.as_str(),
        found.conversation.sid.as_str(),
    )
    .await?;
    Ok((user, updated))
}

/// Leaves the conversation: the user's participant is removed.
pub async fn delete_user_conversation(
    core: &Core,
    principal: &Principal,
    scope: Scope<'_>,
    user: &str,
    key: &str,
) -> Result<()> {
    let found = find_user_conversation(core, principal, scope, user, key).await?;
    participants::remove(core, &found.conversation, &found.participant, false).await
}
