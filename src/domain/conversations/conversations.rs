//! Conversations (`/v1/Conversations`, `/v1/Services/{IS}/Conversations`; facts:
//! ../shared/reference/conversations-core.md §1).
//!
//! - `{Sid}` is the `CH` SID or the unique name; a unique name is unique per service
//!   (case-sensitive, a UNIQUE index: 409 50353) and must not look like a `CH` SID (50390).
//! - `State`: `active` (default), `inactive`, `closed`; closed is final (updates: 50377), a
//!   conversation cannot be created closed (50384).
//! - `Timers.Inactive` (≥ 1 minute, 50375; ISO 8601, 50379) and `Timers.Closed` (≥ 10 minutes,
//!   50376; 50380) count from when they are set and restart with each new message *(ours)*;
//!   on create they need `State` (50382). Without them, the account configuration's
//!   `DefaultInactiveTimer`/`DefaultClosedTimer` apply. `timers` answers the absolute times.
//! - A message reactivates an inactive conversation (`Reason=EVENT`); timers fire from the
//!   background task in `timers` (`Reason=TIMER`).
//! - Post-events: onConversationAdded/Updated/Removed and onConversationStateUpdated.

use tracing::instrument;

use super::{
    configuration::parse_duration,
    events::{self, deliveries, hook, read},
    scope::{Scope, Service, resolve},
};
use crate::{
    domain::{
        Core,
        auth::Principal,
        check_bytes, check_chars,
        emulator::clock,
        paging::{Page, PageRequest},
        read_back,
        sid::{AccountSid, ConversationSid, ServiceSid, matches_pattern},
        time,
        webhooks::{Action, Declaration, Event, Param, Subject, Targets},
    },
    error::{Error, Result},
    store::conversations::{
        Changed, ConversationChange, ConversationFilter, ConversationRefused, ConversationRow,
        CreateRefused, Created,
    },
};

/// https://www.twilio.com/docs/api/errors/50353 "Conversation with provided unique name already exists".
pub const UNIQUE_NAME_TAKEN: u32 = 50353;
/// https://www.twilio.com/docs/api/errors/50390 unique name matches the conversation SID pattern.
pub const UNIQUE_NAME_LOOKS_LIKE_SID: u32 = 50390;
/// https://www.twilio.com/docs/api/errors/50375 … 50384 (timers and state).
pub const INACTIVE_TIMER_TOO_SHORT: u32 = 50375;
pub const CLOSED_TIMER_TOO_SHORT: u32 = 50376;
pub const CLOSED_IS_FINAL: u32 = 50377;
pub const INACTIVE_TIMER_INVALID: u32 = 50379;
pub const CLOSED_TIMER_INVALID: u32 = 50380;
pub const TIMER_WITHOUT_STATE: u32 = 50382;
pub const CREATED_CLOSED: u32 = 50384;

/// `conversations.v1.conversation` / `…service_conversation`.
#[derive(Debug, Clone, PartialEq)]
pub struct Conversation {
    pub sid: ConversationSid,
    pub account_sid: AccountSid,
    pub service_sid: ServiceSid,
    pub friendly_name: Option<String>,
    pub unique_name: Option<String>,
    /// JSON text, returned verbatim.
    pub attributes: String,
    pub messaging_service_sid: Option<String>,
    pub state: String,
    pub timer_inactive: Option<String>,
    pub timer_closed: Option<String>,
    pub date_inactive: Option<i64>,
    pub date_closed: Option<i64>,
    pub email_address: Option<String>,
    pub email_name: Option<String>,
    pub date_created: i64,
    pub date_updated: i64,
}

read_back!(|row: ConversationRow| -> Conversation {
    parsed: sid, account_sid, service_sid;
    copied: friendly_name, unique_name, attributes, messaging_service_sid, state,
        timer_inactive, timer_closed, date_inactive, date_closed, email_address, email_name,
        date_created, date_updated;
});

impl Subject for Conversation {
    fn account_sid(&self) -> &AccountSid {
        &self.account_sid
    }
}

