//! Conversations webhooks (facts: ../shared/reference/conversations-webhook-events.md and
//! webhook-signature.md; decisions: DESIGN.md "Conversations").
//!
//! - Targets: account level (`/v1/Configuration/Webhooks`, every service of the account) and
//!   service level (`/v1/Services/{IS}/Configuration/Webhooks`, its own service).
//! - A REST request fires webhooks only with `X-Twilio-Webhook-Enabled: true`, and only
//!   **post-event** ones, as Twilio documents for REST-originated actions: `onUserAdded` after a
//!   create, `onUserUpdated` after an update. Pre-event URLs are stored and shown, never called.
//! - The request is queued in the same transaction as the change (store) and sent after commit
//!   by `crate::delivery`, signed as Twilio signs (`signature`).

use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::Value;
use sha1::Sha1;

use super::{
    Core,
    auth::Principal,
    conversations::{Scope, resolve},
    time,
};
use crate::{
    error::{Error, Result},
    store::{
        conversations::UserRow,
        webhooks::{AccountWebhookRow, NewDelivery, ServiceWebhookRow},
    },
};

/// The account-level `Filters` values (spec, `configuration_webhook.filters`).
pub const ACCOUNT_FILTERS: &[&str] = &[
    "onMessageAdded",
    "onMessageUpdated",
    "onMessageRemoved",
    "onMessageAdd",
    "onMessageUpdate",
    "onMessageRemove",
    "onConversationUpdated",
    "onConversationRemoved",
    "onConversationAdd",
    "onConversationAdded",
    "onConversationRemove",
    "onConversationUpdate",
    "onConversationStateUpdated",
    "onParticipantAdded",
    "onParticipantUpdated",
    "onParticipantRemoved",
    "onParticipantAdd",
    "onParticipantRemove",
    "onParticipantUpdate",
    "onDeliveryUpdated",
    "onUserAdded",
    "onUserUpdate",
    "onUserUpdated",
];

/// The service-level `Filters` values (spec, `service_webhook_configuration.filters`). They do
/// not include the user events, so user events reach account-level targets only.
pub const SERVICE_FILTERS: &[&str] = &[
    "onParticipantAdd",
    "onParticipantAdded",
    "onDeliveryUpdated",
    "onConversationUpdated",
    "onConversationRemove",
    "onParticipantRemove",
    "onConversationUpdate",
    "onMessageAdd",
    "onMessageRemoved",
    "onParticipantUpdated",
    "onConversationAdded",
    "onMessageAdded",
    "onConversationAdd",
    "onConversationRemoved",
    "onParticipantUpdate",
    "onMessageRemove",
    "onMessageUpdated",
    "onParticipantRemoved",
    "onMessageUpdate",
    "onConversationStateUpdated",
];

/// What the webhook configuration endpoints accept; `None` leaves a field as it is.
#[derive(Debug, Default)]
pub struct WebhookInput {
    pub method: Option<String>,
    pub filters: Vec<String>,
    pub pre_webhook_url: Option<String>,
    pub post_webhook_url: Option<String>,
    pub target: Option<String>,
}

fn check_method(method: &str) -> Result<String> {
    match method.to_ascii_uppercase().as_str() {
        m @ ("GET" | "POST") => Ok(m.to_owned()),
        _ => Err(Error::invalid(
            "Invalid parameter Method: must be GET or POST",
        )),
    }
}

/// An absolute http/https URL; an empty value clears the URL *(ours)*.
fn check_url(value: Option<String>, name: &str, current: Option<String>) -> Result<Option<String>> {
    match value {
        None => Ok(current),
        Some(v) if v.is_empty() => Ok(None),
        // *(ours)*: no documented limit; long enough for any real endpoint.
        Some(v) if v.len() > 2048 => Err(Error::invalid(format!(
            "Invalid parameter {name}: must be at most 2048 characters"
        ))),
        Some(v) => {
            let ok = reqwest::Url::parse(&v).ok().is_some_and(|u| {
                matches!(u.scheme(), "http" | "https")
                    && u.host_str().is_some_and(|h| !h.is_empty())
            });
            if ok {
                Ok(Some(v))
            } else {
                Err(Error::invalid(format!(
                    "Invalid parameter {name}: must be an absolute http or https URL"
                )))
            }
        }
    }
}

