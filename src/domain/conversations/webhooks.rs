//! Conversations webhook targets (facts: ../shared/reference/conversations-webhook-events.md;
//! decisions: DESIGN.md "Conversations"): the account level (`/v1/Configuration/Webhooks`,
//! every service of the account) and the service level
//! (`/v1/Services/{IS}/Configuration/Webhooks`, its own service). Which events reach which
//! target is `events`; the generic machinery (declarations, signatures) is `domain::webhooks`.

use super::scope::{Scope, distinct_members, resolve};
use crate::{
    domain::{
        Core,
        auth::Principal,
        read_back,
        sid::{AccountSid, ServiceSid},
        webhooks::absolute_http_url,
    },
    error::{Error, Result},
    store::{
        conversations::ServiceRow,
        webhooks::{AccountWebhookRow, ServiceWebhookRow},
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

/// `conversations.v1.configuration.configuration_webhook`.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountWebhook {
    pub account_sid: AccountSid,
    pub method: String,
    pub filters: Vec<String>,
    pub pre_webhook_url: Option<String>,
    pub post_webhook_url: Option<String>,
    pub target: String,
}

read_back!(|row: AccountWebhookRow| -> AccountWebhook {
    parsed: account_sid;
    json: filters;
    copied: method, pre_webhook_url, post_webhook_url, target;
});

/// `conversations.v1.service.service_configuration.service_webhook_configuration`.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceWebhook {
    pub service_sid: ServiceSid,
    pub account_sid: AccountSid,
    pub method: String,
    pub filters: Vec<String>,
    pub pre_webhook_url: Option<String>,
    pub post_webhook_url: Option<String>,
}

read_back!(|row: ServiceWebhookRow| -> ServiceWebhook {
    parsed: service_sid, account_sid;
    json: filters;
    copied: method, pre_webhook_url, post_webhook_url;
});

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

/// *(ours)*: no documented limit; long enough for any real endpoint.
const MAX_URL_CHARS: usize = 2048;

/// An absolute http(s) URL, in the normalised form it is stored, requested and signed in
/// (issue 15 F11); an empty value clears the URL *(ours)*.
fn check_url(value: Option<String>, name: &str, current: Option<String>) -> Result<Option<String>> {
    match value {
        None => Ok(current),
        Some(v) if v.is_empty() => Ok(None),
        Some(v) if v.len() > MAX_URL_CHARS => Err(Error::invalid(format!(
            "Invalid parameter {name}: must be at most {MAX_URL_CHARS} characters"
        ))),
        Some(v) => absolute_http_url(&v).map(Some).ok_or_else(|| {
            Error::invalid(format!(
                "Invalid parameter {name}: must be an absolute http or https URL"
            ))
        }),
    }
}

/// `Filters` given replace the list; each must be one of `allowed`.
fn check_filters(filters: Vec<String>, allowed: &[&str], current: &str) -> Result<String> {
    if filters.is_empty() {
        return Ok(current.to_owned());
    }
    distinct_members(filters, allowed, |f| {
        format!("Invalid parameter Filters: '{f}' is not a webhook event of this resource")
    })
}