const CONVERSATION_PARAMS: &[Param<Conversation>] = &[
    ("ConversationSid", |c| Some(c.sid.to_string())),
    ("DateCreated", |c| Some(time::iso8601(c.date_created))),
    ("DateUpdated", |c| Some(time::iso8601(c.date_updated))),
    ("FriendlyName", |c| c.friendly_name.clone()),
    ("UniqueName", |c| c.unique_name.clone()),
    ("Attributes", |c| Some(c.attributes.clone())),
    ("ChatServiceSid", |c| Some(c.service_sid.to_string())),
    ("MessagingServiceSid", |c| c.messaging_service_sid.clone()),
    ("State", |c| Some(c.state.clone())),
];

const fn conversation_event(action: Action) -> Event {
    Event {
        resource: "Conversation",
        action,
    }
}

pub static CONVERSATION_ADDED: Declaration<Conversation> = Declaration {
    event: conversation_event(Action::Added),
    params: &[CONVERSATION_PARAMS],
};

pub static CONVERSATION_UPDATED: Declaration<Conversation> = Declaration {
    event: conversation_event(Action::Updated),
    params: &[CONVERSATION_PARAMS],
};

pub static CONVERSATION_REMOVED: Declaration<Conversation> = Declaration {
    event: conversation_event(Action::Removed),
    params: &[
        CONVERSATION_PARAMS,
        &[("DateRemoved", |_| Some(time::iso8601(time::now())))],
    ],
};

/// Why a state changed (`Reason` of onConversationStateUpdated).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    Api,
    Timer,
    Event,
}

/// A state change, the subject of onConversationStateUpdated.
#[derive(Debug, Clone)]
pub struct StateChange {
    pub conversation: Conversation,
    pub from: String,
    pub reason: Reason,
}

impl Subject for StateChange {
    fn account_sid(&self) -> &AccountSid {
        &self.conversation.account_sid
    }
}

/// `onConversationStateUpdated` (resource `ConversationState`, action `Updated`).
pub static CONVERSATION_STATE_UPDATED: Declaration<StateChange> = Declaration {
    event: Event {
        resource: "ConversationState",
        action: Action::Updated,
    },
    params: &[&[
        ("ChatServiceSid", |s| {
            Some(s.conversation.service_sid.to_string())
        }),
        ("StateUpdated", |s| {
            Some(time::iso8601(s.conversation.date_updated))
        }),
        ("StateFrom", |s| Some(s.from.clone())),
        ("StateTo", |s| Some(s.conversation.state.clone())),
        ("ConversationSid", |s| Some(s.conversation.sid.to_string())),
        ("Reason", |s| {
            Some(
                match s.reason {
                    Reason::Api => "API",
                    Reason::Timer => "TIMER",
                    Reason::Event => "EVENT",
                }
                .to_owned(),
            )
        }),
        ("MessagingServiceSid", |s| {
            s.conversation.messaging_service_sid.clone()
        }),
    ]],
};

/// What create and update take; `None` leaves a field as it is (or its default).
#[derive(Debug, Default, Clone)]
pub struct ConversationInput {
    pub friendly_name: Option<String>,
    pub unique_name: Option<String>,
    pub attributes: Option<String>,
    pub messaging_service_sid: Option<String>,
    pub state: Option<String>,
    pub timer_inactive: Option<String>,
    pub timer_closed: Option<String>,
    pub email_address: Option<String>,
    pub email_name: Option<String>,
    pub date_created: Option<String>,
    pub date_updated: Option<String>,
}

/// JSON text of at most `max_bytes` (Attributes of every Conversations resource).
pub fn check_json(text: Option<&str>, name: &str, max_bytes: usize) -> Result<()> {
    let Some(text) = text else { return Ok(()) };
    check_bytes(Some(text), name, max_bytes)?;
    serde_json::from_str::<serde::de::IgnoredAny>(text)
        .map(|_| ())
        .map_err(|e| Error::invalid(format!("Invalid parameter {name}: not valid JSON ({e})")))
}

/// A `DateCreated`/`DateUpdated` given by the client (`YYYY-MM-DDTHH:MM:SSZ`).
pub fn parse_date(value: Option<&str>, name: &str) -> Result<Option<i64>> {
    value
        .map(|v| {
            time::parse_iso8601(v).ok_or_else(|| {
                Error::invalid(format!(
                    "Invalid parameter {name}: must be an ISO 8601 date-time (YYYY-MM-DDTHH:MM:SSZ)"
                ))
            })
        })
        .transpose()
}

