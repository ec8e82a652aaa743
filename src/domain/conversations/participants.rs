//! Participants (`…/Conversations/{CH}/Participants`; conversations-core.md §2).
//!
//! - A chat participant has an `Identity` (the user rules: 50206/50207); a new identity
//!   creates the user in the conversation's service with the service's default chat role, in
//!   the participant's transaction (one user however many participants race for it).
//! - A non-chat participant has `MessagingBinding.Address` + `MessagingBinding.ProxyAddress`
//!   (E.164 phone numbers, or `whatsapp:` + one); a chat participant may add
//!   `MessagingBinding.ProjectedAddress` (Group MMS). The pair is in at most one non-closed
//!   conversation of the account (409 50416).
//! - One identity per conversation (409 50433); ≤ 1,000 participants (50417), ≤ 50 non-chat
//!   (50422); a closed conversation takes none (50377).
//! - `RoleSid` must name a conversation role of the service; default
//!   `default_conversation_role_sid` (non-chat participants too).
//! - `{Sid}` is the `MB` SID or the identity, for fetch, update and delete alike.

use tracing::instrument;

use super::{
    conversations::{Conversation, check_json, closed_error, find, parse_date, targets_for},
    events::hook,
    scope::{Scope, Service},
    users::check_identity,
};
use crate::{
    domain::{
        Core,
        auth::Principal,
        check_chars,
        paging::{Page, PageRequest},
        read_back,
        sid::{
            AccountSid, ConversationSid, ParticipantSid, RoleSid, ServiceSid, UserSid,
            matches_pattern,
        },
        time,
        webhooks::{Action, Declaration, Event, Param, Subject},
    },
    error::{Error, Result},
    store::conversations::{
        NewParticipant, NewUser, ParticipantChange, ParticipantRefused, ParticipantRow, RoleRow,
    },
};

/// https://www.twilio.com/docs/api/errors/50433 "Participant already exists".
pub const PARTICIPANT_EXISTS: u32 = 50433;
/// 50416: "A binding for this participant and proxy address already exists in Conversation …".
pub const BINDING_EXISTS: u32 = 50416;
/// 50417 / 50422: too many participants / non-chat participants.
pub const TOO_MANY_PARTICIPANTS: u32 = 50417;
pub const TOO_MANY_NON_CHAT: u32 = 50422;
/// 50204 "Identity not provided" (Chat-era code; twilio-csharp #661 shows the message).
pub const IDENTITY_NOT_PROVIDED: u32 = 50204;
/// 50407 / 50408 / 50409 / 50412: address invalid / proxy invalid / equal / proxy missing.
pub const ADDRESS_INVALID: u32 = 50407;
pub const PROXY_INVALID: u32 = 50408;
pub const ADDRESS_EQUALS_PROXY: u32 = 50409;
pub const PROXY_MISSING: u32 = 50412;

/// A participant's non-chat binding.
#[derive(Debug, Clone, PartialEq)]
pub struct Binding {
    pub kind: String,
    pub address: Option<String>,
    pub proxy_address: Option<String>,
    pub projected_address: Option<String>,
}

/// `conversations.v1.conversation.conversation_participant`.
#[derive(Debug, Clone, PartialEq)]
pub struct Participant {
    pub sid: ParticipantSid,
    pub account_sid: AccountSid,
    pub service_sid: ServiceSid,
    pub conversation_sid: ConversationSid,
    pub identity: Option<String>,
    pub user_sid: Option<UserSid>,
    pub binding: Option<Binding>,
    pub attributes: String,
    pub role_sid: Option<RoleSid>,
    pub last_read_message_index: Option<i64>,
    pub last_read_timestamp: Option<String>,
    pub notification_level: String,
    pub date_created: i64,
    pub date_updated: i64,
}

fn binding_of(row: &ParticipantRow) -> Option<Binding> {
    row.binding_type.as_ref().map(|kind| Binding {
        kind: kind.clone(),
        address: row.address.clone(),
        proxy_address: row.proxy_address.clone(),
        projected_address: row.projected_address.clone(),
    })
}

read_back!(|row: ParticipantRow| -> Participant {
    parsed: sid, account_sid, service_sid, conversation_sid;
    optional: user_sid, role_sid;
    computed: binding = binding_of(&row);
    copied: identity, attributes, last_read_message_index, last_read_timestamp,
        notification_level, date_created, date_updated;
});

impl Subject for Participant {
    fn account_sid(&self) -> &AccountSid {
        &self.account_sid
    }
}

