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

use super::webhooks::{AccountWebhook, SERVICE_FILTERS, ServiceWebhook};
use crate::{
    domain::{
        Core,
        sid::{AccountSid, ServiceSid},
        webhooks::{Declaration, Event, Subject, Target, Targets},
    },
    error::{Error, Result},
    store::{
        StoreError, StoreResult,
        conversations::{Fire, ScopedWebhookRow},
        webhooks::{AccountWebhookRow, NewDelivery, ServiceWebhookRow},
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
    if !requested {
        return Ok(Targets::default());
    }
    let name = event.name();
    let subscribed = |filters: &[String]| filters.contains(&name);
    let mut out = Vec::new();
    let service_target = match core
        .store
        .sole::<ServiceWebhookRow>(service.as_str())
        .await?
    {
        Some(row) => Some(ServiceWebhook::try_from(row)?),
        None => None,
    };
    let overridden = SERVICE_FILTERS.contains(&name.as_str())
        && service_target
            .as_ref()
            .is_some_and(|t| t.post_webhook_url.is_some());
    if !overridden
        && let Some(row) = core
            .store
            .sole::<AccountWebhookRow>(account.as_str())
            .await?
    {
        let account_target = AccountWebhook::try_from(row)?;
        if account_target.target == "webhook"
            && subscribed(&account_target.filters)
            && let Some(url) = account_target.post_webhook_url
        {
            out.push(Target {
                url,
                method: account_target.method,
            });
        }
    }
    if let Some(service_target) = service_target
        && subscribed(&service_target.filters)
        && let Some(url) = service_target.post_webhook_url
    {
        out.push(Target {
            url,
            method: service_target.method,
        });
    }
    Ok(Targets(out))
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
    let mut out = targets(core, account, service, event, requested).await?;
    if !requested {
        return Ok(out);
    }
    let name = event.name();
    for hook in core.store.scoped_webhooks(conversation).await? {
        let ScopedWebhookRow {
            target,
            url,
            method,
            filters,
            triggers,
            ..
        } = hook;
        let (Some(url), Some(method)) = (url, method) else {
            continue;
        };
        let takes = match target.as_str() {
            "webhook" => crate::domain::stored_json::<Vec<String>>(&filters, "webhook filters")?
                .contains(&name),
            "trigger" => {
                name == "onMessageAdded"
                    && triggered(
                        body.unwrap_or_default(),
                        &crate::domain::stored_json::<Vec<String>>(&triggers, "webhook triggers")?,
                    )
            }
            _ => false,
        };
        if takes {
            out.0.push(Target {
                url,
                method: method.to_ascii_uppercase(),
            });
        }
    }
    Ok(out)
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