fn check_state(state: Option<&str>) -> Result<()> {
    match state {
        None | Some("active" | "inactive" | "closed") => Ok(()),
        Some(_) => Err(Error::invalid(
            "Invalid parameter State: must be active, inactive or closed",
        )),
    }
}

/// A timer in seconds; `""` clears it *(ours)*.
fn check_timer(
    value: Option<&str>,
    minimum: u64,
    too_short: u32,
    invalid: u32,
    name: &str,
) -> Result<Option<Option<u64>>> {
    match value {
        None => Ok(None),
        Some("") => Ok(Some(None)),
        Some(text) => match parse_duration(text) {
            None | Some(0) => Err(Error::invalid_code(
                invalid,
                format!("Invalid parameter {name}: must be an ISO 8601 duration such as PT10M"),
            )),
            Some(secs) if secs < minimum => Err(Error::invalid_code(
                too_short,
                format!("{name} must be at least {} minute(s)", minimum / 60),
            )),
            Some(secs) => Ok(Some(Some(secs))),
        },
    }
}

/// The shared field checks of create and update.
fn check_fields(input: &ConversationInput) -> Result<()> {
    check_chars(input.friendly_name.as_deref(), "FriendlyName", 256)?;
    check_chars(input.unique_name.as_deref(), "UniqueName", 256)?;
    if let Some(name) = &input.unique_name
        && matches_pattern(name, "CH")
    {
        return Err(Error::invalid_code(
            UNIQUE_NAME_LOOKS_LIKE_SID,
            "Unique name should not match conversation SID pattern",
        ));
    }
    // "Conversation (up to 16 KB)" (https://twilio.com/docs/conversations/attributes).
    check_json(input.attributes.as_deref(), "Attributes", 16 * 1024)?;
    if let Some(mg) = &input.messaging_service_sid
        && !matches_pattern(mg, "MG")
    {
        return Err(Error::invalid(
            "Invalid parameter MessagingServiceSid: must match ^MG[0-9a-fA-F]{32}$",
        ));
    }
    check_state(input.state.as_deref())?;
    check_chars(
        input.email_address.as_deref(),
        "Bindings.Email.Address",
        256,
    )?;
    check_chars(input.email_name.as_deref(), "Bindings.Email.Name", 256)?;
    Ok(())
}

/// (inactive, closed) timers as given: each `Some(None)` to clear, `Some(Some(secs))` to set.
type Timers = (Option<Option<u64>>, Option<Option<u64>>);

fn check_timers(input: &ConversationInput) -> Result<Timers> {
    Ok((
        check_timer(
            input.timer_inactive.as_deref(),
            60,
            INACTIVE_TIMER_TOO_SHORT,
            INACTIVE_TIMER_INVALID,
            "Timers.Inactive",
        )?,
        check_timer(
            input.timer_closed.as_deref(),
            600,
            CLOSED_TIMER_TOO_SHORT,
            CLOSED_TIMER_INVALID,
            "Timers.Closed",
        )?,
    ))
}

/// When a timer of `text` set at `now` fires.
pub fn due(text: Option<&str>, now: i64) -> Option<i64> {
    text.and_then(parse_duration)
        .map(|secs| now.saturating_add(i64::try_from(secs).unwrap_or(i64::MAX)))
}

/// The conversation `key` (`CH` SID or unique name) in the scope's service; 404 otherwise.
pub async fn find(
    core: &Core,
    principal: &Principal,
    scope: Scope<'_>,
    key: &str,
) -> Result<(Service, Conversation)> {
    let service = resolve(core, principal, scope).await?;
    let row = core
        .store
        .fetch_conversation(service.sid.as_str(), key, matches_pattern(key, "CH"))
        .await?
        .ok_or(Error::NotFound)?;
    Ok((service, Conversation::try_from(row)?))
}

pub(super) fn refused(refusal: ConversationRefused) -> Error {
    match refusal {
        ConversationRefused::Missing => Error::NotFound,
        ConversationRefused::UniqueNameTaken => Error::Conflict {
            code: UNIQUE_NAME_TAKEN,
            status: 409,
            message: "Conversation with provided unique name already exists".into(),
        },
        ConversationRefused::Closed => closed_error(),
    }
}

pub fn closed_error() -> Error {
    Error::invalid_code(
        CLOSED_IS_FINAL,
        "Can't update conversation as it's in final closed state",
    )
}