const PARTICIPANT_KEYS: &[Param<Participant>] = &[
    ("ConversationSid", |p| Some(p.conversation_sid.to_string())),
    ("ParticipantSid", |p| Some(p.sid.to_string())),
    ("DateCreated", |p| Some(time::iso8601(p.date_created))),
];

const PARTICIPANT_FIELDS: &[Param<Participant>] = &[
    ("Identity", |p| p.identity.clone()),
    ("RoleSid", |p| p.role_sid.as_ref().map(RoleSid::to_string)),
    ("Attributes", |p| Some(p.attributes.clone())),
    ("MessagingBinding.ProxyAddress", |p| {
        p.binding.as_ref().and_then(|b| b.proxy_address.clone())
    }),
    ("MessagingBinding.Address", |p| {
        p.binding.as_ref().and_then(|b| b.address.clone())
    }),
    ("MessagingBinding.ProjectedAddress", |p| {
        p.binding.as_ref().and_then(|b| b.projected_address.clone())
    }),
    ("MessagingBinding.Type", |p| {
        p.binding.as_ref().map(|b| b.kind.to_ascii_uppercase())
    }),
];

const fn participant_event(action: Action) -> Event {
    Event {
        resource: "Participant",
        action,
    }
}

pub static PARTICIPANT_ADDED: Declaration<Participant> = Declaration {
    event: participant_event(Action::Added),
    params: &[PARTICIPANT_KEYS, PARTICIPANT_FIELDS],
};

pub static PARTICIPANT_UPDATED: Declaration<Participant> = Declaration {
    event: participant_event(Action::Updated),
    params: &[
        PARTICIPANT_KEYS,
        &[("DateUpdated", |p| Some(time::iso8601(p.date_updated)))],
        PARTICIPANT_FIELDS,
        &[("LastReadMessageIndex", |p| {
            p.last_read_message_index.map(|i| i.to_string())
        })],
    ],
};

pub static PARTICIPANT_REMOVED: Declaration<Participant> = Declaration {
    event: participant_event(Action::Removed),
    params: &[
        PARTICIPANT_KEYS,
        &[
            ("DateUpdated", |p| Some(time::iso8601(p.date_updated))),
            ("DateRemoved", |_| Some(time::iso8601(time::now()))),
        ],
        PARTICIPANT_FIELDS,
    ],
};

/// What a participant create takes (the form's `MessagingBinding.*` flattened).
#[derive(Debug, Default, Clone)]
pub struct ParticipantInput {
    pub identity: Option<String>,
    pub address: Option<String>,
    pub proxy_address: Option<String>,
    pub projected_address: Option<String>,
    pub attributes: Option<String>,
    pub role_sid: Option<String>,
    pub date_created: Option<String>,
    pub date_updated: Option<String>,
}

/// What an update takes (`LastRead…` besides the create's; the literal `null` removes a
/// proxy or projected address, as the spec says).
#[derive(Debug, Default, Clone)]
pub struct ParticipantUpdate {
    pub identity: Option<String>,
    pub proxy_address: Option<String>,
    pub projected_address: Option<String>,
    pub attributes: Option<String>,
    pub role_sid: Option<String>,
    pub last_read_message_index: Option<String>,
    pub last_read_timestamp: Option<String>,
    pub notification_level: Option<String>,
    pub date_created: Option<String>,
    pub date_updated: Option<String>,
}

/// An E.164 number (`+` and 2–15 digits), or `whatsapp:` and one; the binding type it makes.
pub(crate) fn address_kind(address: &str) -> Option<&'static str> {
    let (kind, number) = match address.strip_prefix("whatsapp:") {
        Some(number) => ("whatsapp", number),
        None => ("sms", address),
    };
    let digits = number.strip_prefix('+')?;
    (2..=15).contains(&digits.len()).then_some(())?;
    digits.bytes().all(|b| b.is_ascii_digit()).then_some(kind)
}

