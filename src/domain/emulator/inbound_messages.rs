//! `POST /_localtwilio/InboundMessages`: the operator plays the contact's phone. The message is
//! recorded as a 2010 Message (`direction=inbound`, `received`) and routed the way Twilio
//! routes an inbound SMS to one of the account's numbers, first match wins:
//!
//! 1. an execution of that contact (`From`) waiting in send-and-wait-for-reply on that number
//!    (`To`) resumes with `incomingMessage` (`widgets.NAME.inbound.Body` …); Studio keeps one
//!    active execution per contact and number, so at most one such execution exists per flow;
//!    across flows the most recent one takes it *(ours)*;
//! 2. a conversation with an open SMS binding `From` (address) + `To` (proxy address) gets a
//!    message authored by the address (post-event webhooks with `Source=SMS`, sent without
//!    `X-Twilio-Webhook-Enabled`, as Twilio does for non-REST sources);
//! 3. a number the operator attached to a flow (`numbers`) starts an execution with trigger
//!    event `incomingMessage` (contact = `From`, `flow.channel.address` = `To`,
//!    `trigger.message.{Body,From,To,MessageSid,…}`); when the contact already has an active
//!    execution of that flow that does not wait for a reply, or the flow has no revision the
//!    contact may run, the message is only recorded *(ours: Twilio drops it likewise)*;
//! 4. otherwise it is only recorded.
//!
//! The message is written in the same transaction as what it causes (the resumed run, the
//! conversation message, the new execution), so a 2xx means both are durable. Two replies
//! racing for one wait: the wait resumes once (its write is guarded by the execution's run count);
//! the other reply is routed again, from rule 1.

use serde_json::{Map, Value, json};
use tracing::instrument;

use super::super::{
    conversations::messages as conversation_messages,
    studio::executions::{self, NewExecution, Ran, Trigger},
};
use crate::{
    domain::{
        Core,
        auth::Principal,
        messages::{self, Direction, Message, NewMessageInput, Outcome},
        sid::{AccountSid, FlowSid},
        time,
    },
    error::{Error, Result},
    store::messages::NewMessage,
};

/// What the operator sends.
pub struct InboundInput {
    pub from: Option<String>,
    pub to: Option<String>,
    pub body: Option<String>,
    pub media_urls: Vec<String>,
}

/// Where an inbound message went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Routed {
    /// A waiting execution resumed (rule 1), or an attached number's flow started one (rule 3).
    Execution {
        flow_sid: String,
        execution_sid: String,
        resumed: bool,
    },
    /// A conversation message (rule 2).
    Conversation {
        conversation_sid: String,
        message_sid: String,
    },
    /// Recorded only (rule 4, or rule 3 refused).
    Recorded,
}

/// The recorded message and where it went.
pub struct Received {
    pub message: Message,
    pub routed: Routed,
}

/// Races lost before the message is routed past rule 1 *(ours: each loss means another reply
/// resumed the wait first, so the next look sees where the execution is now)*.
const RESUME_ATTEMPTS: usize = 3;

/// The reply as a send-and-wait-for-reply's `inbound` and a trigger's `message` show it (the
/// parameters of Twilio's incoming-message webhook, PascalCase).
fn inbound_fields(message: &NewMessage) -> Value {
    let row = &message.row;
    let mut fields = json!({
        "AccountSid": row.account_sid,
        "Body": row.body,
        "From": row.from_address,
        "MessageSid": row.sid,
        "NumMedia": row.num_media.to_string(),
        "NumSegments": row.num_segments.to_string(),
        "SmsMessageSid": row.sid,
        "SmsSid": row.sid,
        "SmsStatus": "received",
        "To": row.to_address,
        "ApiVersion": "2010-04-01",
    });
    for (n, media) in message.media.iter().enumerate() {
        fields[format!("MediaUrl{n}")] = json!(media.url);
        fields[format!("MediaContentType{n}")] = json!(media.content_type);
    }
    fields
}

#[instrument(skip_all)]
pub async fn receive(core: &Core, principal: &Principal, input: InboundInput) -> Result<Received> {
    let from = input.from.filter(|f| !f.trim().is_empty());
    let to = input.to.filter(|t| !t.trim().is_empty());
    let from = from.ok_or_else(|| Error::missing("From"))?;
    let to = to.ok_or_else(|| Error::missing("To"))?;
    let now_ms = time::now_ms();
    let prepared = messages::prepare(
        NewMessageInput {
            account_sid: principal.account_sid.clone(),
            direction: Direction::Inbound,
            to,
            from: Some(from),
            messaging_service_sid: None,
            body: input.body,
            media_urls: input.media_urls,
            status_callback: None,
            schedule_type: None,
            send_at: None,
            outcome: Outcome::Delivered,
        },
        now_ms,
    )?;
    let message = Message::at(prepared.row.clone(), now_ms)?;
    let routed = route(core, principal, &prepared).await?;
    Ok(Received { message, routed })
}