/// The post-event targets of a conversation's events (see `events`).
pub(super) async fn targets_for(
    core: &Core,
    conversation: &Conversation,
    event: Event,
    webhooks: bool,
) -> Result<Targets> {
    events::conversation_targets(
        core,
        &conversation.account_sid,
        &conversation.service_sid,
        conversation.sid.as_str(),
        event,
        webhooks,
        None,
    )
    .await
}

/// The webhooks of a conversation's events, read once for all the events a request fires.
pub(super) async fn hooks_of(
    core: &Core,
    conversation: &Conversation,
    webhooks: bool,
) -> Result<events::Hooks> {
    events::Hooks::read(
        core,
        &conversation.account_sid,
        &conversation.service_sid,
        Some(conversation.sid.as_str()),
        webhooks,
    )
    .await
}

/// A checked conversation, ready to insert: its service, its row, and the targets of
/// onConversationAdded.
pub struct Prepared {
    pub service: Service,
    pub row: ConversationRow,
    pub added: Targets,
}

/// Checks a conversation to create and makes its row (create and ConversationWithParticipants).
pub async fn prepare(
    core: &Core,
    principal: &Principal,
    scope: Scope<'_>,
    input: ConversationInput,
    webhooks: bool,
) -> Result<Prepared> {
    let service = resolve(core, principal, scope).await?;
    check_fields(&input)?;
    if input.state.as_deref() == Some("closed") {
        return Err(Error::invalid_code(
            CREATED_CLOSED,
            "A conversation cannot be created in the closed state",
        ));
    }
    let (inactive, closed) = check_timers(&input)?;
    if (inactive.is_some() || closed.is_some()) && input.state.is_none() {
        return Err(Error::invalid_code(
            TIMER_WITHOUT_STATE,
            "Timers can only be set together with State",
        ));
    }
    let now = time::now();
    let date_created = parse_date(input.date_created.as_deref(), "DateCreated")?.unwrap_or(now);
    let date_updated =
        parse_date(input.date_updated.as_deref(), "DateUpdated")?.unwrap_or(date_created);
    let config = core
        .store
        .fetch_configuration(principal.account_sid.as_str())
        .await?;
    // Without timers of its own, a conversation takes the account's default timers.
    let timer = |given: &Option<String>, default: Option<String>| match given {
        Some(t) if !t.is_empty() => Some(t.clone()),
        Some(_) => None,
        None => default,
    };
    let timer_inactive = timer(
        &input.timer_inactive,
        config
            .as_ref()
            .and_then(|c| c.default_inactive_timer.clone()),
    );
    let timer_closed = timer(
        &input.timer_closed,
        config.as_ref().and_then(|c| c.default_closed_timer.clone()),
    );
    let state = input.state.clone().unwrap_or_else(|| "active".to_owned());
    // Timers run on the account's clock (`emulator::clock`).
    let timers_now = if timer_inactive.is_some() || timer_closed.is_some() {
        clock::now(core, principal.account_sid.as_str()).await?
    } else {
        now
    };
    let row = ConversationRow {
        seq: 0,
        sid: ConversationSid::new().to_string(),
        service_sid: service.sid.to_string(),
        account_sid: principal.account_sid.to_string(),
        friendly_name: input.friendly_name,
        unique_name: input.unique_name,
        attributes: input.attributes.unwrap_or_else(|| "{}".to_owned()),
        messaging_service_sid: input.messaging_service_sid.or_else(|| {
            config
                .as_ref()
                .and_then(|c| c.default_messaging_service_sid.clone())
        }),
        date_inactive: if state == "active" {
            due(timer_inactive.as_deref(), timers_now)
        } else {
            None
        },
        date_closed: due(timer_closed.as_deref(), timers_now),
        state,
        timer_inactive,
        timer_closed,
        email_address: input.email_address,
        email_name: input.email_name,
        next_message_index: 0,
        date_created,
        date_updated,
    };
    let probe = Conversation::try_from(row.clone())?;
    let added = targets_for(core, &probe, CONVERSATION_ADDED.event, webhooks).await?;
    Ok(Prepared {
        service,
        row,
        added,
    })
}

