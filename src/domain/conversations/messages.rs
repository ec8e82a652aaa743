//! Messages (`…/Conversations/{CH}/Messages`; conversations-core.md §3).
//!
//! - `index` per conversation from 0, strictly increasing, never reused (the conversation's
//!   counter, taken in the message's own transaction through group commit).
//! - `Author` defaults to `system`; `participant_sid` is the participant whose identity or
//!   address equals the author, else null.
//! - One of `Body` (≤ 1,600 characters, 50504), `MediaSid` (`ME…`) or `ContentSid` (`HX…`,
//!   which makes Body and MediaSid ignored) is required (50503).
//! - A closed conversation takes no message (50377); an inactive one becomes active
//!   (onConversationStateUpdated `Reason=EVENT`), and the timers restart.
//! - REST may edit and delete any message: a REST request has no acting identity for roles.
//! - A message goes to every non-chat participant but its author as an outbound 2010 Message
//!   from the participant's proxy address; each such SMS has a Receipt, and `delivery`
//!   summarises them (null when the conversation has no non-chat participant).

use std::collections::HashMap;

use tracing::instrument;

use super::{
    conversations::{
        CLOSED_IS_FINAL, CONVERSATION_STATE_UPDATED, CONVERSATION_UPDATED, Conversation, Reason,
        StateChange, check_json, closed_error, due, find, parse_date, targets_for,
    },
    events::{Hooks, deliveries, hook, read},
    scope::{Scope, resolve},
};
use crate::{
    domain::{
        Core,
        auth::Principal,
        check_chars,
        emulator::clock,
        messages::NewMessageInput,
        paging::{Page, PageRequest},
        read_back,
        sid::{
            AccountSid, ConversationMessageSid, ConversationSid, FlowSid, ParticipantSid,
            ReceiptSid, ServiceSid, matches_pattern,
        },
        studio::executions,
        time,
        webhooks::{Action, Declaration, Event, Param, Subject, Targets},
    },
    error::{Error, Result},
    store::{
        conversations::{
            Delivered, MessageChange, MessageRefused, MessageRow, Posted, ReceiptRow,
            messages::MIRROR,
        },
        messages::NewMessage,
    },
};

/// 50503 "Message body not provided" / 50504 "Message body parameter is too long".
pub const BODY_MISSING: u32 = 50503;

/// How many times a participant's message tries to reach its flow's execution when other
/// messages resume or start it at the same time.
const STUDIO_ATTEMPTS: usize = 5;
pub const BODY_TOO_LONG: u32 = 50504;
pub const MAX_BODY_CHARS: usize = 1600;

/// `conversations.v1.conversation.conversation_message`.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub sid: ConversationMessageSid,
    pub account_sid: AccountSid,
    pub service_sid: ServiceSid,
    pub conversation_sid: ConversationSid,
    pub index: i64,
    pub author: String,
    pub body: Option<String>,
    /// JSON text of the media array, or none.
    pub media: Option<serde_json::Value>,
    pub attributes: String,
    pub participant_sid: Option<ParticipantSid>,
    pub content_sid: Option<String>,
    pub date_created: i64,
    pub date_updated: i64,
    /// The webhooks' `Source` (`API`, or `SMS` for a message that came in over SMS).
    pub source: &'static str,
    /// The summary of its SMS deliveries (`None`: it was sent to no non-chat participant).
    pub delivery: Option<Delivery>,
}

/// `delivery`: how many SMS the message was sent as, and of each status whether `all`, `some`
/// or `none` of them reached it. Cumulative *(ours, after the spec's example `sent: all,
/// delivered: some`)*: a delivered (or read, or undelivered) SMS was also sent, a read one also
/// delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub total: i64,
    pub sent: &'static str,
    pub delivered: &'static str,
    pub read: &'static str,
    pub failed: &'static str,
    pub undelivered: &'static str,
}

