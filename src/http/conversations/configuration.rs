//! `/v1/Configuration` (the account's) and `/v1/Services/{ServiceSid}/Configuration` (a
//! service's).

use axum::{Json, routing::get};
use serde::{Deserialize, Serialize};

use crate::{
    domain::{
        conversations::{
            ConfigInput, Configuration, Service, ServiceConfigInput, configuration as rules,
            services,
        },
        sid::{AccountSid, RoleSid, ServiceSid},
    },
    error::Result,
    http::{
        call::ApiCall,
        extract::true_or_false,
        routing::routes,
        urls::{Links, links},
    },
};

routes! {
    "/v1/Configuration" => get(fetch_configuration).post(update_configuration),
    "/v1/Services/{ServiceSid}/Configuration" =>
        get(fetch_service_configuration).post(update_service_configuration),
}

/// `conversations.v1.configuration`; fields in alphabetical order (see `services`).
#[derive(Serialize)]
struct ConfigurationResource {
    account_sid: AccountSid,
    default_chat_service_sid: ServiceSid,
    default_closed_timer: Option<String>,
    default_inactive_timer: Option<String>,
    default_messaging_service_sid: Option<String>,
    links: ConfigurationLinks,
    url: String,
}

#[derive(Serialize)]
struct ConfigurationLinks {
    service: String,
    webhooks: String,
}

impl ConfigurationResource {
    fn new(c: Configuration, base: &str) -> Self {
        Self {
            links: ConfigurationLinks {
                service: format!(
                    "{base}/v1/Services/{}/Configuration",
                    c.default_chat_service_sid
                ),
                webhooks: format!("{base}/v1/Configuration/Webhooks"),
            },
            url: format!("{base}/v1/Configuration"),
            account_sid: c.account_sid,
            default_chat_service_sid: c.default_chat_service_sid,
            default_closed_timer: c.default_closed_timer,
            default_inactive_timer: c.default_inactive_timer,
            default_messaging_service_sid: c.default_messaging_service_sid,
        }
    }
}

/// `conversations.v1.service.service_configuration`; fields in alphabetical order.
#[derive(Serialize)]
struct ServiceConfigurationResource {
    chat_service_sid: ServiceSid,
    default_chat_service_role_sid: Option<RoleSid>,
    default_conversation_creator_role_sid: Option<RoleSid>,
    default_conversation_role_sid: Option<RoleSid>,
    links: Links,
    reachability_enabled: bool,
    url: String,
}

impl ServiceConfigurationResource {
    fn new(s: Service, base: &str) -> Self {
        let url = format!("{base}/v1/Services/{}/Configuration", s.sid);
        Self {
            links: links(
                &url,
                &[("notifications", "Notifications"), ("webhooks", "Webhooks")],
            ),
            url,
            chat_service_sid: s.sid,
            default_chat_service_role_sid: s.default_chat_service_role_sid,
            default_conversation_creator_role_sid: s.default_conversation_creator_role_sid,
            default_conversation_role_sid: s.default_conversation_role_sid,
            reachability_enabled: s.reachability_enabled,
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ConfigForm {
    default_chat_service_sid: Option<String>,
    default_messaging_service_sid: Option<String>,
    default_inactive_timer: Option<String>,
    default_closed_timer: Option<String>,
}

async fn fetch_configuration(call: ApiCall) -> Result<Json<ConfigurationResource>> {
    let config = rules::configuration(&call.core, &call.principal).await?;
    Ok(Json(ConfigurationResource::new(config, &call.base)))
}

async fn update_configuration(
    call: ApiCall<(), ConfigForm>,
) -> Result<Json<ConfigurationResource>> {
    let input = ConfigInput {
        default_chat_service_sid: call.form.default_chat_service_sid,
        default_messaging_service_sid: call.form.default_messaging_service_sid,
        default_inactive_timer: call.form.default_inactive_timer,
        default_closed_timer: call.form.default_closed_timer,
    };
    let config = rules::update_configuration(&call.core, &call.principal, input).await?;
    Ok(Json(ConfigurationResource::new(config, &call.base)))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ServiceConfigForm {
    default_conversation_creator_role_sid: Option<String>,
    default_conversation_role_sid: Option<String>,
    default_chat_service_role_sid: Option<String>,
    reachability_enabled: Option<String>,
}

async fn fetch_service_configuration(
    call: ApiCall<ServiceSid>,
) -> Result<Json<ServiceConfigurationResource>> {
    let service = services::fetch_service(&call.core, &call.principal, &call.path).await?;
    Ok(Json(ServiceConfigurationResource::new(service, &call.base)))
}

async fn update_service_configuration(
    call: ApiCall<ServiceSid, ServiceConfigForm>,
) -> Result<Json<ServiceConfigurationResource>> {
    let reachability = true_or_false(
        call.form.reachability_enabled.as_deref(),
        "parameter ReachabilityEnabled",
    )?;
    let input = ServiceConfigInput {
        default_chat_service_role_sid: call.form.default_chat_service_role_sid,
        default_conversation_role_sid: call.form.default_conversation_role_sid,
        default_conversation_creator_role_sid: call.form.default_conversation_creator_role_sid,
        reachability_enabled: reachability,
    };
    let service =
        rules::update_service_configuration(&call.core, &call.principal, &call.path, input).await?;
    Ok(Json(ServiceConfigurationResource::new(service, &call.base)))
}