#[instrument(skip_all)]
pub async fn create_conversation(
    core: &Core,
    principal: &Principal,
    scope: Scope<'_>,
    input: ConversationInput,
    webhooks: bool,
) -> Result<(Service, Conversation)> {
    let Prepared {
        service,
        row,
        added,
    } = prepare(core, principal, scope, input, webhooks).await?;
    let queued = added.clone();
    let fire = std::sync::Arc::new(move |created: &Created| {
        let conversation: Conversation = read(&created.conversation)?;
        deliveries(&CONVERSATION_ADDED, &queued, &conversation)
    });
    let created = core
        .store
        .insert_conversation(&row, &[], fire, time::now_ms())
        .await?
        .map_err(|refusal| match refusal {
            CreateRefused::Conversation(r) => refused(r),
            // No participants were given.
            CreateRefused::Participant(..) => Error::internal(anyhow::anyhow!("{refusal:?}")),
        })?;
    added.wake(core);
    Ok((service, Conversation::try_from(created.conversation)?))
}

/// The list filters as given (`State`, `StartDate`, `EndDate`).
#[derive(Debug, Default, Clone)]
pub struct ListFilter {
    pub state: Option<String>,
    pub start_date: Option<String>,
    pub end_date: Option<String>,
}

/// A filter date: `YYYY-MM-DD` or a full date-time (the spec asks for
/// `YYYY-MM-DDT00:00:00Z`); `end` makes a bare date inclusive of its whole day.
fn filter_date(value: Option<&str>, name: &str, end: bool) -> Result<Option<i64>> {
    let Some(v) = value else { return Ok(None) };
    if let Some(ts) = time::parse_iso8601(v) {
        return Ok(Some(ts));
    }
    time::parse_iso8601(&format!("{v}T00:00:00Z"))
        .map(|day| Some(if end { day + 86_399 } else { day }))
        .ok_or_else(|| {
            Error::invalid(format!(
                "Invalid parameter {name}: must be an ISO 8601 date"
            ))
        })
}

pub async fn list_conversations(
    core: &Core,
    principal: &Principal,
    scope: Scope<'_>,
    filter: &ListFilter,
    request: PageRequest,
) -> Result<(Service, Page<Conversation>)> {
    let service = resolve(core, principal, scope).await?;
    check_state(filter.state.as_deref())?;
    let store_filter = ConversationFilter {
        state: filter.state.clone(),
        created_from: filter_date(filter.start_date.as_deref(), "StartDate", false)?,
        created_to: filter_date(filter.end_date.as_deref(), "EndDate", true)?,
    };
    let rows = core
        .store
        .list_conversations(service.sid.as_str(), &store_filter, request.keyset())
        .await?;
    let page = Page::from_rows(request, rows, |r| r.seq).try_map(Conversation::try_from)?;
    Ok((service, page))
}

/// The timer columns after a change of state and timers at `now`.
fn timer_change(
    current: &Conversation,
    state: &str,
    (inactive, closed): Timers,
    input: &ConversationInput,
    now: i64,
    change: &mut ConversationChange,
) {
    let inactive_text = match inactive {
        Some(None) => None,
        Some(Some(_)) => input.timer_inactive.clone(),
        None => current.timer_inactive.clone(),
    };
    let closed_text = match closed {
        Some(None) => None,
        Some(Some(_)) => input.timer_closed.clone(),
        None => current.timer_closed.clone(),
    };
    if inactive.is_some() {
        change.timer_inactive = Some(inactive_text.clone());
    }
    if closed.is_some() {
        change.timer_closed = Some(closed_text.clone());
    }
    let state_changed = state != current.state;
    // An inactive timer runs only while active; a closed one until the conversation closes.
    change.date_inactive = match state {
        "active" if inactive.is_some() || state_changed => Some(due(inactive_text.as_deref(), now)),
        "active" => None,
        _ => Some(None),
    };
    change.date_closed = match state {
        "closed" => Some(None),
        _ if closed.is_some() => Some(due(closed_text.as_deref(), now)),
        _ => None,
    };
}