impl Delivery {
    fn of(statuses: &[&'static str]) -> Self {
        let share = |reached: &dyn Fn(&str) -> bool| {
            let n = statuses.iter().filter(|s| reached(s)).count();
            match n {
                0 => "none",
                n if n == statuses.len() => "all",
                _ => "some",
            }
        };
        Self {
            total: statuses.len() as i64,
            sent: share(&|s| matches!(s, "sent" | "delivered" | "read" | "undelivered")),
            delivered: share(&|s| matches!(s, "delivered" | "read")),
            read: share(&|s| s == "read"),
            failed: share(&|s| s == "failed"),
            undelivered: share(&|s| s == "undelivered"),
        }
    }
}

/// A receipt's status from its 2010 Message as it stands at `now_ms` (`sent` until the SMS
/// is sent *(ours: the receipt enum has no `queued`)*), its error code and when it last
/// changed (epoch seconds).
pub fn channel_status(
    row: crate::store::messages::MessageRow,
    now_ms: i64,
) -> Result<(&'static str, Option<i64>, i64)> {
    let message = crate::domain::messages::Message::at(row, now_ms)?;
    let status = match message.status {
        "delivered" => "delivered",
        "undelivered" => "undelivered",
        "failed" => "failed",
        "read" => "read",
        _ => "sent",
    };
    Ok((status, message.error_code, message.date_updated / 1000))
}

/// Fills in `delivery` of `messages` from their receipts (two reads for the lot).
async fn with_delivery(core: &Core, mut messages: Vec<Message>) -> Result<Vec<Message>> {
    let sids: Vec<String> = messages.iter().map(|m| m.sid.to_string()).collect();
    let receipts = core.store.receipts_of(&sids).await?;
    if receipts.is_empty() {
        return Ok(messages);
    }
    let channel_sids: Vec<String> = receipts
        .iter()
        .map(|r| r.channel_message_sid.clone())
        .collect();
    let account = messages[0].account_sid.to_string();
    // By SID: a page of 50 messages sent to many participants has hundreds of them. Each
    // receipt names an SMS of its own (one per participant a message was sent to).
    let mut channel: HashMap<String, crate::store::messages::MessageRow> = core
        .store
        .messages_by_sid(&account, &channel_sids)
        .await?
        .into_iter()
        .map(|m| (m.sid.clone(), m))
        .collect();
    let now_ms = time::now_ms();
    let mut statuses: HashMap<String, Vec<&'static str>> = HashMap::new();
    for receipt in receipts {
        let status = match channel.remove(&receipt.channel_message_sid) {
            Some(row) => channel_status(row, now_ms)?.0,
            None => "sent",
        };
        statuses
            .entry(receipt.message_sid)
            .or_default()
            .push(status);
    }
    for message in &mut messages {
        message.delivery = statuses.get(message.sid.as_str()).map(|s| Delivery::of(s));
    }
    Ok(messages)
}

async fn with_delivery_one(core: &Core, message: Message) -> Result<Message> {
    let mut all = with_delivery(core, vec![message]).await?;
    all.pop()
        .ok_or_else(|| Error::internal(anyhow::anyhow!("a message went missing")))
}

fn media_of(row: &MessageRow) -> Result<Option<serde_json::Value>> {
    row.media
        .as_deref()
        .map(|m| crate::domain::stored_json(m, "Message media"))
        .transpose()
}

read_back!(|row: MessageRow| -> Message {
    parsed: sid, account_sid, service_sid, conversation_sid;
    optional: participant_sid;
    computed: index = row.message_index, media = media_of(&row)?, source = "API", delivery = None;
    copied: author, body, attributes, content_sid, date_created, date_updated;
});

impl Subject for Message {
    fn account_sid(&self) -> &AccountSid {
        &self.account_sid
    }

    fn source(&self) -> &'static str {
        self.source
    }
}

