//! Messages on both path families: `…/Conversations/{ConversationSid}/Messages[/{Sid}]`.
//! `Order=asc|desc`; the list's paging URLs repeat it.

use axum::{Json, http::StatusCode, routing::get};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{
    conversations::MAX_PAGE,
    extract::{ConversationItemPath, ConversationPath, WebhookEnabled},
};
use crate::{
    domain::{
        conversations::messages::{self as rules, Message, MessageInput},
        sid::{AccountSid, ConversationMessageSid, ConversationSid, ParticipantSid, ServiceSid},
        time::iso8601,
    },
    error::Result,
    http::{
        call::{ApiCall, Created, Listed, created},
        extract::TwilioQuery,
        paging::Paging,
        routing::routes,
        urls::{Links, links},
    },
};

routes! {
    both families:
    "/Conversations/{ConversationSid}/Messages" => get(list_messages).post(create_message),
    "/Conversations/{ConversationSid}/Messages/{Sid}" =>
        get(fetch_message).post(update_message).delete(delete_message),
}

/// `conversations.v1.conversation.conversation_message` / `…service_conversation_message`
/// (which alone has `chat_service_sid`); fields in alphabetical order.
#[derive(Serialize)]
struct MessageResource {
    account_sid: AccountSid,
    attributes: String,
    author: String,
    body: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    chat_service_sid: Option<ServiceSid>,
    content_sid: Option<String>,
    conversation_sid: ConversationSid,
    date_created: String,
    date_updated: String,
    /// The summary of its SMS to non-chat participants; null when it was sent to none.
    delivery: Option<DeliveryResource>,
    index: i64,
    links: Links,
    media: Option<Value>,
    participant_sid: Option<ParticipantSid>,
    sid: ConversationMessageSid,
    url: String,
}

/// `delivery`; fields in alphabetical order.
#[derive(Serialize)]
struct DeliveryResource {
    delivered: &'static str,
    failed: &'static str,
    read: &'static str,
    sent: &'static str,
    total: i64,
    undelivered: &'static str,
}

impl MessageResource {
    fn new(family_url: &str, service: Option<ServiceSid>, m: Message) -> Self {
        let url = format!(
            "{family_url}/Conversations/{}/Messages/{}",
            m.conversation_sid, m.sid
        );
        Self {
            links: links(
                &url,
                &[
                    ("delivery_receipts", "Receipts"),
                    ("channel_metadata", "ChannelMetadata"),
                ],
            ),
            url,
            account_sid: m.account_sid,
            attributes: m.attributes,
            author: m.author,
            body: m.body,
            chat_service_sid: service,
            content_sid: m.content_sid,
            conversation_sid: m.conversation_sid,
            date_created: iso8601(m.date_created),
            date_updated: iso8601(m.date_updated),
            delivery: m.delivery.map(|d| DeliveryResource {
                delivered: d.delivered,
                failed: d.failed,
                read: d.read,
                sent: d.sent,
                total: d.total,
                undelivered: d.undelivered,
            }),
            index: m.index,
            media: m.media,
            participant_sid: m.participant_sid,
            sid: m.sid,
        }
    }
}

impl<P: super::extract::Family, F> ApiCall<P, F> {
    fn message(&self, service_sid: &ServiceSid, m: Message) -> MessageResource {
        let service = self.family_service(service_sid);
        MessageResource::new(&self.family_url(service_sid), service, m)
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct MessageForm {
    author: Option<String>,
    body: Option<String>,
    date_created: Option<String>,
    date_updated: Option<String>,
    attributes: Option<String>,
    media_sid: Option<String>,
    content_sid: Option<String>,
    content_variables: Option<String>,
    subject: Option<String>,
}

impl MessageForm {
    fn input(self) -> Result<MessageInput> {
        crate::domain::conversations::conversations::check_json(
            self.content_variables.as_deref(),
            "ContentVariables",
            16 * 1024,
        )?;
        Ok(MessageInput {
            author: self.author,
            body: self.body,
            attributes: self.attributes,
            media_sid: self.media_sid,
            content_sid: self.content_sid,
            subject: self.subject,
            date_created: self.date_created,
            date_updated: self.date_updated,
        })
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListQuery {
    order: Option<String>,
}

async fn create_message(
    WebhookEnabled(webhooks): WebhookEnabled,
    call: ApiCall<ConversationPath, MessageForm>,
) -> Result<Created<MessageResource>> {
    let (call, form) = call.split_form();
    let input = form.input()?;
    let (conversation, message) = rules::create_message(
        &call.core,
        &call.principal,
        call.scope(),
        &call.path.conversation,
        input,
        webhooks,
    )
    .await?;
    created(call.message(&conversation.service_sid, message))
}

async fn list_messages(
    call: ApiCall<ConversationPath>,
    TwilioQuery(query): TwilioQuery<ListQuery>,
    Paging(request): Paging<MAX_PAGE>,
) -> Result<Listed<MessageResource>> {
    let ascending = rules::ascending(query.order.as_deref())?;
    let (conversation, page) = rules::list_conversation_messages(
        &call.core,
        &call.principal,
        call.scope(),
        &call.path.conversation,
        ascending,
        request,
    )
    .await?;
    let service = call.family_service(&conversation.service_sid);
    let tail = format!("/Conversations/{}/Messages", conversation.sid);
    let filters: Vec<(&str, &str)> = query
        .order
        .as_deref()
        .map(|o| ("Order", o))
        .into_iter()
        .collect();
    call.family_list_filtered(
        "messages",
        &conversation.service_sid,
        &tail,
        &filters,
        page,
        |url, m| MessageResource::new(url, service.clone(), m),
    )
}

async fn fetch_message(
    call: ApiCall<ConversationItemPath<ConversationMessageSid>>,
) -> Result<Json<MessageResource>> {
    let (conversation, message) = rules::fetch_message(
        &call.core,
        &call.principal,
        call.scope(),
        &call.path.conversation,
        &call.path.sid,
    )
    .await?;
    Ok(Json(call.message(&conversation.service_sid, message)))
}

async fn update_message(
    WebhookEnabled(webhooks): WebhookEnabled,
    call: ApiCall<ConversationItemPath<ConversationMessageSid>, MessageForm>,
) -> Result<Json<MessageResource>> {
    let (call, form) = call.split_form();
    if form.media_sid.is_some() || form.content_sid.is_some() {
        return Err(crate::error::Error::invalid(
            "Invalid parameters: MediaSid and ContentSid cannot be updated",
        ));
    }
    let input = form.input()?;
    let (conversation, message) = rules::update_message(
        &call.core,
        &call.principal,
        call.scope(),
        &call.path.conversation,
        &call.path.sid,
        input,
        webhooks,
    )
    .await?;
    Ok(Json(call.message(&conversation.service_sid, message)))
}

async fn delete_message(
    WebhookEnabled(webhooks): WebhookEnabled,
    call: ApiCall<ConversationItemPath<ConversationMessageSid>>,
) -> Result<StatusCode> {
    rules::delete_conversation_message(
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