#[instrument(skip_all)]
pub async fn update_conversation(
    core: &Core,
    principal: &Principal,
    scope: Scope<'_>,
    key: &str,
    input: ConversationInput,
    webhooks: bool,
) -> Result<Conversation> {
    let (_, current) = find(core, principal, scope, key).await?;
    if current.state == "closed" {
        return Err(closed_error());
    }
    check_fields(&input)?;
    let timers = check_timers(&input)?;
    let now = time::now();
    let state = input.state.clone().unwrap_or_else(|| current.state.clone());
    let mut change = ConversationChange {
        friendly_name: input.friendly_name.clone(),
        unique_name: input.unique_name.clone(),
        attributes: input.attributes.clone(),
        messaging_service_sid: input.messaging_service_sid.clone(),
        state: input.state.clone(),
        email_address: input.email_address.clone(),
        email_name: input.email_name.clone(),
        date_created: parse_date(input.date_created.as_deref(), "DateCreated")?,
        date_updated: parse_date(input.date_updated.as_deref(), "DateUpdated")?.unwrap_or(now),
        ..ConversationChange::default()
    };
    // Timers run on the account's clock (`emulator::clock`).
    let timers_now = clock::now(core, current.account_sid.as_str()).await?;
    timer_change(&current, &state, timers, &input, timers_now, &mut change);
    let hooks = hooks_of(core, &current, webhooks).await?;
    let updated = hooks.targets(CONVERSATION_UPDATED.event, None)?;
    let state_targets = hooks.targets(CONVERSATION_STATE_UPDATED.event, None)?;
    let wake = [updated.clone(), state_targets.clone()];
    let fire = state_fire(updated, state_targets, Reason::Api);
    let changed = core
        .store
        .update_conversation(current.sid.as_str(), &change, fire, time::now_ms())
        .await?
        .map_err(refused)?;
    for targets in &wake {
        targets.wake(core);
    }
    Conversation::try_from(changed.after)
}

/// The hook of a conversation change: onConversationUpdated to `updated`, and when the state
/// moved, onConversationStateUpdated to `state_targets`.
pub(super) fn state_fire(
    updated: Targets,
    state_targets: Targets,
    reason: Reason,
) -> crate::store::conversations::Fire<Changed> {
    std::sync::Arc::new(move |changed: &Changed| {
        let after: Conversation = read(&changed.after)?;
        let mut out = deliveries(&CONVERSATION_UPDATED, &updated, &after)?;
        if changed.before.state != changed.after.state {
            let change = StateChange {
                conversation: after,
                from: changed.before.state.clone(),
                reason,
            };
            out.extend(deliveries(
                &CONVERSATION_STATE_UPDATED,
                &state_targets,
                &change,
            )?);
        }
        Ok(out)
    })
}

#[instrument(skip_all)]
pub async fn delete_conversation(
    core: &Core,
    principal: &Principal,
    scope: Scope<'_>,
    key: &str,
    webhooks: bool,
) -> Result<()> {
    let (service, current) = find(core, principal, scope, key).await?;
    let removed = targets_for(core, &current, CONVERSATION_REMOVED.event, webhooks).await?;
    let fire = hook::<ConversationRow, Conversation>(&CONVERSATION_REMOVED, &removed);
    let deleted = core
        .store
        .delete_conversation(
            service.sid.as_str(),
            current.sid.as_str(),
            fire,
            time::now_ms(),
        )
        .await?;
    if !deleted {
        return Err(Error::NotFound);
    }
    removed.wake(core);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timers_are_checked_with_their_own_codes() {
        let code = |v: &str, min, short, bad| {
            check_timer(Some(v), min, short, bad, "T")
                .err()
                .map(|e| e.code())
        };
        assert_eq!(code("PT59S", 60, 50375, 50379), Some(50375));
        assert_eq!(code("soon", 60, 50375, 50379), Some(50379));
        assert_eq!(code("PT0S", 60, 50375, 50379), Some(50379));
        assert_eq!(code("PT1M", 60, 50375, 50379), None);
        assert_eq!(code("PT9M", 600, 50376, 50380), Some(50376));
        assert_eq!(
            check_timer(Some(""), 60, 1, 2, "T").unwrap(),
            Some(None),
            "empty clears"
        );
    }

    #[test]
    fn filter_dates_take_a_day_or_a_date_time() {
        assert_eq!(
            filter_date(Some("2020-01-02"), "S", true).unwrap(),
            time::parse_iso8601("2020-01-02T23:59:59Z")
        );
        assert_eq!(
            filter_date(Some("2020-01-02T10:00:00Z"), "S", true).unwrap(),
            time::parse_iso8601("2020-01-02T10:00:00Z")
        );
        assert!(filter_date(Some("yesterday"), "S", false).is_err());
    }
}