/// Where a message comes from, which decides its webhooks (WH: "SDK and SMS actions fire by
/// default … REST actions fire only with `X-Twilio-Webhook-Enabled=true`").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// A REST request; `webhooks`: it carried `X-Twilio-Webhook-Enabled: true`.
    Rest { webhooks: bool },
    /// An inbound SMS from a participant's address (the emulator's InboundMessages):
    /// webhooks always, `Source=SMS`.
    Sms,
    /// A Studio flow's send-message in its conversation: webhooks always, `Source=API`
    /// *(ours: Twilio does not document what Studio's own posts carry)*.
    Studio,
}

impl Source {
    fn fires(self) -> bool {
        match self {
            Self::Rest { webhooks } => webhooks,
            Self::Sms | Self::Studio => true,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Sms => "SMS",
            Self::Rest { .. } | Self::Studio => "API",
        }
    }
}

const MESSAGE_KEYS: &[Param<Message>] = &[
    ("ConversationSid", |m| Some(m.conversation_sid.to_string())),
    ("MessageSid", |m| Some(m.sid.to_string())),
    ("Index", |m| Some(m.index.to_string())),
    ("DateCreated", |m| Some(time::iso8601(m.date_created))),
];

const MESSAGE_FIELDS: &[Param<Message>] = &[
    ("Body", |m| m.body.clone()),
    ("Author", |m| Some(m.author.clone())),
    ("ParticipantSid", |m| {
        m.participant_sid.as_ref().map(ParticipantSid::to_string)
    }),
    ("Attributes", |m| Some(m.attributes.clone())),
    ("Media", |m| {
        m.media.as_ref().map(serde_json::Value::to_string)
    }),
];

const DATE_UPDATED: &[Param<Message>] = &[("DateUpdated", |m| Some(time::iso8601(m.date_updated)))];

const fn message_event(action: Action) -> Event {
    Event {
        resource: "Message",
        action,
    }
}

pub static MESSAGE_ADDED: Declaration<Message> = Declaration {
    event: message_event(Action::Added),
    params: &[MESSAGE_KEYS, MESSAGE_FIELDS],
};

pub static MESSAGE_UPDATED: Declaration<Message> = Declaration {
    event: message_event(Action::Updated),
    params: &[MESSAGE_KEYS, DATE_UPDATED, MESSAGE_FIELDS],
};

pub static MESSAGE_REMOVED: Declaration<Message> = Declaration {
    event: message_event(Action::Removed),
    params: &[
        MESSAGE_KEYS,
        DATE_UPDATED,
        &[("DateRemoved", |_| Some(time::iso8601(time::now())))],
        MESSAGE_FIELDS,
    ],
};

#[derive(Debug, Default, Clone)]
pub struct MessageInput {
    pub author: Option<String>,
    pub body: Option<String>,
    pub attributes: Option<String>,
    pub media_sid: Option<String>,
    pub content_sid: Option<String>,
    pub subject: Option<String>,
    pub date_created: Option<String>,
    pub date_updated: Option<String>,
}

fn check_common(input: &MessageInput) -> Result<()> {
    check_chars(input.author.as_deref(), "Author", 256)?;
    if input
        .body
        .as_deref()
        .is_some_and(|b| b.chars().count() > MAX_BODY_CHARS)
    {
        return Err(Error::invalid_code(
            BODY_TOO_LONG,
            format!("Message body parameter is too long (at most {MAX_BODY_CHARS} characters)"),
        ));
    }
    // Message attributes: up to 4 KB (conversations-limits).
    check_json(input.attributes.as_deref(), "Attributes", 4 * 1024)?;
    check_chars(input.subject.as_deref(), "Subject", 256)?;
    Ok(())
}

