//! `POST /v1/ConversationWithParticipants` and `/v1/Services/{ServiceSid}/…`: a conversation
//! and up to 10 participants in one request, all or nothing (one transaction). Each
//! `Participant` value is a JSON object with the participant's snake_case keys
//! (`{"identity": "alice"}`, `{"messaging_binding": {"address": "+1…", "proxy_address": "+1…"}}`).
//! 201 without participants, 202 with them (the spec's examples).

use axum::{Json, http::StatusCode, routing::post};
use serde::Deserialize;

use super::{
    conversations::{ConversationForm, ConversationResource},
    extract::{ListPath, WebhookEnabled},
};
use crate::{
    domain::conversations::{
        conversation_with_participants as rules, participants::ParticipantInput,
    },
    error::{Error, Result},
    http::{call::ApiCall, routing::routes},
};

routes! {
    both families:
    "/ConversationWithParticipants" => post(create_conversation_with_participants),
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct BindingJson {
    address: Option<String>,
    proxy_address: Option<String>,
    projected_address: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ParticipantJson {
    identity: Option<String>,
    #[serde(default)]
    messaging_binding: Option<BindingJson>,
    /// JSON text, or a JSON value (kept as its text).
    attributes: Option<serde_json::Value>,
    role_sid: Option<String>,
    date_created: Option<String>,
    date_updated: Option<String>,
}

fn participant(n: usize, raw: &str) -> Result<ParticipantInput> {
    let p: ParticipantJson = serde_json::from_str(raw).map_err(|e| {
        Error::invalid(format!(
            "Invalid parameter Participant: value {n} is not a participant JSON object ({e})"
        ))
    })?;
    let binding = p.messaging_binding.unwrap_or_default();
    Ok(ParticipantInput {
        identity: p.identity,
        address: binding.address,
        proxy_address: binding.proxy_address,
        projected_address: binding.projected_address,
        attributes: p.attributes.map(|a| match a {
            serde_json::Value::String(text) => text,
            other => other.to_string(),
        }),
        role_sid: p.role_sid,
        date_created: p.date_created,
        date_updated: p.date_updated,
    })
}

async fn create_conversation_with_participants(
    WebhookEnabled(webhooks): WebhookEnabled,
    call: ApiCall<ListPath, ConversationForm>,
) -> Result<(StatusCode, Json<ConversationResource>)> {
    let (call, mut form) = call.split_form();
    let input = form.input();
    let participants = form
        .participant
        .iter()
        .enumerate()
        .map(|(n, raw)| participant(n, raw))
        .collect::<Result<Vec<_>>>()?;
    let status = if participants.is_empty() {
        StatusCode::CREATED
    } else {
        StatusCode::ACCEPTED
    };
    let (_, conversation, _) = rules::create(
        &call.core,
        &call.principal,
        call.scope(),
        input,
        participants,
        webhooks,
    )
    .await?;
    Ok((
        status,
        Json(call.family_resource(conversation, ConversationResource::without_export)),
    ))
}