/// `$row` (an account's or a service's target row) with `$input` over its method, filters and
/// URLs, each checked in that order; `$allowed` is the resource's filter list. A macro, not a
/// function: the two row types share these fields but no type.
macro_rules! merge_shared {
    ($row:expr, $input:expr, $allowed:expr) => {{
        let mut row = $row;
        let input: WebhookInput = $input;
        if let Some(method) = input.method.as_deref() {
            row.method = check_method(method)?;
        }
        row.filters = check_filters(input.filters, $allowed, &row.filters)?;
        row.pre_webhook_url =
            check_url(input.pre_webhook_url, "PreWebhookUrl", row.pre_webhook_url)?;
        row.post_webhook_url = check_url(
            input.post_webhook_url,
            "PostWebhookUrl",
            row.post_webhook_url,
        )?;
        row
    }};
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
pub(crate) fn default_service_webhook(service: &ServiceRow) -> ServiceWebhookRow {
    unconfigured_service_webhook(&service.sid, &service.account_sid)
}

fn unconfigured_service_webhook(service_sid: &str, account_sid: &str) -> ServiceWebhookRow {
    ServiceWebhookRow {
        service_sid: service_sid.to_owned(),
        account_sid: account_sid.to_owned(),
        method: "POST".into(),
        filters: "[]".into(),
        pre_webhook_url: None,
        post_webhook_url: None,
    }
}

async fn account_row(core: &Core, account: &AccountSid) -> Result<AccountWebhookRow> {
    Ok(core
        .store
        .sole::<AccountWebhookRow>(account.as_str())
        .await?
        .unwrap_or_else(|| default_account_webhook(account.as_str())))
}

pub async fn account_config(core: &Core, principal: &Principal) -> Result<AccountWebhook> {
    AccountWebhook::try_from(account_row(core, &principal.account_sid).await?)
}

pub async fn update_account_config(
    core: &Core,
    principal: &Principal,
    input: WebhookInput,
) -> Result<AccountWebhook> {
    let current = account_row(core, &principal.account_sid).await?;
    let row = merge_account(current, input)?;
    core.store.save_sole(&row).await?;
    AccountWebhook::try_from(row)
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
    Ok(AccountWebhookRow {
        target,
        ..merge_shared!(current, input, ACCOUNT_FILTERS)
    })
}

async fn service_row(
    core: &Core,
    principal: &Principal,
    sid: &ServiceSid,
) -> Result<ServiceWebhookRow> {
    let service = resolve(core, principal, Scope::Service(sid)).await?;
    Ok(core
        .store
        .sole::<ServiceWebhookRow>(service.sid.as_str())
        .await?
        .unwrap_or_else(|| {
            unconfigured_service_webhook(service.sid.as_str(), service.account_sid.as_str())
        }))
}

pub async fn service_config(
    core: &Core,
    principal: &Principal,
    sid: &ServiceSid,
) -> Result<ServiceWebhook> {
    ServiceWebhook::try_from(service_row(core, principal, sid).await?)
}

pub async fn update_service_config(
    core: &Core,
    principal: &Principal,
    sid: &ServiceSid,
    input: WebhookInput,
) -> Result<ServiceWebhook> {
    if input.target.is_some() {
        // The service-level resource has no Target (spec UpdateServiceWebhookConfiguration).
        return Err(Error::invalid(
            "Invalid parameter Target: not a parameter of service webhooks",
        ));
    }
    let current = service_row(core, principal, sid).await?;
    let row = merge_service(current, input)?;
    if let Err(e) = core.store.save_sole(&row).await {
        // The service was deleted since it resolved (the foreign key refused the row, issue 15
        // F5): 404, as a moment later.
        let gone = core
            .store
            .fetch_owned::<ServiceRow>(&row.account_sid, &row.service_sid)
            .await?
            .is_none();
        return Err(if gone { Error::NotFound } else { e.into() });
    }
    ServiceWebhook::try_from(row)
}

/// The service target after `input`, each field checked (API and fixtures).
pub(crate) fn merge_service(
    current: ServiceWebhookRow,
    input: WebhookInput,
) -> Result<ServiceWebhookRow> {
    Ok(merge_shared!(current, input, SERVICE_FILTERS))
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn urls_are_stored_normalised_and_what_the_url_parser_would_repair_is_refused() {
        for (given, stored) in [
            (
                "HTTP://Hooks.Example.com/Path?q=A",
                "http://hooks.example.com/Path?q=A",
            ),
            ("https://h.example:443", "https://h.example/"),
            ("http://h.example:8080/x#f", "http://h.example:8080/x#f"),
            ("https://user@h.example/x", "https://user@h.example/x"),
        ] {
            assert_eq!(absolute_http_url(given).as_deref(), Some(stored), "{given}");
        }
        for bad in [
            "http://h.example/a\r\nb",
            "http://h.example/a\tb",
            "http://h.example/a b",
            "http:///x",
            "http:h.example/x",
            "http:/h.example/x",
            "http:\\\\h.example\\x",
            "http://",
            "https://?q",
            "mailto:a@h.example",
            "h.example/x",
        ] {
            assert_eq!(absolute_http_url(bad), None, "{bad:?}");
        }
    }
}
