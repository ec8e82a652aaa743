//! `/v1/Services` and `/v1/Services/{ServiceSid}`.

use axum::{Json, http::StatusCode, routing::get};
use serde::{Deserialize, Serialize};

use crate::{
    domain::{
        conversations::{Service, services},
        sid::{AccountSid, ServiceSid},
        time::iso8601,
    },
    error::Result,
    http::{
        call::{ApiCall, Created, Listed, created},
        extract::required,
        paging::Paging,
        routing::routes,
        urls::{Links, links},
    },
};

/// Spec maximum `PageSize` of the Services list.
const MAX_SERVICES_PAGE: u32 = 100;

routes! {
    "/v1/Services" => get(list_services).post(create_service),
    "/v1/Services/{ServiceSid}" => get(fetch_service).delete(delete_service),
}

/// A service's `links`: its subresources.
const SERVICE_LINKS: &[(&str, &str)] = &[
    ("bindings", "Bindings"),
    ("configuration", "Configuration"),
    (
        "conversation_with_participants",
        "ConversationWithParticipants",
    ),
    ("conversations", "Conversations"),
    ("participant_conversations", "ParticipantConversations"),
    ("roles", "Roles"),
    ("users", "Users"),
];

/// `conversations.v1.service`; fields in alphabetical order (the bytes of the `Value` body this
/// replaced, see `http::paging::V1Page`).
#[derive(Serialize)]
struct ServiceResource {
    account_sid: AccountSid,
    date_created: String,
    date_updated: String,
    friendly_name: String,
    links: Links,
    sid: ServiceSid,
    url: String,
}

impl ServiceResource {
    fn new(s: Service, base: &str) -> Self {
        let url = format!("{base}/v1/Services/{}", s.sid);
        Self {
            links: links(&url, SERVICE_LINKS),
            url,
            account_sid: s.account_sid,
            date_created: iso8601(s.date_created),
            date_updated: iso8601(s.date_updated),
            friendly_name: s.friendly_name,
            sid: s.sid,
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ServiceForm {
    friendly_name: Option<String>,
}

async fn create_service(call: ApiCall<(), ServiceForm>) -> Result<Created<ServiceResource>> {
    let name = required(call.form.friendly_name, "FriendlyName")?;
    let service = services::create_service(&call.core, &call.principal, &name).await?;
    created(ServiceResource::new(service, &call.base))
}

async fn list_services(
    call: ApiCall,
    Paging(request): Paging<MAX_SERVICES_PAGE>,
) -> Result<Listed<ServiceResource>> {
    let page = services::list_services(&call.core, &call.principal, request).await?;
    call.v1_list("services", "/v1/Services", page, ServiceResource::new)
}

async fn fetch_service(call: ApiCall<ServiceSid>) -> Result<Json<ServiceResource>> {
    let service = services::fetch_service(&call.core, &call.principal, &call.path).await?;
    Ok(Json(ServiceResource::new(service, &call.base)))
}

async fn delete_service(call: ApiCall<ServiceSid>) -> Result<StatusCode> {
    services::delete_service(&call.core, &call.principal, &call.path).await?;
    Ok(StatusCode::NO_CONTENT)
}
