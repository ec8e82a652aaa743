//! Which post-event targets an event reaches (conversations-webhook-events.md,
//! conversations-core.md §5), and the hooks writes call to queue deliveries in their own
//! transaction. Each resource declares its own events (`users::USER_ADDED`,
//! `conversations::CONVERSATION_ADDED` …) with `domain::webhooks::Declaration`.
//!
//! - Nothing is sent unless the request asked for it (`X-Twilio-Webhook-Enabled: true`).
//! - A service whose own target has a post-event URL replaces the account's target for the
//!   events a service target can subscribe to ("service-scoped webhooks will override your
//!   global webhook settings such that only the service-scoped hooks will fire", PSW); user
//!   events, which a service target cannot name, still reach the account's.
//! - Each target gets the event when its `Filters` name it.
//! - Conversation-scoped webhooks (`conversations::scoped_webhooks`) of the conversation are
//!   added: `webhook` targets by their filters, `trigger` targets for `onMessageAdded` when the
//!   body holds one of their keywords; `studio` targets are stored only (issue 19 starts Studio
//!   executions from them).

use super::webhooks::SERVICE_FILTERS;
use crate::{
    domain::{
        Core,
        sid::{AccountSid, FlowSid, ServiceSid},
        webhooks::{Declaration, Event, Subject, Target, Targets},
    },
    error::{Error, Result},
    store::{
        StoreError, StoreResult,
        conversations::{
            Fire, HookRow,
            scoped_webhooks::{ACCOUNT_LEVEL, CONVERSATION_LEVEL, SERVICE_LEVEL},
        },
        webhooks::NewDelivery,
    },
};

/// The post-event targets of `event` in `service`, or none when the request did not ask for
/// webhooks (`requested`: the `X-Twilio-Webhook-Enabled` header).
pub async fn targets(
    core: &Core,
    account: &AccountSid,
    service: &ServiceSid,
    event: Event,
    requested: bool,
) -> Result<Targets> {
    Hooks::read(core, account, service, None, requested)
        .await?
        .targets(event, None)
}

/// Whether a message body holds one of a trigger webhook's keywords *(ours: Twilio does not
/// document the match)*: a whole word of the body equal to a keyword, ignoring case.
pub fn triggered(body: &str, keywords: &[String]) -> bool {
    body.split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .any(|word| keywords.iter().any(|k| k.eq_ignore_ascii_case(word)))
}

/// `targets` plus the conversation's own webhooks that take `event` (see the module docs);
/// `body` is the message body of a message event.
pub async fn conversation_targets(
    core: &Core,
    account: &AccountSid,
    service: &ServiceSid,
    conversation: &str,
    event: Event,
    requested: bool,
    body: Option<&str>,
) -> Result<Targets> {
    Hooks::read(core, account, service, Some(conversation), requested)
        .await?
        .targets(event, body)
}

/// The webhooks a request's events may reach — the account's target, the service's, and the
/// conversation's own — read once per request in one query, however many events it fires (a
/// message that reactivates its conversation fires three); none when the request did not ask
/// for webhooks.
#[derive(Debug, Default)]
pub struct Hooks(Vec<HookRow>);

impl Hooks {
    /// The webhooks of `conversation` in `service` (`None`: the service's events alone).
    pub async fn read(
        core: &Core,
        account: &AccountSid,
        service: &ServiceSid,
        conversation: Option<&str>,
        requested: bool,
    ) -> Result<Self> {
        if !requested {
            return Ok(Self::default());
        }
        let rows = core
            .store
            .conversation_hooks(account.as_str(), service.as_str(), conversation)
            .await?;
        Ok(Self(rows))
    }

    /// The targets of `event` (`body`: a message event's body, for the trigger keywords).
    pub fn targets(&self, event: Event, body: Option<&str>) -> Result<Targets> {
        let name = event.name();
        let subscribed = |hook: &HookRow| -> Result<bool> {
            Ok(
                crate::domain::stored_json::<Vec<String>>(&hook.filters, "webhook filters")?
                    .contains(&name),
            )
        };
        let overridden = SERVICE_FILTERS.contains(&name.as_str())
            && self
                .0
                .iter()
                .any(|hook| hook.level == SERVICE_LEVEL && hook.url.is_some());
        let mut out = Vec::new();
        for hook in &self.0 {
            let (Some(url), Some(method)) = (&hook.url, &hook.method) else {
                continue;
            };
            let takes = match hook.level {
                ACCOUNT_LEVEL => !overridden && hook.target == "webhook" && subscribed(hook)?,
                SERVICE_LEVEL => subscribed(hook)?,
                _ => match hook.target.as_str() {
                    "webhook" => subscribed(hook)?,
                    "trigger" => {
                        name == "onMessageAdded"
                            && triggered(
                                body.unwrap_or_default(),
                                &crate::domain::stored_json::<Vec<String>>(
                                    &hook.triggers,
                                    "webhook triggers",
                                )?,
                            )
                    }
                    _ => false,
                },
            };
            if takes {
                out.push(Target {
                    url: url.clone(),
                    // A scoped webhook stores its method lower-case, as its resource shows it.
                    method: if hook.level == CONVERSATION_LEVEL {
                        method.to_ascii_uppercase()
                    } else {
                        method.clone()
                    },
                });
            }
        }
        Ok(Targets(out))
    }

    /// The flows of the conversation's `studio` webhooks, in the order they were added.
    pub fn studio_flows(&self) -> Vec<FlowSid> {
        self.0
            .iter()
            .filter(|hook| hook.level == CONVERSATION_LEVEL && hook.target == "studio")
            .filter_map(|hook| hook.flow_sid.as_deref().and_then(FlowSid::parse))
            .collect()
    }
}

/// A domain failure inside a store transaction (a stored row that does not read back): the
/// write fails (500), nothing of it is kept.
pub fn in_store(e: Error) -> StoreError {
    StoreError::Db(sqlx::Error::Decode(e.into()))
}

/// The deliveries of `event` about `subject` to `targets`, for a store hook.
pub fn deliveries<T: Subject>(
    event: &'static Declaration<T>,
    targets: &Targets,
    subject: &T,
) -> StoreResult<Vec<NewDelivery>> {
    if targets.is_empty() {
        return Ok(Vec::new());
    }
    event.deliveries(targets, subject).map_err(in_store)
}

/// The store hook of a write that fires `event` about the one row it stores (or deletes) to
/// `targets`: the row read back as its domain value, one delivery per target.
pub fn hook<R, T>(event: &'static Declaration<T>, targets: &Targets) -> Fire<R>
where
    R: Clone + 'static,
    T: TryFrom<R, Error = Error> + Subject + 'static,
{
    let queued = targets.clone();
    std::sync::Arc::new(move |row: &R| deliveries(event, &queued, &read::<R, T>(row)?))
}

/// A stored row read back as its domain value inside a store hook.
pub fn read<R: Clone, T: TryFrom<R, Error = Error>>(row: &R) -> StoreResult<T> {
    T::try_from(row.clone()).map_err(in_store)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trigger_keywords_match_whole_words_ignoring_case() {
        let keywords = vec!["help".to_owned(), "STOP".to_owned()];
        assert!(triggered("I need HELP now", &keywords));
        assert!(triggered("stop.", &keywords));
        assert!(!triggered("helpful", &keywords));
        assert!(!triggered("", &keywords));
    }
}