async fn route(core: &Core, principal: &Principal, prepared: &NewMessage) -> Result<Routed> {
    let account = principal.account_sid.as_str();
    let from = prepared.row.from_address.clone().unwrap_or_default();
    let to = prepared.row.to_address.clone();
    let fields = inbound_fields(prepared);
    // 1. A waiting execution of the contact on this number.
    for _ in 0..RESUME_ATTEMPTS {
        let Some(row) = core.store.waiting_execution(account, &from, &to).await? else {
            break;
        };
        let flow_sid = row.flow_sid.clone();
        let resumed = executions::resume(
            core,
            row,
            "incomingMessage",
            Some(("inbound".to_owned(), fields.clone())),
            vec![prepared.clone()],
        )
        .await?;
        if let Some(ran) = resumed {
            let execution_sid = ran.execution.sid.to_string();
            post_flow_messages(core, ran).await;
            return Ok(Routed::Execution {
                flow_sid,
                execution_sid,
                resumed: true,
            });
        }
    }
    // 2. A conversation with this SMS binding.
    if let Some(conversation_sid) = core.store.open_binding(account, &from, &to).await? {
        let posted = conversation_messages::post_from_channel(
            core,
            principal,
            &conversation_sid,
            &from,
            &prepared.row.body,
            prepared.clone(),
        )
        .await?;
        if let Some(message) = posted {
            return Ok(Routed::Conversation {
                conversation_sid,
                message_sid: message.sid.to_string(),
            });
        }
    }
    // 3. A number attached to a flow.
    if let Some(number) = core.store.fetch_number(account, &to).await?
        && let Some(flow_sid) = FlowSid::parse(&number.flow_sid)
    {
        let started = executions::start(
            core,
            principal,
            &flow_sid,
            NewExecution {
                to: from.clone(),
                from: to.clone(),
                parameters: Map::new(),
            },
            Trigger {
                event: "incomingMessage",
                context: Some(json!({ "message": fields })),
                contact: None,
                conversation_sid: None,
                recorded: vec![prepared.clone()],
            },
        )
        .await;
        match started {
            Ok(ran) => {
                let execution_sid = ran.execution.sid.to_string();
                return Ok(Routed::Execution {
                    flow_sid: flow_sid.to_string(),
                    execution_sid,
                    resumed: false,
                });
            }
            // Busy with another execution, or nothing the contact may run: recorded only.
            Err(Error::Conflict { .. } | Error::NotFound | Error::Invalid { .. }) => {}
            Err(other) => return Err(other),
        }
    }
    // 4. Recorded only.
    core.store
        .insert_message(prepared.clone(), time::now_ms())
        .await?;
    Ok(Routed::Recorded)
}

/// Posts what a run said into its conversation (an execution a `studio` webhook started).
/// Failures are logged: the run itself is saved.
pub async fn post_flow_messages(core: &Core, ran: Ran) {
    let Some(conversation) = ran.execution.conversation_sid.clone() else {
        return;
    };
    post_bodies(
        core,
        &ran.execution.account_sid,
        &conversation,
        ran.conversation_posts,
    )
    .await;
}

async fn post_bodies(core: &Core, account: &AccountSid, conversation: &str, bodies: Vec<String>) {
    for body in bodies {
        if let Err(e) =
            conversation_messages::post_as_flow(core, account, conversation, &body).await
        {
            tracing::warn!(conversation, error = %e, "a flow's message could not be posted into its conversation");
        }
    }
}

/// `engine::ConversationPoster`, registered at start: the timeouts worker's runs post through
/// it (Studio does not import Conversations).
pub fn conversation_poster(
    core: Core,
    account: AccountSid,
    conversation: String,
    bodies: Vec<String>,
) {
    tokio::spawn(async move { post_bodies(&core, &account, &conversation, bodies).await });
}

/// What the inbound answer calls the route.
impl Routed {
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Execution { resumed: true, .. } => "execution-resumed",
            Self::Execution { resumed: false, .. } => "execution-started",
            Self::Conversation { .. } => "conversation",
            Self::Recorded => "recorded",
        }
    }
}
