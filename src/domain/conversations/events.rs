//! Which Conversations targets a post-event reaches. A REST request fires webhooks only with
//! `X-Twilio-Webhook-Enabled: true`, and only **post-event** ones, as Twilio documents for
//! REST-originated actions; pre-event URLs are stored and shown, never called. An event reaches
//! the account-level target (when `Target=webhook`) and its service's target, each when its
//! `Filters` name the event. Each resource declares its own events (`users::USER_ADDED` …) with
//! `domain::webhooks::Declaration`.

use super::webhooks::{AccountWebhook, ServiceWebhook};
use crate::{
    domain::{
        Core,
        sid::{AccountSid, ServiceSid},
        webhooks::{Event, Target, Targets},
    },
    error::Result,
    store::webhooks::{AccountWebhookRow, ServiceWebhookRow},
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
    if let Some(row) = core
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
    if let Some(row) = core
        .store
        .sole::<ServiceWebhookRow>(service.as_str())
        .await?
    {
        let service_target = ServiceWebhook::try_from(row)?;
        if subscribed(&service_target.filters)
            && let Some(url) = service_target.post_webhook_url
        {
            out.push(Target {
                url,
                method: service_target.method,
            });
        }
    }
    Ok(Targets(out))
}