#[instrument(skip_all)]
pub async fn create_message(
    core: &Core,
    principal: &Principal,
    scope: Scope<'_>,
    conversation: &str,
    input: MessageInput,
    webhooks: bool,
) -> Result<(Conversation, Message)> {
    let service = resolve(core, principal, scope).await?;
    let found = core
        .store
        .conversation_to_post(
            service.sid.as_str(),
            conversation,
            matches_pattern(conversation, "CH"),
        )
        .await?
        .ok_or(Error::NotFound)?;
    let conversation = Conversation::try_from(found.conversation)?;
    let message = post(
        core,
        principal,
        &conversation,
        input,
        Source::Rest { webhooks },
        Vec::new(),
        found.texted,
    )
    .await?;
    Ok((conversation, message))
}

/// A message that came in over SMS from `author` (the participant's address) to conversation
/// `conversation_sid` of the account, written with `recorded` (the inbound 2010 Message, whose
/// media the conversation message carries: an MMS may have no body).
/// `None` when the conversation no longer takes it (gone or closed meanwhile).
pub async fn post_from_channel(
    core: &Core,
    principal: &Principal,
    conversation_sid: &str,
    author: &str,
    body: &str,
    recorded: NewMessage,
) -> Result<Option<Message>> {
    let Some(row) = core
        .store
        .conversation_of_account(principal.account_sid.as_str(), conversation_sid)
        .await?
    else {
        return Ok(None);
    };
    let conversation = Conversation::try_from(row)?;
    // A media-only MMS has no body: its media (from `recorded`) makes the message.
    let input = MessageInput {
        author: Some(author.to_owned()),
        body: Some(body.to_owned()).filter(|b| !b.is_empty()),
        ..MessageInput::default()
    };
    match post(
        core,
        principal,
        &conversation,
        input,
        Source::Sms,
        vec![recorded],
        true,
    )
    .await
    {
        Ok(message) => Ok(Some(message)),
        Err(Error::NotFound) => Ok(None),
        Err(e) if e.code() == CLOSED_IS_FINAL => Ok(None),
        Err(e) => Err(e),
    }
}

/// A Studio flow's message into the conversation its `studio` webhook started it for.
pub async fn post_as_flow(
    core: &Core,
    account: &AccountSid,
    conversation_sid: &str,
    body: &str,
) -> Result<Message> {
    let row = core
        .store
        .conversation_of_account(account.as_str(), conversation_sid)
        .await?
        .ok_or(Error::NotFound)?;
    let conversation = Conversation::try_from(row)?;
    let input = MessageInput {
        body: Some(body.to_owned()),
        ..MessageInput::default()
    };
    let principal = Principal::of_account(account.clone());
    post(
        core,
        &principal,
        &conversation,
        input,
        Source::Studio,
        Vec::new(),
        true,
    )
    .await
}