/// A participant's `RoleSid`: a conversation role of the service (400 20001 otherwise), or
/// the service's default conversation role.
async fn role_for(core: &Core, service: &Service, raw: Option<&str>) -> Result<Option<String>> {
    let Some(raw) = raw else {
        return Ok(service
            .default_conversation_role_sid
            .as_ref()
            .map(RoleSid::to_string));
    };
    let sid = RoleSid::parse(raw).ok_or_else(|| {
        Error::invalid("Invalid parameter RoleSid: must match ^RL[0-9a-fA-F]{32}$")
    })?;
    let role = core
        .store
        .fetch_owned::<RoleRow>(service.sid.as_str(), sid.as_str())
        .await?;
    match role.map(|r| r.r#type) {
        Some(kind) if kind == "conversation" => Ok(Some(sid.to_string())),
        Some(_) => Err(Error::invalid(
            "Invalid parameter RoleSid: must name a conversation-level role",
        )),
        None => Err(Error::invalid(
            "Invalid parameter RoleSid: no such role in this service",
        )),
    }
}

/// Checks a participant to create in `conversation` of `service` and makes its row.
pub(super) async fn prepare(
    core: &Core,
    service: &Service,
    conversation: &ConversationSid,
    input: ParticipantInput,
    now: i64,
) -> Result<NewParticipant> {
    let identity = input.identity.filter(|i| !i.is_empty());
    let address = input.address.filter(|a| !a.is_empty());
    let proxy = input.proxy_address.filter(|a| !a.is_empty());
    let projected = input.projected_address.filter(|a| !a.is_empty());
    if let Some(identity) = &identity {
        check_identity(identity)?;
    }
    let kind = match (&identity, &address) {
        (None, None) => {
            return Err(Error::invalid_code(
                IDENTITY_NOT_PROVIDED,
                "Identity not provided: a participant needs Identity or MessagingBinding.Address",
            ));
        }
        (Some(_), Some(_)) => {
            return Err(Error::invalid(
                "Invalid parameters: give Identity or MessagingBinding.Address, not both",
            ));
        }
        (Some(_), None) => {
            if proxy.is_some() {
                return Err(Error::invalid(
                    "Invalid parameter MessagingBinding.ProxyAddress: only with MessagingBinding.Address",
                ));
            }
            projected.as_ref().map(|_| "sms")
        }
        (None, Some(address)) => {
            let kind = address_kind(address).ok_or_else(|| {
                Error::invalid_code(ADDRESS_INVALID, "Invalid messaging binding address")
            })?;
            let proxy = proxy.as_deref().ok_or_else(|| {
                Error::invalid_code(PROXY_MISSING, "Messaging binding proxy address is required")
            })?;
            if address_kind(proxy) != Some(kind) {
                return Err(Error::invalid_code(
                    PROXY_INVALID,
                    "Invalid messaging binding proxy address",
                ));
            }
            if proxy == address {
                return Err(Error::invalid_code(
                    ADDRESS_EQUALS_PROXY,
                    "Messaging binding address and proxy address are the same",
                ));
            }
            if projected.is_some() {
                return Err(Error::invalid(
                    "Invalid parameter MessagingBinding.ProjectedAddress: only with Identity",
                ));
            }
            Some(kind)
        }
    };
    if let Some(p) = &projected
        && address_kind(p) != Some("sms")
    {
        return Err(Error::invalid_code(
            ADDRESS_INVALID,
            "Invalid messaging binding projected address",
        ));
    }
    // Participant attributes: up to 4 KB (conversations-limits).
    check_json(input.attributes.as_deref(), "Attributes", 4 * 1024)?;
    let role_sid = role_for(core, service, input.role_sid.as_deref()).await?;
    let date_created = parse_date(input.date_created.as_deref(), "DateCreated")?.unwrap_or(now);
    let date_updated =
        parse_date(input.date_updated.as_deref(), "DateUpdated")?.unwrap_or(date_created);
    let new_user = identity.as_ref().map(|_| NewUser {
        sid: UserSid::new().to_string(),
        role_sid: service
            .default_chat_service_role_sid
            .as_ref()
            .map(RoleSid::to_string),
    });
    Ok(NewParticipant {
        row: ParticipantRow {
            seq: 0,
            sid: ParticipantSid::new().to_string(),
            conversation_sid: conversation.to_string(),
            service_sid: service.sid.to_string(),
            account_sid: service.account_sid.to_string(),
            identity,
            user_sid: None,
            address,
            proxy_address: proxy,
            projected_address: projected,
            binding_type: kind.map(str::to_owned),
            binding_open: false,
            attributes: input.attributes.unwrap_or_else(|| "{}".to_owned()),
            role_sid,
            last_read_message_index: None,
            last_read_timestamp: None,
            notification_level: "default".to_owned(),
            date_created,
            date_updated,
        },
        new_user,
    })
}

