//! Conversations webhook targets (`/v1/Configuration/Webhooks`,
//! `/v1/Services/{IS}/Configuration/Webhooks`) and the operators' view of recent delivery
//! attempts (`/_localtwilio/WebhookAttempts`, not a Twilio endpoint).

use axum::{Json, Router, extract::State, routing::get};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    extract::{Authed, PathParams, TwilioForm},
    state::AppState,
    urls::BaseUrl,
};
use crate::{
    domain::{
        time::iso8601,
        webhooks::{self, WebhookInput},
    },
    error::Result,
    store::webhooks::{AccountWebhookRow, ServiceWebhookRow},
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/Configuration/Webhooks",
            get(fetch_account_webhook).post(update_account_webhook),
        )
        .route(
            "/v1/Services/{ServiceSid}/Configuration/Webhooks",
            get(fetch_service_webhook).post(update_service_webhook),
        )
        .route("/_localtwilio/WebhookAttempts", get(list_attempts))
}

fn filters(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| json!([]))
}

/// `conversations.v1.configuration.configuration_webhook`.
fn account_json(w: &AccountWebhookRow, base: &str) -> Value {
    json!({
        "account_sid": w.account_sid,
        "method": w.method,
        "filters": filters(&w.filters),
        "pre_webhook_url": w.pre_webhook_url,
        "post_webhook_url": w.post_webhook_url,
        "target": w.target,
        "url": format!("{base}/v1/Configuration/Webhooks"),
    })
}

/// `conversations.v1.service.service_configuration.service_webhook_configuration`.
fn service_json(w: &ServiceWebhookRow, base: &str) -> Value {
    json!({
        "account_sid": w.account_sid,
        "chat_service_sid": w.service_sid,
        "pre_webhook_url": w.pre_webhook_url,
        "post_webhook_url": w.post_webhook_url,
        "filters": filters(&w.filters),
        "method": w.method,
        "url": format!("{base}/v1/Services/{}/Configuration/Webhooks", w.service_sid),
    })
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

async fn fetch_account_webhook(
    State(state): State<AppState>,
    Authed(principal): Authed,
    BaseUrl(base): BaseUrl,
) -> Result<Json<Value>> {
    Ok(Json(account_json(
        &webhooks::account_config(&state.core, &principal).await?,
        &base,
    )))
}

async fn update_account_webhook(
    State(state): State<AppState>,
    Authed(principal): Authed,
    BaseUrl(base): BaseUrl,
    TwilioForm(form): TwilioForm<WebhookForm>,
) -> Result<Json<Value>> {
    let row = webhooks::update_account_config(&state.core, &principal, form.into()).await?;
    Ok(Json(account_json(&row, &base)))
}

async fn fetch_service_webhook(
    State(state): State<AppState>,
    Authed(principal): Authed,
    BaseUrl(base): BaseUrl,
    path: PathParams,
) -> Result<Json<Value>> {
    Ok(Json(service_json(
        &webhooks::service_config(&state.core, &principal, path.get(0)?).await?,
        &base,
    )))
}

async fn update_service_webhook(
    State(state): State<AppState>,
    Authed(principal): Authed,
    BaseUrl(base): BaseUrl,
    path: PathParams,
    TwilioForm(form): TwilioForm<WebhookForm>,
) -> Result<Json<Value>> {
    if form.target.is_some() {
        // The service-level resource has no Target (spec UpdateServiceWebhookConfiguration).
        return Err(crate::error::Error::invalid(
            "Invalid parameter Target: not a parameter of service webhooks",
        ));
    }
    let row =
        webhooks::update_service_config(&state.core, &principal, path.get(0)?, form.into()).await?;
    Ok(Json(service_json(&row, &base)))
}

/// The calling account's 100 most recent delivery attempts, newest first.
async fn list_attempts(
    State(state): State<AppState>,
    Authed(principal): Authed,
) -> Result<Json<Value>> {
    let rows = state
        .core
        .store
        .recent_attempts(principal.account_sid.as_str(), 100)
        .await?;
    let attempts: Vec<Value> = rows
        .iter()
        .map(|a| {
            json!({
                "id": a.id,
                "delivery_id": a.delivery_id,
                "attempted_at": iso8601(a.attempted_at / 1000),
                "url": a.url,
                "event_type": a.event_type,
                "status_code": a.status_code,
                "latency_ms": a.latency_ms,
                "error": a.error,
            })
        })
        .collect();
    Ok(Json(json!({ "attempts": attempts })))
}