/// Posts a message into `conversation`: the checks, the index, the SMS sent to each non-chat
/// participant (except its author) with its receipt, the webhooks of `source`, all in one
/// write with `recorded`; then the conversation's `studio` webhooks take a participant's
/// message. `texted`: whether the conversation may have a participant to send an SMS to
/// (false when the lookup found none, which saves reading its participants).
async fn post(
    core: &Core,
    principal: &Principal,
    conversation: &Conversation,
    input: MessageInput,
    source: Source,
    recorded: Vec<NewMessage>,
    texted: bool,
) -> Result<Message> {
    let webhooks = source.fires();
    if conversation.state == "closed" {
        return Err(closed_error());
    }
    check_common(&input)?;
    if let Some(me) = &input.media_sid
        && !matches_pattern(me, "ME")
    {
        return Err(Error::invalid(
            "Invalid parameter MediaSid: must match ^ME[0-9a-fA-F]{32}$",
        ));
    }
    if let Some(hx) = &input.content_sid
        && !matches_pattern(hx, "HX")
    {
        return Err(Error::invalid(
            "Invalid parameter ContentSid: must match ^HX[0-9a-fA-F]{32}$",
        ));
    }
    let body = input.body.filter(|b| !b.is_empty());
    let (body, media_sid) = match input.content_sid {
        // "If set, Body and MediaSid parameters are ignored" (spec).
        Some(_) => (None, None),
        None => (body, input.media_sid),
    };
    // An MMS that came in over SMS carries its media (the inbound 2010 Message's, `ME…`), with
    // or without a body; REST and Studio messages name theirs by MediaSid.
    let channel_media: Vec<serde_json::Value> = if source == Source::Sms {
        recorded
            .iter()
            .flat_map(|m| &m.media)
            .map(|media| {
                serde_json::json!({"sid": media.sid, "size": 0,
                                   "content_type": media.content_type, "filename": null})
            })
            .collect()
    } else {
        Vec::new()
    };
    if body.is_none()
        && media_sid.is_none()
        && input.content_sid.is_none()
        && channel_media.is_empty()
    {
        return Err(Error::invalid_code(
            BODY_MISSING,
            "Message body not provided",
        ));
    }
    // MediaSid names media in Twilio's Media Content Service, which is not emulated: echoed.
    let media = match media_sid {
        Some(sid) => Some(
            serde_json::json!([{"sid": sid, "size": 0, "content_type": null, "filename": null}])
                .to_string(),
        ),
        None if !channel_media.is_empty() => {
            Some(serde_json::Value::Array(channel_media).to_string())
        }
        None => None,
    };
    let now = time::now();
    let date_created = parse_date(input.date_created.as_deref(), "DateCreated")?.unwrap_or(now);
    let date_updated =
        parse_date(input.date_updated.as_deref(), "DateUpdated")?.unwrap_or(date_created);
    let row = MessageRow {
        seq: 0,
        sid: ConversationMessageSid::new().to_string(),
        conversation_sid: conversation.sid.to_string(),
        service_sid: conversation.service_sid.to_string(),
        account_sid: conversation.account_sid.to_string(),
        message_index: 0,
        author: input
            .author
            .filter(|a| !a.is_empty())
            .unwrap_or_else(|| "system".to_owned()),
        body,
        media,
        attributes: input.attributes.unwrap_or_else(|| "{}".to_owned()),
        participant_sid: None,
        content_sid: input.content_sid,
        subject: input.subject,
        date_created,
        date_updated,
    };
    let now_ms = time::now_ms();
    let (channel, receipts) = if texted {
        sms_deliveries(core, conversation, &row, now_ms).await?
    } else {
        (Vec::new(), Vec::new())
    };
    // The answer's `delivery` from the SMS in hand (one receipt each), not read back.
    let channel_statuses = channel
        .iter()
        .map(|m| channel_status(m.row.clone(), now_ms).map(|(status, ..)| status))
        .collect::<Result<Vec<_>>>()?;
    let mut channel_messages = recorded;
    channel_messages.extend(channel);
    // The webhooks of all three events (and the `studio` flows) in one read.
    let hooks = Hooks::read(
        core,
        &conversation.account_sid,
        &conversation.service_sid,
        Some(conversation.sid.as_str()),
        webhooks,
    )
    .await?;
    let added = hooks.targets(MESSAGE_ADDED.event, row.body.as_deref())?;
    let (updated, state_targets) = if conversation.state == "inactive" {
        (
            hooks.targets(CONVERSATION_UPDATED.event, None)?,
            hooks.targets(CONVERSATION_STATE_UPDATED.event, None)?,
        )
    } else {
        (Targets::default(), Targets::default())
    };
    let wake = [added.clone(), updated.clone(), state_targets.clone()];
    let fire = std::sync::Arc::new(move |posted: &Posted| {
        if added.is_empty() && updated.is_empty() && state_targets.is_empty() {
            return Ok(Vec::new());
        }
        let mut message: Message = read(&posted.message)?;
        message.source = source.name();
        let mut out = deliveries(&MESSAGE_ADDED, &added, &message)?;
        if let Some(row) = &posted.reactivated {
            let after: Conversation = read(row)?;
            out.extend(deliveries(&CONVERSATION_UPDATED, &updated, &after)?);
            let change = StateChange {
                conversation: after,
                from: "inactive".to_owned(),
                reason: Reason::Event,
            };
            out.extend(deliveries(
                &CONVERSATION_STATE_UPDATED,
                &state_targets,
                &change,
            )?);
        }
        Ok(out)
    });
    // The timers restart on the account's clock (`emulator::clock`).
    let timers_now = if conversation.timer_inactive.is_some() || conversation.timer_closed.is_some()
    {
        clock::now(core, conversation.account_sid.as_str()).await?
    } else {
        now
    };
    let has_callbacks = channel_messages.iter().any(|m| !m.callbacks.is_empty());
    let has_receipts = !receipts.is_empty();
    let posted = core
        .store
        .insert_conversation_message(
            row,
            due(conversation.timer_inactive.as_deref(), timers_now),
            conversation
                .date_closed
                .and_then(|_| due(conversation.timer_closed.as_deref(), timers_now)),
            fire,
            Delivered {
                messages: channel_messages,
                receipts,
            },
            now_ms,
        )
        .await?
        .map_err(|refused| match refused {
            MessageRefused::Missing => Error::NotFound,
            MessageRefused::Closed => closed_error(),
        })?;
    for targets in &wake {
        targets.wake(core);
    }
    if has_callbacks {
        core.webhook_wake.notify_one();
    }
    let mut message = Message::try_from(posted.message)?;
    message.source = source.name();
    if has_receipts {
        message.delivery = Some(Delivery::of(&channel_statuses));
    }
    // The `studio` target is a conversation-scoped webhook: a REST message fires it only with
    // `X-Twilio-Webhook-Enabled: true`, as every webhook ("This includes both Service-level
    // webhooks and Conversation-Scoped Webhooks", conversations-core.md §webhooks).
    if source != Source::Studio && source.fires() && message.participant_sid.is_some() {
        // Committed already: a failure here is logged, the message answered.
        let flows = hooks.studio_flows();
        if let Err(e) = studio_hooks(core, principal, conversation, &message, flows).await {
            tracing::warn!(conversation = %conversation.sid, error = %e, "a conversation's studio webhooks did not run");
        }
    }
    Ok(message)
}

