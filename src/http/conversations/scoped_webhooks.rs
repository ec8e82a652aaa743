//! Conversation-scoped webhooks on both path families:
//! `…/Conversations/{ConversationSid}/Webhooks[/{Sid}]` (list: at most 5 a page, as the spec).

use axum::{Json, http::StatusCode, routing::get};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::extract::{ConversationItemPath, ConversationPath, Family};
use crate::{
    domain::{
        conversations::scoped_webhooks::{self as rules, ScopedWebhook, ScopedWebhookInput},
        sid::{AccountSid, ConversationSid, ScopedWebhookSid, ServiceSid},
        time::iso8601,
    },
    error::Result,
    http::{
        call::{ApiCall, Created, Listed, created},
        paging::Paging,
        routing::routes,
    },
};

routes! {
    both families:
    "/Conversations/{ConversationSid}/Webhooks" => get(list_webhooks).post(create_webhook),
    "/Conversations/{ConversationSid}/Webhooks/{Sid}" =>
        get(fetch_webhook).post(update_webhook).delete(delete_webhook),
}

/// Spec default and maximum `PageSize` of scoped webhooks.
const MAX_WEBHOOKS_PAGE: u32 = 5;

/// `…conversation_scoped_webhook` / `…service_conversation_scoped_webhook` (which alone has
/// `chat_service_sid`); fields in alphabetical order.
#[derive(Serialize)]
struct ScopedWebhookResource {
    account_sid: AccountSid,
    #[serde(skip_serializing_if = "Option::is_none")]
    chat_service_sid: Option<ServiceSid>,
    configuration: Value,
    conversation_sid: ConversationSid,
    date_created: String,
    date_updated: String,
    sid: ScopedWebhookSid,
    target: String,
    url: String,
}

impl ScopedWebhookResource {
    fn new(family_url: &str, service: Option<ServiceSid>, w: ScopedWebhook) -> Self {
        // The spec example echoes {url, method, filters}; a trigger's keywords as its filters.
        let configuration = match w.target.as_str() {
            "studio" => json!({"flow_sid": w.flow_sid}),
            "trigger" => json!({"url": w.url, "method": w.method, "filters": w.triggers}),
            _ => json!({"url": w.url, "method": w.method, "filters": w.filters}),
        };
        Self {
            url: format!(
                "{family_url}/Conversations/{}/Webhooks/{}",
                w.conversation_sid, w.sid
            ),
            configuration,
            account_sid: w.account_sid,
            chat_service_sid: service,
            conversation_sid: w.conversation_sid,
            date_created: iso8601(w.date_created),
            date_updated: iso8601(w.date_updated),
            sid: w.sid,
            target: w.target,
        }
    }
}

impl<P: Family, F> ApiCall<P, F> {
    fn scoped_webhook(&self, w: ScopedWebhook) -> ScopedWebhookResource {
        let service = self.family_service(&w.service_sid);
        self.family_resource(w, |url, w| ScopedWebhookResource::new(url, service, w))
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ScopedWebhookForm {
    target: Option<String>,
    #[serde(rename = "Configuration.Url")]
    url: Option<String>,
    #[serde(rename = "Configuration.Method")]
    method: Option<String>,
    #[serde(rename = "Configuration.Filters", default)]
    filters: Vec<String>,
    #[serde(rename = "Configuration.Triggers", default)]
    triggers: Vec<String>,
    #[serde(rename = "Configuration.FlowSid")]
    flow_sid: Option<String>,
    #[serde(rename = "Configuration.ReplayAfter")]
    replay_after: Option<String>,
}

impl From<ScopedWebhookForm> for ScopedWebhookInput {
    fn from(f: ScopedWebhookForm) -> Self {
        ScopedWebhookInput {
            target: f.target,
            url: f.url,
            method: f.method,
            filters: f.filters,
            triggers: f.triggers,
            flow_sid: f.flow_sid,
            replay_after: f.replay_after,
        }
    }
}

async fn create_webhook(
    call: ApiCall<ConversationPath, ScopedWebhookForm>,
) -> Result<Created<ScopedWebhookResource>> {
    let (call, form) = call.split_form();
    let (_, webhook) = rules::create_webhook(
        &call.core,
        &call.principal,
        call.scope(),
        &call.path.conversation,
        form.into(),
    )
    .await?;
    created(call.scoped_webhook(webhook))
}

async fn list_webhooks(
    call: ApiCall<ConversationPath>,
    Paging(request): Paging<MAX_WEBHOOKS_PAGE>,
) -> Result<Listed<ScopedWebhookResource>> {
    let (conversation, page) = rules::list_webhooks(
        &call.core,
        &call.principal,
        call.scope(),
        &call.path.conversation,
        request,
    )
    .await?;
    let service = call.family_service(&conversation.service_sid);
    let tail = format!("/Conversations/{}/Webhooks", conversation.sid);
    call.family_list(
        "webhooks",
        &conversation.service_sid,
        &tail,
        page,
        |url, w| ScopedWebhookResource::new(url, service.clone(), w),
    )
}

async fn fetch_webhook(
    call: ApiCall<ConversationItemPath<ScopedWebhookSid>>,
) -> Result<Json<ScopedWebhookResource>> {
    let (_, webhook) = rules::fetch_webhook(
        &call.core,
        &call.principal,
        call.scope(),
        &call.path.conversation,
        &call.path.sid,
    )
    .await?;
    Ok(Json(call.scoped_webhook(webhook)))
}

async fn update_webhook(
    call: ApiCall<ConversationItemPath<ScopedWebhookSid>, ScopedWebhookForm>,
) -> Result<Json<ScopedWebhookResource>> {
    let (call, form) = call.split_form();
    if form.target.is_some() || form.replay_after.is_some() {
        return Err(crate::error::Error::invalid(
            "Invalid parameters: Target and Configuration.ReplayAfter cannot be updated",
        ));
    }
    let (_, webhook) = rules::update_webhook(
        &call.core,
        &call.principal,
        call.scope(),
        &call.path.conversation,
        &call.path.sid,
        form.into(),
    )
    .await?;
    Ok(Json(call.scoped_webhook(webhook)))
}

async fn delete_webhook(
    call: ApiCall<ConversationItemPath<ScopedWebhookSid>>,
) -> Result<StatusCode> {
    rules::delete_webhook(
        &call.core,
        &call.principal,
        call.scope(),
        &call.path.conversation,
        &call.path.sid,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