/// `Filters` given replace the list; each must be one of `allowed`.
fn check_filters(filters: Vec<String>, allowed: &[&str], current: &str) -> Result<String> {
    if filters.is_empty() {
        return Ok(current.to_owned());
    }
    let mut kept: Vec<String> = Vec::new();
    for f in filters {
        if !allowed.contains(&f.as_str()) {
            return Err(Error::invalid(format!(
                "Invalid parameter Filters: '{f}' is not a webhook event of this resource"
            )));
        }
        if !kept.contains(&f) {
            kept.push(f);
        }
    }
    Ok(Value::from(kept).to_string())
}

/// The fields both target resources have.
struct Shared {
    method: String,
    filters: String,
    pre_webhook_url: Option<String>,
    post_webhook_url: Option<String>,
}

impl Shared {
    /// `input` over the current values, each checked; `allowed` is the resource's filter list.
    fn merge(self, input: WebhookInput, allowed: &[&str]) -> Result<Self> {
        Ok(Self {
            method: input
                .method
                .as_deref()
                .map(check_method)
                .transpose()?
                .unwrap_or(self.method),
            filters: check_filters(input.filters, allowed, &self.filters)?,
            pre_webhook_url: check_url(
                input.pre_webhook_url,
                "PreWebhookUrl",
                self.pre_webhook_url,
            )?,
            post_webhook_url: check_url(
                input.post_webhook_url,
                "PostWebhookUrl",
                self.post_webhook_url,
            )?,
        })
    }
}

/// What an account's target reads as before anything was configured.
pub(crate) fn default_account_webhook(account: &str) -> AccountWebhookRow {
    AccountWebhookRow {
        account_sid: account.to_owned(),
        method: "POST".into(),
        filters: "[]".into(),
        pre_webhook_url: None,
        post_webhook_url: None,
        target: "webhook".into(),
    }
}

/// What a service's target reads as before anything was configured.
pub(crate) fn default_service_webhook(
    service: &crate::store::conversations::ServiceRow,
) -> ServiceWebhookRow {
    ServiceWebhookRow {
        service_sid: service.sid.clone(),
        account_sid: service.account_sid.clone(),
        method: "POST".into(),
        filters: "[]".into(),
        pre_webhook_url: None,
        post_webhook_url: None,
    }
}

pub async fn account_config(core: &Core, principal: &Principal) -> Result<AccountWebhookRow> {
    let account = principal.account_sid.as_str();
    Ok(core
        .store
        .account_webhook(account)
        .await?
        .unwrap_or_else(|| default_account_webhook(account)))
}

pub async fn update_account_config(
    core: &Core,
    principal: &Principal,
    input: WebhookInput,
) -> Result<AccountWebhookRow> {
    let current = account_config(core, principal).await?;
    let row = merge_account(current, input)?;
    core.store.save_account_webhook(&row).await?;
    Ok(row)
}

/// The account target after `input`, each field checked (API and fixtures).
pub(crate) fn merge_account(
    current: AccountWebhookRow,
    input: WebhookInput,
) -> Result<AccountWebhookRow> {
    let target = match input.target.as_deref() {
        None => current.target.clone(),
        Some(t @ ("webhook" | "flex")) => t.to_owned(),
        Some(_) => {
            return Err(Error::invalid(
                "Invalid parameter Target: must be webhook or flex",
            ));
        }
    };
    let shared = Shared {
        method: current.method,
        filters: current.filters,
        pre_webhook_url: current.pre_webhook_url,
        post_webhook_url: current.post_webhook_url,
    }
    .merge(input, ACCOUNT_FILTERS)?;
    Ok(AccountWebhookRow {
        method: shared.method,
        filters: shared.filters,
        pre_webhook_url: shared.pre_webhook_url,
        post_webhook_url: shared.post_webhook_url,
        target,
        account_sid: current.account_sid,
    })
}