/// The SMS a message sends: one outbound 2010 Message from each non-chat participant's proxy
/// address to its address (not to the message's author), and the receipt (DY) naming it.
/// Media is not forwarded (it lives in Twilio's Media Content Service, not emulated); a message
/// without a body sends nothing.
async fn sms_deliveries(
    core: &Core,
    conversation: &Conversation,
    message: &MessageRow,
    now_ms: i64,
) -> Result<(Vec<NewMessage>, Vec<ReceiptRow>)> {
    let Some(body) = message.body.as_deref().filter(|b| !b.is_empty()) else {
        return Ok((Vec::new(), Vec::new()));
    };
    let mut messages = Vec::new();
    let mut receipts = Vec::new();
    for participant in core
        .store
        .sms_participants(conversation.sid.as_str())
        .await?
    {
        let (Some(address), Some(proxy)) = (&participant.address, &participant.proxy_address)
        else {
            continue;
        };
        if *address == message.author {
            continue;
        }
        let input =
            NewMessageInput::outbound(conversation.account_sid.clone(), proxy, address, body);
        // An address the Messages resource refuses (not a phone number) sends nothing.
        let Ok(sms) = crate::domain::messages::prepare(input, now_ms) else {
            continue;
        };
        receipts.push(ReceiptRow {
            seq: 0,
            sid: ReceiptSid::new().to_string(),
            account_sid: conversation.account_sid.to_string(),
            conversation_sid: conversation.sid.to_string(),
            message_sid: message.sid.clone(),
            participant_sid: participant.sid.clone(),
            channel_message_sid: sms.row.sid.clone(),
            date_created: now_ms / 1000,
        });
        messages.push(sms);
    }
    Ok((messages, receipts))
}

