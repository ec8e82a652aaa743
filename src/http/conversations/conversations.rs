//! Conversations on both path families: `/v1/Conversations[/{Sid}]` and
//! `/v1/Services/{ServiceSid}/Conversations[/{Sid}]`. `{Sid}` is the `CH` SID or the unique
//! name; `url` and `links` always carry the SID.

use axum::{Json, http::StatusCode, routing::get};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::extract::{ConversationPath, ListPath, WebhookEnabled};
use crate::{
    domain::{
        conversations::conversations::{
            self as rules, Conversation, ConversationInput, ListFilter,
        },
        sid::{AccountSid, ConversationSid, ServiceSid},
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
    "/Conversations" => get(list_conversations).post(create_conversation),
    "/Conversations/{ConversationSid}" =>
        get(fetch_conversation).post(update_conversation).delete(delete_conversation),
}

/// Spec maximum `PageSize` of Conversations, Participants and Messages.
pub const MAX_PAGE: u32 = 100;

/// `timers`: `{}`, or the absolute times the timers fire.
pub fn timers(c: &Conversation) -> Value {
    let mut out = serde_json::Map::new();
    if let Some(at) = c.date_inactive {
        out.insert("date_inactive".into(), iso8601(at).into());
    }
    if let Some(at) = c.date_closed {
        out.insert("date_closed".into(), iso8601(at).into());
    }
    Value::Object(out)
}

/// `bindings`: `{}`, or the email binding.
fn bindings(c: &Conversation) -> Value {
    if c.email_address.is_none() && c.email_name.is_none() {
        return json!({});
    }
    json!({"email": {"address": c.email_address, "name": c.email_name}})
}

/// `conversations.v1.conversation` / `…service_conversation` /
/// `…conversation_with_participants`; fields in alphabetical order (see `services`).
#[derive(Serialize)]
pub struct ConversationResource {
    account_sid: AccountSid,
    attributes: String,
    bindings: Value,
    chat_service_sid: ServiceSid,
    date_created: String,
    date_updated: String,
    friendly_name: Option<String>,
    links: Links,
    messaging_service_sid: Option<String>,
    sid: ConversationSid,
    state: String,
    timers: Value,
    unique_name: Option<String>,
    url: String,
}

const CONVERSATION_LINKS: &[(&str, &str)] = &[
    ("participants", "Participants"),
    ("messages", "Messages"),
    ("webhooks", "Webhooks"),
    // In the spec's examples, though the spec has no such route: following it is 404.
    ("export", "Export"),
];

impl ConversationResource {
    /// `family_url`: see `ApiCall::family_url`.
    pub fn new(family_url: &str, c: Conversation) -> Self {
        Self::with_links(family_url, c, CONVERSATION_LINKS)
    }

    /// ConversationWithParticipants' answer: its examples have no `export` link.
    pub fn without_export(family_url: &str, c: Conversation) -> Self {
        Self::with_links(family_url, c, &CONVERSATION_LINKS[..3])
    }

    fn with_links(
        family_url: &str,
        c: Conversation,
        subresources: &[(&'static str, &str)],
    ) -> Self {
        let url = format!("{family_url}/Conversations/{}", c.sid);
        Self {
            links: links(&url, subresources),
            url,
            timers: timers(&c),
            bindings: bindings(&c),
            account_sid: c.account_sid,
            attributes: c.attributes,
            chat_service_sid: c.service_sid,
            date_created: iso8601(c.date_created),
            date_updated: iso8601(c.date_updated),
            friendly_name: c.friendly_name,
            messaging_service_sid: c.messaging_service_sid,
            sid: c.sid,
            state: c.state,
            unique_name: c.unique_name,
        }
    }
}

/// The create/update form (identical on both families; ConversationWithParticipants adds
/// `Participant`).
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ConversationForm {
    friendly_name: Option<String>,
    unique_name: Option<String>,
    date_created: Option<String>,
    date_updated: Option<String>,
    messaging_service_sid: Option<String>,
    attributes: Option<String>,
    state: Option<String>,
    #[serde(rename = "Timers.Inactive")]
    timers_inactive: Option<String>,
    #[serde(rename = "Timers.Closed")]
    timers_closed: Option<String>,
    #[serde(rename = "Bindings.Email.Address")]
    bindings_email_address: Option<String>,
    #[serde(rename = "Bindings.Email.Name")]
    bindings_email_name: Option<String>,
    #[serde(default)]
    pub participant: Vec<String>,
}

impl ConversationForm {
    pub fn input(&mut self) -> ConversationInput {
        ConversationInput {
            friendly_name: self.friendly_name.take(),
            unique_name: self.unique_name.take(),
            attributes: self.attributes.take(),
            messaging_service_sid: self.messaging_service_sid.take(),
            state: self.state.take(),
            timer_inactive: self.timers_inactive.take(),
            timer_closed: self.timers_closed.take(),
            email_address: self.bindings_email_address.take(),
            email_name: self.bindings_email_name.take(),
            date_created: self.date_created.take(),
            date_updated: self.date_updated.take(),
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListQuery {
    start_date: Option<String>,
    end_date: Option<String>,
    state: Option<String>,
}

async fn create_conversation(
    WebhookEnabled(webhooks): WebhookEnabled,
    call: ApiCall<ListPath, ConversationForm>,
) -> Result<Created<ConversationResource>> {
    let (call, mut form) = call.split_form();
    let input = form.input();
    let (_, conversation) =
        rules::create_conversation(&call.core, &call.principal, call.scope(), input, webhooks)
            .await?;
    created(call.family_resource(conversation, ConversationResource::new))
}

async fn list_conversations(
    call: ApiCall<ListPath>,
    TwilioQuery(query): TwilioQuery<ListQuery>,
    Paging(request): Paging<MAX_PAGE>,
) -> Result<Listed<ConversationResource>> {
    let filter = ListFilter {
        state: query.state,
        start_date: query.start_date,
        end_date: query.end_date,
    };
    let (service, page) =
        rules::list_conversations(&call.core, &call.principal, call.scope(), &filter, request)
            .await?;
    let filters: Vec<(&str, &str)> = [
        ("StartDate", filter.start_date.as_deref()),
        ("EndDate", filter.end_date.as_deref()),
        ("State", filter.state.as_deref()),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.map(|v| (k, v)))
    .collect();
    call.family_list_filtered(
        "conversations",
        &service.sid,
        "/Conversations",
        &filters,
        page,
        ConversationResource::new,
    )
}

async fn fetch_conversation(call: ApiCall<ConversationPath>) -> Result<Json<ConversationResource>> {
    let (_, conversation) = rules::find(
        &call.core,
        &call.principal,
        call.scope(),
        &call.path.conversation,
    )
    .await?;
    Ok(Json(
        call.family_resource(conversation, ConversationResource::new),
    ))
}

async fn update_conversation(
    WebhookEnabled(webhooks): WebhookEnabled,
    call: ApiCall<ConversationPath, ConversationForm>,
) -> Result<Json<ConversationResource>> {
    let (call, mut form) = call.split_form();
    let input = form.input();
    let conversation = rules::update_conversation(
        &call.core,
        &call.principal,
        call.scope(),
        &call.path.conversation,
        input,
        webhooks,
    )
    .await?;
    Ok(Json(
        call.family_resource(conversation, ConversationResource::new),
    ))
}

async fn delete_conversation(
    WebhookEnabled(webhooks): WebhookEnabled,
    call: ApiCall<ConversationPath>,
) -> Result<StatusCode> {
    rules::delete_conversation(
        &call.core,
        &call.principal,
        call.scope(),
        &call.path.conversation,
        webhooks,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
