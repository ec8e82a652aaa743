//! Conversation-scoped webhooks (`…/Conversations/{CH}/Webhooks`; CSW, conversations-core.md
//! §5): at most five per conversation (50361), post-event only.
//!
//! - `webhook`: `Configuration.Url` (required, ≤ 512 characters: 50372) and `Method`
//!   (`get`/`post`, default `post`), `Configuration.Filters` (the post-event names).
//! - `trigger`: a URL and `Configuration.Triggers` (1–5 keywords: 50371 none, 50362 more than
//!   five, 50366 an empty one or over 248 characters), sent `onMessageAdded` when a message
//!   body holds a keyword; `configuration.filters` echoes the keywords (spec example).
//! - `studio`: `Configuration.FlowSid` (`FW…`, 50367), stored and echoed; executions start
//!   once the Studio executions work lands (issue 19).

use super::{
    conversations::{Conversation, find},
    scope::Scope,
};
use crate::{
    domain::{
        Core,
        auth::Principal,
        paging::{Page, PageRequest},
        read_back,
        sid::{AccountSid, ConversationSid, ScopedWebhookSid, ServiceSid, matches_pattern},
        time,
    },
    error::{Error, Result},
    store::conversations::{ScopedWebhookRefused, ScopedWebhookRow},
};

pub const TOO_MANY_WEBHOOKS: u32 = 50361;
pub const TOO_MANY_TRIGGERS: u32 = 50362;
pub const BAD_TRIGGER: u32 = 50366;
pub const BAD_FLOW_SID: u32 = 50367;
pub const TRIGGERS_MISSING: u32 = 50371;
pub const URL_TOO_LONG: u32 = 50372;

/// `conversations.v1.conversation.conversation_scoped_webhook`.
#[derive(Debug, Clone, PartialEq)]
pub struct ScopedWebhook {
    pub sid: ScopedWebhookSid,
    pub account_sid: AccountSid,
    pub service_sid: ServiceSid,
    pub conversation_sid: ConversationSid,
    pub target: String,
    pub url: Option<String>,
    pub method: Option<String>,
    pub filters: Vec<String>,
    pub triggers: Vec<String>,
    pub flow_sid: Option<String>,
    pub replay_after: Option<i64>,
    pub date_created: i64,
    pub date_updated: i64,
}

read_back!(|row: ScopedWebhookRow| -> ScopedWebhook {
    parsed: sid, account_sid, service_sid, conversation_sid;
    json: filters, triggers;
    copied: target, url, method, flow_sid, replay_after, date_created, date_updated;
});

#[derive(Debug, Default, Clone)]
pub struct ScopedWebhookInput {
    pub target: Option<String>,
    pub url: Option<String>,
    pub method: Option<String>,
    pub filters: Vec<String>,
    pub triggers: Vec<String>,
    pub flow_sid: Option<String>,
    pub replay_after: Option<String>,
}

const FILTERS: &[&str] = &[
    "onMessageAdded",
    "onMessageUpdated",
    "onMessageRemoved",
    "onConversationUpdated",
    "onConversationRemoved",
    "onConversationStateUpdated",
    "onParticipantAdded",
    "onParticipantUpdated",
    "onParticipantRemoved",
    "onDeliveryUpdated",
];

const MAX_URL_CHARS: usize = 512;

fn check_url(url: &str) -> Result<String> {
    if url.chars().count() > MAX_URL_CHARS {
        return Err(Error::invalid_code(
            URL_TOO_LONG,
            "Configuration.Url is longer than 512 characters",
        ));
    }
    let parsed = reqwest::Url::parse(url).ok().filter(|u| {
        matches!(u.scheme(), "http" | "https") && u.host_str().is_some_and(|h| !h.is_empty())
    });
    parsed.map(String::from).ok_or_else(|| {
        Error::invalid("Invalid parameter Configuration.Url: must be an absolute http or https URL")
    })
}

fn check_method(method: Option<&str>, current: Option<&str>) -> Result<String> {
    match method.map(str::to_ascii_lowercase).as_deref() {
        None => Ok(current.unwrap_or("post").to_owned()),
        Some(m @ ("get" | "post")) => Ok(m.to_owned()),
        Some(_) => Err(Error::invalid(
            "Invalid parameter Configuration.Method: must be GET or POST",
        )),
    }
}

fn check_triggers(triggers: &[String]) -> Result<()> {
    if triggers.is_empty() {
        return Err(Error::invalid_code(
            TRIGGERS_MISSING,
            "Configuration.Triggers is required for target trigger",
        ));
    }
    if triggers.len() > 5 {
        return Err(Error::invalid_code(
            TOO_MANY_TRIGGERS,
            "At most 5 trigger keywords",
        ));
    }
    if triggers
        .iter()
        .any(|t| t.trim().is_empty() || t.chars().count() > 248)
    {
        return Err(Error::invalid_code(
            BAD_TRIGGER,
            "Trigger keywords must be 1 to 248 characters",
        ));
    }
    Ok(())
}