pub async fn service_config(
    core: &Core,
    principal: &Principal,
    raw_sid: &str,
) -> Result<ServiceWebhookRow> {
    let service = resolve(core, principal, Scope::Service(raw_sid)).await?;
    Ok(core
        .store
        .service_webhook(&service.sid)
        .await?
        .unwrap_or_else(|| default_service_webhook(&service)))
}

pub async fn update_service_config(
    core: &Core,
    principal: &Principal,
    raw_sid: &str,
    input: WebhookInput,
) -> Result<ServiceWebhookRow> {
    let current = service_config(core, principal, raw_sid).await?;
    let row = merge_service(current, input)?;
    core.store.save_service_webhook(&row).await?;
    Ok(row)
}

/// The service target after `input`, each field checked (API and fixtures).
pub(crate) fn merge_service(
    current: ServiceWebhookRow,
    input: WebhookInput,
) -> Result<ServiceWebhookRow> {
    let shared = Shared {
        method: current.method,
        filters: current.filters,
        pre_webhook_url: current.pre_webhook_url,
        post_webhook_url: current.post_webhook_url,
    }
    .merge(input, SERVICE_FILTERS)?;
    Ok(ServiceWebhookRow {
        method: shared.method,
        filters: shared.filters,
        pre_webhook_url: shared.pre_webhook_url,
        post_webhook_url: shared.post_webhook_url,
        service_sid: current.service_sid,
        account_sid: current.account_sid,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserEvent {
    Added,
    Updated,
}

impl UserEvent {
    pub fn name(self) -> &'static str {
        match self {
            Self::Added => "onUserAdded",
            Self::Updated => "onUserUpdated",
        }
    }
}

/// Where an event goes: (url, method) of each post-event target whose filters include it.
/// Loaded before the write; the write's transaction then queues one delivery per target.
#[derive(Debug, Clone, Default)]
pub struct Targets(Vec<(String, String)>);

fn filters_include(filters: &str, event: &str) -> bool {
    serde_json::from_str::<Vec<String>>(filters).is_ok_and(|f| f.iter().any(|x| x == event))
}

pub async fn targets(
    core: &Core,
    account_sid: &str,
    service_sid: &str,
    event: UserEvent,
) -> Result<Targets> {
    let mut out = Vec::new();
    if let Some(a) = core.store.account_webhook(account_sid).await?
        && a.target == "webhook"
        && filters_include(&a.filters, event.name())
        && let Some(url) = a.post_webhook_url
    {
        out.push((url, a.method));
    }
    if let Some(s) = core.store.service_webhook(service_sid).await?
        && filters_include(&s.filters, event.name())
        && let Some(url) = s.post_webhook_url
    {
        out.push((url, s.method));
    }
    Ok(Targets(out))
}

/// The documented parameters of a user event (common: AccountSid, EventType, Source; then the
/// event's own). Null values are left out *(ours)*.
pub fn user_params(event: UserEvent, user: &UserRow) -> Vec<(String, String)> {
    let mut p: Vec<(&str, Option<String>)> = vec![
        ("AccountSid", Some(user.account_sid.clone())),
        ("EventType", Some(event.name().to_owned())),
        ("Source", Some("API".to_owned())),
        ("ChatServiceSid", Some(user.service_sid.clone())),
        ("UserSid", Some(user.sid.clone())),
        ("DateCreated", Some(time::iso8601(user.date_created))),
    ];
    if event == UserEvent::Updated {
        p.push(("DateUpdated", Some(time::iso8601(user.date_updated))));
    }
    p.extend([
        ("Identity", Some(user.identity.clone())),
        ("RoleSid", user.role_sid.clone()),
        ("Attributes", Some(user.attributes.clone())),
        ("FriendlyName", user.friendly_name.clone()),
    ]);
    // isOnline / isNotifiable (onUserUpdated) are null: there is no reachability model.
    p.into_iter()
        .filter_map(|(k, v)| v.map(|v| (k.to_owned(), v)))
        .collect()
}

impl Targets {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// One queued delivery per target.
    pub fn deliveries(&self, event: UserEvent, user: &UserRow) -> Vec<NewDelivery> {
        if self.0.is_empty() {
            return Vec::new();
        }
        let params =
            serde_json::to_string(&user_params(event, user)).unwrap_or_else(|_| "[]".into());
        self.0
            .iter()
            .map(|(url, method)| NewDelivery {
                account_sid: user.account_sid.clone(),
                event_type: event.name().to_owned(),
                url: url.clone(),
                method: method.clone(),
                params: params.clone(),
            })
            .collect()
    }
}

/// `X-Twilio-Signature`: HMAC-SHA1 keyed with the auth token over the URL followed by each
/// parameter name and value, names sorted, each name's values sorted and de-duplicated, then
/// base64 (twilio-python `RequestValidator.compute_signature`, twilio-node `getExpectedTwilioSignature`).
pub fn signature(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    let mut names: Vec<&str> = params.iter().map(|(k, _)| k.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    let mut data = url.to_owned();
    for name in names {
        let mut values: Vec<&str> = params
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect();
        values.sort_unstable();
        values.dedup();
        for value in values {
            data.push_str(name);
            data.push_str(value);
        }
    }
    let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(auth_token.as_bytes()) else {
        return String::new();
    };
    mac.update(data.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    const URL: &str = "https://mycompany.com/myapp.php?foo=1&bar=2";

    fn base_params() -> Vec<(String, String)> {
        p(&[
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+14158675309"),
            ("Digits", "1234"),
            ("From", "+14158675309"),
            ("To", "+18005551212"),
        ])
    }

    /// The official libraries' test vectors (../shared/reference/webhook-signature.md §4).
    #[test]
    fn signatures_match_the_official_test_vectors() {
        assert_eq!(
            signature("12345", URL, &base_params()),
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        );
        let dup = p(&[
            ("Sid", "CA123"),
            ("SidAccount", "AC123"),
            ("Digits", "5678"),
            ("Digits", "1234"),
            ("Digits", "1234"),
        ]);
        assert_eq!(
            signature("12345", URL, &dup),
            "IK+Dwps556ElfBT0I3Rgjkr1wJU="
        );
        let arr = p(&[
            ("MessagingBinding.Address", "+1415xxxxxxx"),
            ("MessagingBinding.Address", "+1325xxxxxxx"),
        ]);
        assert_eq!(
            signature("12345", URL, &arr),
            "83O6e2vORAoJHUNzJjDWN1jz+BA="
        );
        assert_eq!(
            signature(
                "12345",
                "http://mycompany.com:1234/myapp.php?foo=1&bar=2",
                &base_params()
            ),
            "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="
        );
        let with_hash = format!(
            "{URL}&bodySHA256=0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620"
        );
        assert_eq!(
            signature("12345", &with_hash, &[]),
            "a9nBmqA0ju/hNViExpshrM61xv4="
        );
    }

    #[test]
    fn urls_and_filters_are_checked() {
        assert!(check_url(Some("ftp://x".into()), "U", None).is_err());
        assert!(check_url(Some("/relative".into()), "U", None).is_err());
        assert_eq!(
            check_url(Some("".into()), "U", Some("http://a".into())).unwrap(),
            None
        );
        assert!(check_url(Some("https://hooks.example.com/x?y=1".into()), "U", None).is_ok());
        assert!(check_filters(vec!["onUserAdded".into()], SERVICE_FILTERS, "[]").is_err());
        assert_eq!(
            check_filters(
                vec!["onUserAdded".into(), "onUserAdded".into()],
                ACCOUNT_FILTERS,
                "[]"
            )
            .unwrap(),
            "[\"onUserAdded\"]"
        );
    }
}
