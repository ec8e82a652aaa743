//! Participants on both path families: `…/Conversations/{ConversationSid}/Participants[/{Sid}]`.
//! `{Sid}` is the `MB` SID or the identity; `url` always carries the SID.

use axum::{Json, http::StatusCode, routing::get};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{
    conversations::MAX_PAGE,
    extract::{ConversationItemPath, ConversationPath, Family, WebhookEnabled},
};
use crate::{
    domain::{
        conversations::participants::{
            self as rules, Binding, Participant, ParticipantInput, ParticipantUpdate,
        },
        sid::{AccountSid, ConversationSid, ParticipantSid, RoleSid, ServiceSid},
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
    "/Conversations/{ConversationSid}/Participants" =>
        get(list_participants).post(create_participant),
    "/Conversations/{ConversationSid}/Participants/{Sid}" =>
        get(fetch_participant).post(update_participant).delete(delete_participant),
}

/// `messaging_binding`: null for a chat participant, else its type and addresses.
pub fn messaging_binding(binding: Option<&Binding>) -> Value {
    let Some(b) = binding else {
        return Value::Null;
    };
    let mut out = serde_json::Map::new();
    out.insert("type".into(), json!(b.kind));
    for (key, value) in [
        ("address", &b.address),
        ("proxy_address", &b.proxy_address),
        ("projected_address", &b.projected_address),
    ] {
        if let Some(v) = value {
            out.insert(key.into(), json!(v));
        }
    }
    Value::Object(out)
}

/// `conversations.v1.conversation.conversation_participant` / `…service_conversation_participant`
/// (which alone has `chat_service_sid`); fields in alphabetical order.
#[derive(Serialize)]
struct ParticipantResource {
    account_sid: AccountSid,
    attributes: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    chat_service_sid: Option<ServiceSid>,
    conversation_sid: ConversationSid,
    date_created: String,
    date_updated: String,
    identity: Option<String>,
    last_read_message_index: Option<i64>,
    last_read_timestamp: Option<String>,
    messaging_binding: Value,
    role_sid: Option<RoleSid>,
    sid: ParticipantSid,
    url: String,
}

impl ParticipantResource {
    fn new(family_url: &str, service: Option<ServiceSid>, p: Participant) -> Self {
        Self {
            url: format!(
                "{family_url}/Conversations/{}/Participants/{}",
                p.conversation_sid, p.sid
            ),
            messaging_binding: messaging_binding(p.binding.as_ref()),
            account_sid: p.account_sid,
            attributes: p.attributes,
            chat_service_sid: service,
            conversation_sid: p.conversation_sid,
            date_created: iso8601(p.date_created),
            date_updated: iso8601(p.date_updated),
            identity: p.identity,
            last_read_message_index: p.last_read_message_index,
            last_read_timestamp: p.last_read_timestamp,
            role_sid: p.role_sid,
            sid: p.sid,
        }
    }
}

impl<P: Family, F> ApiCall<P, F> {
    fn participant(&self, p: Participant) -> ParticipantResource {
        let service = self.family_service(&p.service_sid);
        self.family_resource(p, |url, p| ParticipantResource::new(url, service, p))
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ParticipantForm {
    identity: Option<String>,
    #[serde(rename = "MessagingBinding.Address")]
    address: Option<String>,
    #[serde(rename = "MessagingBinding.ProxyAddress")]
    proxy_address: Option<String>,
    #[serde(rename = "MessagingBinding.ProjectedAddress")]
    projected_address: Option<String>,
    attributes: Option<String>,
    role_sid: Option<String>,
    date_created: Option<String>,
    date_updated: Option<String>,
    last_read_message_index: Option<String>,
    last_read_timestamp: Option<String>,
}

async fn create_participant(
    WebhookEnabled(webhooks): WebhookEnabled,
    call: ApiCall<ConversationPath, ParticipantForm>,
) -> Result<Created<ParticipantResource>> {
    let (call, f) = call.split_form();
    let input = ParticipantInput {
        identity: f.identity,
        address: f.address,
        proxy_address: f.proxy_address,
        projected_address: f.projected_address,
        attributes: f.attributes,
        role_sid: f.role_sid,
        date_created: f.date_created,
        date_updated: f.date_updated,
    };
    let (_, participant) = rules::create_participant(
        &call.core,
        &call.principal,
        call.scope(),
        &call.path.conversation,
        input,
        webhooks,
    )
    .await?;
    created(call.participant(participant))
}

async fn list_participants(
    call: ApiCall<ConversationPath>,
    Paging(request): Paging<MAX_PAGE>,
) -> Result<Listed<ParticipantResource>> {
    let (conversation, page) = rules::list_participants(
        &call.core,
        &call.principal,
        call.scope(),
        &call.path.conversation,
        request,
    )
    .await?;
    let service = call.family_service(&conversation.service_sid);
    let tail = format!("/Conversations/{}/Participants", conversation.sid);
    call.family_list(
        "participants",
        &conversation.service_sid,
        &tail,
        page,
        |url, p| ParticipantResource::new(url, service.clone(), p),
    )
}

async fn fetch_participant(
    call: ApiCall<ConversationItemPath<String>>,
) -> Result<Json<ParticipantResource>> {
    let (_, participant) = rules::fetch_participant(
        &call.core,
        &call.principal,
        call.scope(),
        &call.path.conversation,
        &call.path.sid,
    )
    .await?;
    Ok(Json(call.participant(participant)))
}

async fn update_participant(
    WebhookEnabled(webhooks): WebhookEnabled,
    call: ApiCall<ConversationItemPath<String>, ParticipantForm>,
) -> Result<Json<ParticipantResource>> {
    let (call, f) = call.split_form();
    if f.address.is_some() {
        return Err(crate::error::Error::invalid(
            "Invalid parameter MessagingBinding.Address: cannot be changed",
        ));
    }
    let update = ParticipantUpdate {
        identity: f.identity,
        proxy_address: f.proxy_address,
        projected_address: f.projected_address,
        attributes: f.attributes,
        role_sid: f.role_sid,
        last_read_message_index: f.last_read_message_index,
        last_read_timestamp: f.last_read_timestamp,
        notification_level: None,
        date_created: f.date_created,
        date_updated: f.date_updated,
    };
    let (_, participant) = rules::update_participant(
        &call.core,
        &call.principal,
        call.scope(),
        &call.path.conversation,
        &call.path.sid,
        update,
        webhooks,
    )
    .await?;
    Ok(Json(call.participant(participant)))
}

async fn delete_participant(
    WebhookEnabled(webhooks): WebhookEnabled,
    call: ApiCall<ConversationItemPath<String>>,
) -> Result<StatusCode> {
    rules::delete_participant(
        &call.core,
        &call.principal,
        call.scope(),
        &call.path.conversation,
        &call.path.sid,
        webhooks,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