/// A store refusal as Twilio's error.
pub(super) fn refused(refusal: ParticipantRefused) -> Error {
    match refusal {
        ParticipantRefused::Missing => Error::NotFound,
        ParticipantRefused::Closed => closed_error(),
        ParticipantRefused::IdentityTaken => Error::Conflict {
            code: PARTICIPANT_EXISTS,
            status: 409,
            message: "Participant already exists".into(),
        },
        ParticipantRefused::BindingTaken(holder) => Error::Conflict {
            code: BINDING_EXISTS,
            status: 409,
            message: match holder {
                Some(ch) => format!(
                    "A binding for this participant and proxy address already exists in Conversation {ch}"
                ),
                None => "A binding for this participant and proxy address already exists".into(),
            },
        },
        ParticipantRefused::TooMany => Error::invalid_code(
            TOO_MANY_PARTICIPANTS,
            "Conversation participants limit (1000) exceeded",
        ),
        ParticipantRefused::TooManyNonChat => Error::invalid_code(
            TOO_MANY_NON_CHAT,
            "Conversation non-chat participants limit (50) exceeded",
        ),
    }
}

#[instrument(skip_all)]
pub async fn create_participant(
    core: &Core,
    principal: &Principal,
    scope: Scope<'_>,
    conversation: &str,
    input: ParticipantInput,
    webhooks: bool,
) -> Result<(Conversation, Participant)> {
    let (service, conversation) = find(core, principal, scope, conversation).await?;
    if conversation.state == "closed" {
        return Err(closed_error());
    }
    let new = prepare(core, &service, &conversation.sid, input, time::now()).await?;
    let targets = targets_for(core, &conversation, PARTICIPANT_ADDED.event, webhooks).await?;
    let fire = hook::<ParticipantRow, Participant>(&PARTICIPANT_ADDED, &targets);
    let stored = core
        .store
        .insert_participant(&new, fire, time::now_ms())
        .await?
        .map_err(refused)?;
    targets.wake(core);
    Ok((conversation, Participant::try_from(stored)?))
}

/// The participant `key` (`MB` SID or identity) of the conversation; 404 otherwise.
pub async fn find_participant(
    core: &Core,
    conversation: &Conversation,
    key: &str,
) -> Result<Participant> {
    let row = core
        .store
        .fetch_participant(conversation.sid.as_str(), key, matches_pattern(key, "MB"))
        .await?
        .ok_or(Error::NotFound)?;
    Participant::try_from(row)
}

pub async fn fetch_participant(
    core: &Core,
    principal: &Principal,
    scope: Scope<'_>,
    conversation: &str,
    key: &str,
) -> Result<(Conversation, Participant)> {
    let (_, conversation) = find(core, principal, scope, conversation).await?;
    let participant = find_participant(core, &conversation, key).await?;
    Ok((conversation, participant))
}

pub async fn list_participants(
    core: &Core,
    principal: &Principal,
    scope: Scope<'_>,
    conversation: &str,
    request: PageRequest,
) -> Result<(Conversation, Page<Participant>)> {
    let (_, conversation) = find(core, principal, scope, conversation).await?;
    let rows = core
        .store
        .list_participants(conversation.sid.as_str(), request.keyset())
        .await?;
    let page = Page::from_rows(request, rows, |r| r.seq).try_map(Participant::try_from)?;
    Ok((conversation, page))
}

/// `null` (the spec's literal for removal) → `Some(None)`.
fn removable(value: Option<String>) -> Option<Option<String>> {
    value.map(|v| (v != "null").then_some(v))
}

