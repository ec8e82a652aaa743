//! Conversations webhook targets: `/v1/Configuration/Webhooks` (the account's) and
//! `/v1/Services/{ServiceSid}/Configuration/Webhooks` (a service's).

use axum::{Json, routing::get};
use serde::{Deserialize, Serialize};

use crate::{
    domain::{
        conversations::webhooks::{self, AccountWebhook, ServiceWebhook, WebhookInput},
        sid::{AccountSid, ServiceSid},
    },
    error::Result,
    http::{call::ApiCall, routing::routes},
};

routes! {
    "/v1/Configuration/Webhooks" => get(fetch_account_webhook).post(update_account_webhook),
    "/v1/Services/{ServiceSid}/Configuration/Webhooks" =>
        get(fetch_service_webhook).post(update_service_webhook),
}

/// `conversations.v1.configuration.configuration_webhook`; fields in alphabetical order (the
/// bytes of the `Value` body this replaced).
#[derive(Serialize)]
struct AccountWebhookResource {
    account_sid: AccountSid,
    filters: Vec<String>,
    method: String,
    post_webhook_url: Option<String>,
    pre_webhook_url: Option<String>,
    target: String,
    url: String,
}

impl AccountWebhookResource {
    fn new(w: AccountWebhook, base: &str) -> Self {
        Self {
            url: format!("{base}/v1/Configuration/Webhooks"),
            account_sid: w.account_sid,
            filters: w.filters,
            method: w.method,
            post_webhook_url: w.post_webhook_url,
            pre_webhook_url: w.pre_webhook_url,
            target: w.target,
        }
    }
}

/// `conversations.v1.service.service_configuration.service_webhook_configuration`; fields in
/// alphabetical order.
#[derive(Serialize)]
struct ServiceWebhookResource {
    account_sid: AccountSid,
    chat_service_sid: ServiceSid,
    filters: Vec<String>,
    method: String,
    post_webhook_url: Option<String>,
    pre_webhook_url: Option<String>,
    url: String,
}

impl ServiceWebhookResource {
    fn new(w: ServiceWebhook, base: &str) -> Self {
        Self {
            url: format!(
                "{base}/v1/Services/{}/Configuration/Webhooks",
                w.service_sid
            ),
            account_sid: w.account_sid,
            chat_service_sid: w.service_sid,
            filters: w.filters,
            method: w.method,
            post_webhook_url: w.post_webhook_url,
            pre_webhook_url: w.pre_webhook_url,
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct WebhookForm {
    method: Option<String>,
    #[serde(default)]
    filters: Vec<String>,
    pre_webhook_url: Option<String>,
    post_webhook_url: Option<String>,
    target: Option<String>,
}

impl From<WebhookForm> for WebhookInput {
    fn from(f: WebhookForm) -> Self {
        WebhookInput {
            method: f.method,
            filters: f.filters,
            pre_webhook_url: f.pre_webhook_url,
            post_webhook_url: f.post_webhook_url,
            target: f.target,
        }
    }
}

async fn fetch_account_webhook(call: ApiCall) -> Result<Json<AccountWebhookResource>> {
    let target = webhooks::account_config(&call.core, &call.principal).await?;
    Ok(Json(AccountWebhookResource::new(target, &call.base)))
}

async fn update_account_webhook(
    call: ApiCall<(), WebhookForm>,
) -> Result<Json<AccountWebhookResource>> {
    let target =
        webhooks::update_account_config(&call.core, &call.principal, call.form.into()).await?;
    Ok(Json(AccountWebhookResource::new(target, &call.base)))
}

async fn fetch_service_webhook(call: ApiCall<ServiceSid>) -> Result<Json<ServiceWebhookResource>> {
    let target = webhooks::service_config(&call.core, &call.principal, &call.path).await?;
    Ok(Json(ServiceWebhookResource::new(target, &call.base)))
}

async fn update_service_webhook(
    call: ApiCall<ServiceSid, WebhookForm>,
) -> Result<Json<ServiceWebhookResource>> {
    let target =
        webhooks::update_service_config(&call.core, &call.principal, &call.path, call.form.into())
            .await?;
    Ok(Json(ServiceWebhookResource::new(target, &call.base)))
}
