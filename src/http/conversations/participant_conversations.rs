//! ParticipantConversations on both path families:
//! `…/ParticipantConversations?Identity=…|Address=…`.

use axum::routing::get;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{
    conversations::timers,
    extract::{ListPath, MAX_PAGE},
    participants::messaging_binding,
    user_conversations::{CREATED_BY, Links, links},
};
use crate::{
    domain::{
        conversations::{participant_conversations as rules, user_conversations::Participation},
        sid::{AccountSid, ConversationSid, ParticipantSid, ServiceSid, UserSid},
        time::iso8601,
    },
    error::Result,
    http::{
        call::{ApiCall, Listed},
        extract::TwilioQuery,
        paging::Paging,
        routing::routes,
    },
};

routes! {
    both families:
    "/ParticipantConversations" => get(list_participant_conversations),
}

/// `conversations.v1.participant_conversation` / `…service_participant_conversation`; fields
/// in alphabetical order.
#[derive(Serialize)]
struct ParticipantConversationResource {
    account_sid: AccountSid,
    chat_service_sid: ServiceSid,
    conversation_attributes: String,
    conversation_created_by: &'static str,
    conversation_date_created: String,
    conversation_date_updated: String,
    conversation_friendly_name: Option<String>,
    conversation_sid: ConversationSid,
    conversation_state: String,
    conversation_timers: Value,
    conversation_unique_name: Option<String>,
    links: Links,
    participant_identity: Option<String>,
    participant_messaging_binding: Value,
    participant_sid: ParticipantSid,
    participant_user_sid: Option<UserSid>,
}

impl ParticipantConversationResource {
    fn new(family_url: &str, p: Participation) -> Self {
        let links = links(family_url, &p);
        let Participation {
            participant,
            conversation: c,
            ..
        } = p;
        Self {
            links,
            conversation_timers: timers(&c),
            participant_messaging_binding: messaging_binding(participant.binding.as_ref()),
            account_sid: c.account_sid,
            chat_service_sid: c.service_sid,
            conversation_attributes: c.attributes,
            conversation_created_by: CREATED_BY,
            conversation_date_created: iso8601(c.date_created),
            conversation_date_updated: iso8601(c.date_updated),
            conversation_friendly_name: c.friendly_name,
            conversation_sid: c.sid,
            conversation_state: c.state,
            conversation_unique_name: c.unique_name,
            participant_identity: participant.identity,
            participant_sid: participant.sid,
            participant_user_sid: participant.user_sid,
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ParticipantConversationQuery {
    identity: Option<String>,
    address: Option<String>,
}

async fn list_participant_conversations(
    call: ApiCall<ListPath>,
    TwilioQuery(query): TwilioQuery<ParticipantConversationQuery>,
    Paging(request): Paging<MAX_PAGE>,
) -> Result<Listed<ParticipantConversationResource>> {
    let (service, page) = rules::list_participant_conversations(
        &call.core,
        &call.principal,
        call.scope(),
        query.identity.as_deref(),
        query.address.as_deref(),
        request,
    )
    .await?;
    let filters: Vec<(&str, &str)> = [
        ("Identity", query.identity.as_deref()),
        ("Address", query.address.as_deref()),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.map(|v| (k, v)))
    .collect();
    call.family_list_filtered(
        "conversations",
        &service.sid,
        "/ParticipantConversations",
        &filters,
        page,
        ParticipantConversationResource::new,
    )
}
