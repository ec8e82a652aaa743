//! Users on both path families: `/v1/Users[/{Sid}]` and `/v1/Services/{ServiceSid}/Users[/{Sid}]`.
//! `{Sid}` is the `US` SID or the identity; `url` and `links` always carry the `US` SID.

use axum::{Json, http::StatusCode, routing::get};
use serde::{Deserialize, Serialize};

use super::extract::{InstancePath, ListPath, MAX_PAGE, WebhookEnabled};
use crate::{
    domain::{
        conversations::{User, UserInput, users},
        sid::{AccountSid, RoleSid, ServiceSid, UserSid},
        time::iso8601,
    },
    error::Result,
    http::{
        call::{ApiCall, Created, Listed, created},
        paging::Paging,
        routing::routes,
        urls::{Links, links},
    },
};

routes! {
    both families:
    "/Users" => get(list_users).post(create_user),
    "/Users/{Sid}" => get(fetch_user).post(update_user).delete(delete_user),
}

/// `conversations.v1.user` / `…service_user`; fields in alphabetical order (see `services`).
/// `is_online`/`is_notifiable` are null: there is no reachability model (DESIGN.md).
#[derive(Serialize)]
struct UserResource {
    account_sid: AccountSid,
    attributes: String,
    chat_service_sid: ServiceSid,
    date_created: String,
    date_updated: String,
    friendly_name: Option<String>,
    identity: String,
    is_notifiable: Option<bool>,
    is_online: Option<bool>,
    links: Links,
    role_sid: Option<RoleSid>,
    sid: UserSid,
    url: String,
}

impl UserResource {
    /// `family_url`: see `ApiCall::family_url`.
    fn new(family_url: &str, u: User) -> Self {
        let url = format!("{family_url}/Users/{}", u.sid);
        Self {
            links: links(&url, &[("user_conversations", "Conversations")]),
            url,
            account_sid: u.account_sid,
            attributes: u.attributes,
            chat_service_sid: u.service_sid,
            date_created: iso8601(u.date_created),
            date_updated: iso8601(u.date_updated),
            friendly_name: u.friendly_name,
            identity: u.identity,
            is_notifiable: None,
            is_online: None,
            role_sid: u.role_sid,
            sid: u.sid,
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UserForm {
    identity: Option<String>,
    friendly_name: Option<String>,
    attributes: Option<String>,
    role_sid: Option<String>,
}

impl UserForm {
    fn input(self) -> (Option<String>, UserInput) {
        (
            self.identity,
            UserInput {
                friendly_name: self.friendly_name,
                attributes: self.attributes,
                role_sid: self.role_sid,
            },
        )
    }
}

// `WebhookEnabled` comes first in these handlers: the header is judged before the path.
async fn create_user(
    WebhookEnabled(webhooks): WebhookEnabled,
    call: ApiCall<ListPath, UserForm>,
) -> Result<Created<UserResource>> {
    let (call, form) = call.split_form();
    let (identity, input) = form.input();
    let scope = call.scope();
    let (_, user) = users::create_user(
        &call.core,
        &call.principal,
        scope,
        identity,
        input,
        webhooks,
    )
    .await?;
    created(call.family_resource(user, UserResource::new))
}

async fn list_users(
    call: ApiCall<ListPath>,
    Paging(request): Paging<MAX_PAGE>,
) -> Result<Listed<UserResource>> {
    let (service, page) =
        users::list_users(&call.core, &call.principal, call.scope(), request).await?;
    call.family_list("users", &service.sid, "/Users", page, UserResource::new)
}

async fn fetch_user(call: ApiCall<InstancePath<String>>) -> Result<Json<UserResource>> {
    let user = users::fetch_user(&call.core, &call.principal, call.scope(), &call.path.sid).await?;
    Ok(Json(call.family_resource(user, UserResource::new)))
}

async fn update_user(
    WebhookEnabled(webhooks): WebhookEnabled,
    call: ApiCall<InstancePath<String>, UserForm>,
) -> Result<Json<UserResource>> {
    let (call, form) = call.split_form();
    let (_, input) = form.input();
    let (scope, sid) = (call.scope(), &call.path.sid);
    let user = users::update_user(&call.core, &call.principal, scope, sid, input, webhooks).await?;
    Ok(Json(call.family_resource(user, UserResource::new)))
}

async fn delete_user(
    WebhookEnabled(webhooks): WebhookEnabled,
    call: ApiCall<InstancePath<String>>,
) -> Result<StatusCode> {
    // Validated, but no event exists for a removed user (see domain::conversations::users).
    let _ = webhooks;
    users::delete_user(&call.core, &call.principal, call.scope(), &call.path.sid).await?;
    Ok(StatusCode::NO_CONTENT)
}