/// The conversation's `studio` webhooks take a participant's message (STU: "A Studio Flow's
/// Execution will start when a message is created in the Conversation"): the flow's active
/// execution for the conversation waiting for a reply resumes with `incomingMessage`; without
/// an active one, a new execution starts with `incomingConversationMessage` (one execution per
/// conversation and flow: Studio keys it on the Conversation SID); a message that loses a race
/// for it tries again (`STUDIO_ATTEMPTS`). A REST message runs them only with
/// `X-Twilio-Webhook-Enabled: true`. What the flow says is posted back.
///
/// `flows`: the conversation's `studio` flows, read with the message's other webhooks.
///
/// The flow runs after the message is committed, in the request that posted it *(ours)*: a
/// crash between the two leaves the message without its run.
async fn studio_hooks(
    core: &Core,
    principal: &Principal,
    conversation: &Conversation,
    message: &Message,
    flows: Vec<FlowSid>,
) -> Result<()> {
    for flow_sid in flows {
        let ran = studio_hook(core, principal, conversation, message, &flow_sid).await;
        match ran {
            Ok(Some(ran)) => {
                for body in ran.conversation_posts {
                    // The participant's message is committed: a flow message that cannot be
                    // posted (the conversation closed meanwhile) is logged, not the answer.
                    let posted = Box::pin(post_as_flow(
                        core,
                        &conversation.account_sid,
                        conversation.sid.as_str(),
                        &body,
                    ))
                    .await;
                    if let Err(e) = posted {
                        tracing::warn!(conversation = %conversation.sid, error = %e, "a flow's message could not be posted into its conversation");
                    }
                }
            }
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(conversation = %conversation.sid, flow = %flow_sid, error = %e, "a conversation's studio webhook did not run its flow");
            }
        }
    }
    Ok(())
}

async fn studio_hook(
    core: &Core,
    principal: &Principal,
    conversation: &Conversation,
    message: &Message,
    flow_sid: &FlowSid,
) -> Result<Option<executions::Ran>> {
    let fields = serde_json::json!({
        "AccountSid": message.account_sid,
        "Attributes": message.attributes,
        "Author": message.author,
        "Body": message.body,
        "ConversationSid": conversation.sid,
        "From": message.author,
        "Index": message.index.to_string(),
        "MessageSid": message.sid,
        "ParticipantSid": message.participant_sid,
        "Source": message.source,
    });
    // Two messages at once race for the one execution: a lost resume (the other's run came
    // first) or a lost start (the other started it) re-reads and resumes the execution now
    // waiting, as an inbound SMS does (`emulator::inbound_messages`), a bounded number of times.
    for _ in 0..STUDIO_ATTEMPTS {
        if let Some(row) = core
            .store
            .conversation_execution(conversation.sid.as_str(), flow_sid.as_str())
            .await?
        {
            let resumed = executions::resume(
                core,
                row,
                "incomingMessage",
                Some(("inbound".to_owned(), fields.clone())),
                Vec::new(),
            )
            .await?;
            if resumed.is_some() {
                return Ok(resumed);
            }
            continue;
        }
        let started = executions::start(
            core,
            principal,
            flow_sid,
            executions::NewExecution {
                to: conversation.sid.to_string(),
                from: conversation.sid.to_string(),
                parameters: serde_json::Map::new(),
            },
            executions::Trigger {
                event: "incomingConversationMessage",
                context: Some(serde_json::json!({ "conversation": fields.clone() })),
                contact: Some(message.author.clone()),
                conversation_sid: Some(conversation.sid.to_string()),
                recorded: Vec::new(),
            },
        )
        .await;
        match started {
            Ok(ran) => return Ok(Some(ran)),
            // Another message started it first: resume it.
            Err(Error::Conflict { .. }) => continue,
            Err(e) => return Err(e),
        }
    }
    // Still racing after every attempt *(ours)*: the message stays, without its run.
    Ok(None)
}

