//! UserConversations on both path families: `…/Users/{Sid}/Conversations[/{ConversationSid}]`
//! (`{Sid}`: the user's `US` SID or identity; `{ConversationSid}`: SID or unique name).

use axum::{Json, http::StatusCode, routing::get};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{
    conversations::timers,
    extract::{Family, InstancePath, MAX_PAGE},
};
use crate::{
    domain::{
        conversations::{
            participants::ParticipantUpdate,
            user_conversations::{self as rules, Participation},
        },
        sid::{AccountSid, ConversationSid, ParticipantSid, ServiceSid, UserSid},
        time::iso8601,
    },
    error::Result,
    http::{
        call::{ApiCall, Listed},
        paging::Paging,
        routing::routes,
    },
};

routes! {
    both families:
    "/Users/{Sid}/Conversations" => get(list_user_conversations),
    "/Users/{Sid}/Conversations/{ConversationSid}" =>
        get(fetch_user_conversation).post(update_user_conversation).delete(delete_user_conversation),
}

/// `created_by` of a conversation created over REST *(ours)*.
pub(super) const CREATED_BY: &str = "system";

#[derive(Serialize)]
pub(super) struct Links {
    conversation: String,
    participant: String,
}

pub(super) fn links(family_url: &str, p: &Participation) -> Links {
    let conversation = format!("{family_url}/Conversations/{}", p.conversation.sid);
    Links {
        participant: format!("{conversation}/Participants/{}", p.participant.sid),
        conversation,
    }
}

/// `conversations.v1.user.user_conversation` / `…service_user_conversation`; fields in
/// alphabetical order.
#[derive(Serialize)]
struct UserConversationResource {
    account_sid: AccountSid,
    attributes: String,
    chat_service_sid: ServiceSid,
    conversation_sid: ConversationSid,
    conversation_state: String,
    created_by: &'static str,
    date_created: String,
    date_updated: String,
    friendly_name: Option<String>,
    last_read_message_index: Option<i64>,
    links: Links,
    notification_level: String,
    participant_sid: ParticipantSid,
    timers: Value,
    unique_name: Option<String>,
    unread_messages_count: Option<i64>,
    url: String,
    user_sid: UserSid,
}

impl UserConversationResource {
    fn new(family_url: &str, user: &UserSid, p: Participation) -> Self {
        let c = &p.conversation;
        Self {
            links: links(family_url, &p),
            url: format!("{family_url}/Users/{user}/Conversations/{}", c.sid),
            timers: timers(c),
            account_sid: c.account_sid.clone(),
            attributes: c.attributes.clone(),
            chat_service_sid: c.service_sid.clone(),
            conversation_sid: c.sid.clone(),
            conversation_state: c.state.clone(),
            created_by: CREATED_BY,
            date_created: iso8601(c.date_created),
            date_updated: iso8601(c.date_updated),
            friendly_name: c.friendly_name.clone(),
            last_read_message_index: p.participant.last_read_message_index,
            notification_level: p.participant.notification_level.clone(),
            participant_sid: p.participant.sid.clone(),
            unique_name: c.unique_name.clone(),
            unread_messages_count: p.unread_messages_count,
            user_sid: user.clone(),
        }
    }
}

#[derive(Debug, Deserialize)]
struct UserConversationPath {
    #[serde(rename = "ServiceSid", default)]
    service: Option<ServiceSid>,
    #[serde(rename = "Sid")]
    user: String,
    #[serde(rename = "ConversationSid")]
    conversation: String,
}

impl Family for UserConversationPath {
    fn service(&self) -> Option<&ServiceSid> {
        self.service.as_ref()
    }
}

async fn list_user_conversations(
    call: ApiCall<InstancePath<String>>,
    Paging(request): Paging<MAX_PAGE>,
) -> Result<Listed<UserConversationResource>> {
    let (user, page) = rules::list_user_conversations(
        &call.core,
        &call.principal,
        call.scope(),
        &call.path.sid,
        request,
    )
    .await?;
    let tail = format!("/Users/{}/Conversations", user.sid);
    call.family_list("conversations", &user.service_sid, &tail, page, |url, p| {
        UserConversationResource::new(url, &user.sid, p)
    })
}

async fn fetch_user_conversation(
    call: ApiCall<UserConversationPath>,
) -> Result<Json<UserConversationResource>> {
    let (user, found) = rules::fetch_user_conversation(
        &call.core,
        &call.principal,
        call.scope(),
        &call.path.user,
        &call.path.conversation,
    )
    .await?;
    let url = call.family_url(&found.conversation.service_sid);
    Ok(Json(UserConversationResource::new(&url, &user, found)))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UserConversationForm {
    notification_level: Option<String>,
    last_read_timestamp: Option<String>,
    last_read_message_index: Option<String>,
}

async fn update_user_conversation(
    call: ApiCall<UserConversationPath, UserConversationForm>,
) -> Result<Json<UserConversationResource>> {
    let (call, form) = call.split_form();
    let update = ParticipantUpdate {
        notification_level: form.notification_level,
        last_read_timestamp: form.last_read_timestamp,
        last_read_message_index: form.last_read_message_index,
        ..ParticipantUpdate::default()
    };
    let (user, updated) = rules::update_user_conversation(
        &call.core,
        &call.principal,
        call.scope(),
        &call.path.user,
        &call.path.conversation,
        update,
    )
    .await?;
    let url = call.family_url(&updated.conversation.service_sid);
    Ok(Json(UserConversationResource::new(&url, &user, updated)))
}

async fn delete_user_conversation(call: ApiCall<UserConversationPath>) -> Result<StatusCode> {
    rules::delete_user_conversation(
        &call.core,
        &call.principal,
        call.scope(),
        &call.path.user,
        &call.path.conversation,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