/// Updates a participant of a conversation already found (also UserConversations').
pub async fn apply_update(
    core: &Core,
    service: &Service,
    conversation: &Conversation,
    current: &Participant,
    update: ParticipantUpdate,
    webhooks: bool,
) -> Result<Participant> {
    let identity = update.identity.filter(|i| !i.is_empty());
    if let Some(identity) = &identity {
        check_identity(identity)?;
        if current.identity.is_none() {
            return Err(Error::invalid(
                "Invalid parameter Identity: a non-chat participant cannot take an identity",
            ));
        }
    }
    check_json(update.attributes.as_deref(), "Attributes", 4 * 1024)?;
    let role_sid = match update.role_sid.as_deref() {
        Some(raw) => role_for(core, service, Some(raw)).await?,
        None => None,
    };
    let last_read_message_index = update
        .last_read_message_index
        .as_deref()
        .map(|v| {
            v.parse::<i64>().ok().filter(|i| *i >= 0).ok_or_else(|| {
                Error::invalid(
                    "Invalid parameter LastReadMessageIndex: must be a non-negative integer",
                )
            })
        })
        .transpose()?;
    check_chars(
        update.last_read_timestamp.as_deref(),
        "LastReadTimestamp",
        64,
    )?;
    match update.notification_level.as_deref() {
        None | Some("default" | "muted") => {}
        Some(_) => {
            return Err(Error::invalid(
                "Invalid parameter NotificationLevel: must be default or muted",
            ));
        }
    }
    let proxy_address = removable(update.proxy_address);
    let projected_address = removable(update.projected_address);
    if current.binding.as_ref().is_none_or(|b| b.address.is_none()) && proxy_address.is_some() {
        return Err(Error::invalid(
            "Invalid parameter MessagingBinding.ProxyAddress: the participant has no address",
        ));
    }
    for (value, name) in [
        (&proxy_address, "MessagingBinding.ProxyAddress"),
        (&projected_address, "MessagingBinding.ProjectedAddress"),
    ] {
        if let Some(Some(v)) = value
            && address_kind(v).is_none()
        {
            return Err(Error::invalid_code(
                ADDRESS_INVALID,
                format!("Invalid parameter {name}: not a valid address"),
            ));
        }
    }
    let now = time::now();
    let change = ParticipantChange {
        new_user: identity.as_ref().map(|_| NewUser {
            sid: UserSid::new().to_string(),
            role_sid: service
                .default_chat_service_role_sid
                .as_ref()
                .map(RoleSid::to_string),
        }),
        identity,
        attributes: update.attributes,
        role_sid,
        proxy_address,
        projected_address,
        last_read_message_index,
        last_read_timestamp: update.last_read_timestamp,
        notification_level: update.notification_level,
        date_created: parse_date(update.date_created.as_deref(), "DateCreated")?,
        date_updated: parse_date(update.date_updated.as_deref(), "DateUpdated")?.unwrap_or(now),
    };
    let targets = targets_for(core, conversation, PARTICIPANT_UPDATED.event, webhooks).await?;
    let fire = hook::<ParticipantRow, Participant>(&PARTICIPANT_UPDATED, &targets);
    let stored = core
        .store
        .update_participant(
            conversation.sid.as_str(),
            current.sid.as_str(),
            &change,
            fire,
            time::now_ms(),
        )
        .await?
        .map_err(refused)?;
    targets.wake(core);
    Participant::try_from(stored)
}

#[instrument(skip_all)]
pub async fn update_participant(
    core: &Core,
    principal: &Principal,
    scope: Scope<'_>,
    conversation: &str,
    key: &str,
    update: ParticipantUpdate,
    webhooks: bool,
) -> Result<(Conversation, Participant)> {
    let (service, conversation) = find(core, principal, scope, conversation).await?;
    let current = find_participant(core, &conversation, key).await?;
    let updated = apply_update(core, &service, &conversation, &current, update, webhooks).await?;
    Ok((conversation, updated))
}

/// Removes a participant of a conversation already found (also UserConversations' delete).
pub async fn remove(
    core: &Core,
    conversation: &Conversation,
    participant: &Participant,
    webhooks: bool,
) -> Result<()> {
    let targets = targets_for(core, conversation, PARTICIPANT_REMOVED.event, webhooks).await?;
    let fire = hook::<ParticipantRow, Participant>(&PARTICIPANT_REMOVED, &targets);
    let deleted = core
        .store
        .delete_participant(
            conversation.sid.as_str(),
            participant.sid.as_str(),
            fire,
            time::now_ms(),
        )
        .await?;
    if !deleted {
        return Err(Error::NotFound);
    }
    targets.wake(core);
    Ok(())
}

#[instrument(skip_all)]
pub async fn delete_participant(
    core: &Core,
    principal: &Principal,
    scope: Scope<'_>,
    conversation: &str,
    key: &str,
    webhooks: bool,
) -> Result<()> {
    let (_, conversation) = find(core, principal, scope, conversation).await?;
    let participant = find_participant(core, &conversation, key).await?;
    remove(core, &conversation, &participant, webhooks).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_e164_or_whatsapp() {
        assert_eq!(address_kind("+15551230001"), Some("sms"));
        assert_eq!(address_kind("whatsapp:+15551230001"), Some("whatsapp"));
        assert_eq!(address_kind("15551230001"), None);
        assert_eq!(address_kind("+1555abc"), None);
        assert_eq!(address_kind("+"), None);
    }
}