/// The configuration columns after `input` over `current` (create: an empty row).
fn configure(row: &mut ScopedWebhookRow, input: ScopedWebhookInput) -> Result<()> {
    match row.target.as_str() {
        "webhook" | "trigger" => {
            let url = match input.url.as_deref() {
                Some(url) => Some(check_url(url)?),
                None => row.url.clone(),
            };
            row.url = Some(url.ok_or_else(|| Error::missing("Configuration.Url"))?);
            row.method = Some(check_method(
                input.method.as_deref(),
                row.method.as_deref(),
            )?);
            if row.target == "webhook" {
                if !input.filters.is_empty() {
                    row.filters = super::scope::distinct_members(input.filters, FILTERS, |f| {
                        format!(
                            "Invalid parameter Configuration.Filters: '{f}' is not a conversation event"
                        )
                    })?;
                }
            } else if !input.triggers.is_empty() || row.triggers == "[]" {
                check_triggers(&input.triggers)?;
                row.triggers = serde_json::Value::from(input.triggers).to_string();
            }
        }
        _ => {
            if let Some(flow) = input.flow_sid.as_deref() {
                if !matches_pattern(flow, "FW") {
                    return Err(Error::invalid_code(
                        BAD_FLOW_SID,
                        "Invalid Configuration.FlowSid",
                    ));
                }
                row.flow_sid = Some(flow.to_owned());
            }
            if row.flow_sid.is_none() {
                return Err(Error::invalid_code(
                    BAD_FLOW_SID,
                    "Configuration.FlowSid is required for target studio",
                ));
            }
        }
    }
    Ok(())
}

pub async fn create_webhook(
    core: &Core,
    principal: &Principal,
    scope: Scope<'_>,
    conversation: &str,
    mut input: ScopedWebhookInput,
) -> Result<(Conversation, ScopedWebhook)> {
    let (_, conversation) = find(core, principal, scope, conversation).await?;
    let target = crate::domain::required(input.target.take(), "Target")?;
    if !matches!(target.as_str(), "webhook" | "trigger" | "studio") {
        return Err(Error::invalid(
            "Invalid parameter Target: must be webhook, trigger or studio",
        ));
    }
    let replay_after = input
        .replay_after
        .as_deref()
        .map(|v| {
            v.parse::<i64>().ok().filter(|i| *i >= 0).ok_or_else(|| {
                Error::invalid("Invalid parameter Configuration.ReplayAfter: must be an integer")
            })
        })
        .transpose()?;
    let now = time::now();
    let mut row = ScopedWebhookRow {
        seq: 0,
        sid: ScopedWebhookSid::new().to_string(),
        conversation_sid: conversation.sid.to_string(),
        service_sid: conversation.service_sid.to_string(),
        account_sid: conversation.account_sid.to_string(),
        target,
        url: None,
        method: None,
        filters: "[]".into(),
        triggers: "[]".into(),
        flow_sid: None,
        replay_after,
        date_created: now,
        date_updated: now,
    };
    configure(&mut row, input)?;
    let stored =
        core.store
            .insert_scoped_webhook(&row)
            .await?
            .map_err(|refused| match refused {
                ScopedWebhookRefused::Missing => Error::NotFound,
                ScopedWebhookRefused::TooMany => Error::invalid_code(
                    TOO_MANY_WEBHOOKS,
                    "A conversation can have at most 5 webhooks",
                ),
            })?;
    Ok((conversation, ScopedWebhook::try_from(stored)?))
}

async fn find_webhook(
    core: &Core,
    conversation: &Conversation,
    sid: &ScopedWebhookSid,
) -> Result<ScopedWebhookRow> {
    core.store
        .fetch_owned::<ScopedWebhookRow>(conversation.sid.as_str(), sid.as_str())
        .await?
        .ok_or(Error::NotFound)
}

pub async fn fetch_webhook(
    core: &Core,
    principal: &Principal,
    scope: Scope<'_>,
    conversation: &str,
    sid: &ScopedWebhookSid,
) -> Result<(Conversation, ScopedWebhook)> {
    let (_, conversation) = find(core, principal, scope, conversation).await?;
    let row = find_webhook(core, &conversation, sid).await?;
    Ok((conversation, ScopedWebhook::try_from(row)?))
}

pub async fn list_webhooks(
    core: &Core,
    principal: &Principal,
    scope: Scope<'_>,
    conversation: &str,
    request: PageRequest,
) -> Result<(Conversation, Page<ScopedWebhook>)> {
    let (_, conversation) = find(core, principal, scope, conversation).await?;
    let rows = core
        .store
        .list_owned::<ScopedWebhookRow>(conversation.sid.as_str(), request.keyset())
        .await?;
    let page = Page::from_rows(request, rows, |r| r.seq).try_map(ScopedWebhook::try_from)?;
    Ok((conversation, page))
}

pub async fn update_webhook(
    core: &Core,
    principal: &Principal,
    scope: Scope<'_>,
    conversation: &str,
    sid: &ScopedWebhookSid,
    input: ScopedWebhookInput,
) -> Result<(Conversation, ScopedWebhook)> {
    let (_, conversation) = find(core, principal, scope, conversation).await?;
    let mut row = find_webhook(core, &conversation, sid).await?;
    configure(&mut row, input)?;
    row.date_updated = time::now();
    let stored = core
        .store
        .update_scoped_webhook(&row)
        .await?
        .ok_or(Error::NotFound)?;
    Ok((conversation, ScopedWebhook::try_from(stored)?))
}

pub async fn delete_webhook(
    core: &Core,
    principal: &Principal,
    scope: Scope<'_>,
    conversation: &str,
    sid: &ScopedWebhookSid,
) -> Result<()> {
    let (_, conversation) = find(core, principal, scope, conversation).await?;
    crate::domain::delete_owned::<ScopedWebhookRow>(core, conversation.sid.as_str(), sid.as_str())
        .await
}