pub async fn fetch_message(
    core: &Core,
    principal: &Principal,
    scope: Scope<'_>,
    conversation: &str,
    sid: &ConversationMessageSid,
) -> Result<(Conversation, Message)> {
    let (conversation, message) = find_message(core, principal, scope, conversation, sid).await?;
    let message = with_delivery_one(core, message).await?;
    Ok((conversation, message))
}

/// The conversation's message `sid` without its `delivery` (left `None`): for its receipts,
/// which read their own 2010 Messages.
pub(super) async fn find_message(
    core: &Core,
    principal: &Principal,
    scope: Scope<'_>,
    conversation: &str,
    sid: &ConversationMessageSid,
) -> Result<(Conversation, Message)> {
    let (_, conversation) = find(core, principal, scope, conversation).await?;
    let row = core
        .store
        .fetch_message(conversation.sid.as_str(), sid.as_str())
        .await?
        .ok_or(Error::NotFound)?;
    Ok((conversation, Message::try_from(row)?))
}

/// `Order`: `asc` (default) or `desc`.
pub fn ascending(order: Option<&str>) -> Result<bool> {
    match order {
        None | Some("asc") => Ok(true),
        Some("desc") => Ok(false),
        Some(_) => Err(Error::invalid(
            "Invalid parameter Order: must be asc or desc",
        )),
    }
}

pub async fn list_conversation_messages(
    core: &Core,
    principal: &Principal,
    scope: Scope<'_>,
    conversation: &str,
    ascending: bool,
    request: PageRequest,
) -> Result<(Conversation, Page<Message>)> {
    let (_, conversation) = find(core, principal, scope, conversation).await?;
    let rows = core
        .store
        .list_conversation_messages(conversation.sid.as_str(), ascending, request.keyset())
        .await?;
    let key = move |r: &MessageRow| {
        if ascending {
            r.message_index
        } else {
            MIRROR - r.message_index
        }
    };
    let mut page = Page::from_rows(request, rows, key).try_map(Message::try_from)?;
    page.items = with_delivery(core, std::mem::take(&mut page.items)).await?;
    Ok((conversation, page))
}

#[instrument(skip_all)]
pub async fn update_message(
    core: &Core,
    principal: &Principal,
    scope: Scope<'_>,
    conversation: &str,
    sid: &ConversationMessageSid,
    input: MessageInput,
    webhooks: bool,
) -> Result<(Conversation, Message)> {
    let (_, conversation) = find(core, principal, scope, conversation).await?;
    check_common(&input)?;
    let change = MessageChange {
        author: input.author,
        body: input.body,
        attributes: input.attributes,
        subject: input.subject,
        date_created: parse_date(input.date_created.as_deref(), "DateCreated")?,
        date_updated: parse_date(input.date_updated.as_deref(), "DateUpdated")?
            .unwrap_or_else(time::now),
    };
    let targets = targets_for(core, &conversation, MESSAGE_UPDATED.event, webhooks).await?;
    let fire = hook::<MessageRow, Message>(&MESSAGE_UPDATED, &targets);
    let stored = core
        .store
        .update_message(
            conversation.sid.as_str(),
            sid.as_str(),
            &change,
            fire,
            time::now_ms(),
        )
        .await?
        .ok_or(Error::NotFound)?;
    targets.wake(core);
    let message = with_delivery_one(core, Message::try_from(stored)?).await?;
    Ok((conversation, message))
}

#[instrument(skip_all)]
pub async fn delete_conversation_message(
    core: &Core,
    principal: &Principal,
    scope: Scope<'_>,
    conversation: &str,
    sid: &ConversationMessageSid,
    webhooks: bool,
) -> Result<()> {
    let (_, conversation) = find(core, principal, scope, conversation).await?;
    let targets = targets_for(core, &conversation, MESSAGE_REMOVED.event, webhooks).await?;
    let fire = hook::<MessageRow, Message>(&MESSAGE_REMOVED, &targets);
    let deleted = core
        .store
        .delete_conversation_message(
            conversation.sid.as_str(),
            sid.as_str(),
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
