//! Roles on both path families: `/v1/Roles[/{Sid}]` and `/v1/Services/{ServiceSid}/Roles[/{Sid}]`.

use axum::{Json, http::StatusCode, routing::get};
use serde::{Deserialize, Serialize};

use super::extract::{InstancePath, ListPath, MAX_PAGE};
use crate::{
    domain::{
        conversations::{Role, RoleInput, roles},
        sid::{AccountSid, RoleSid, ServiceSid},
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
    "/Roles" => get(list_roles).post(create_role),
    "/Roles/{Sid}" => get(fetch_role).post(update_role).delete(delete_role),
}

/// `conversations.v1.role` / `…service_role`; fields in alphabetical order (see `services`).
#[derive(Serialize)]
struct RoleResource {
    account_sid: AccountSid,
    chat_service_sid: ServiceSid,
    date_created: String,
    date_updated: String,
    friendly_name: String,
    permissions: Vec<String>,
    sid: RoleSid,
    r#type: &'static str,
    url: String,
}

impl RoleResource {
    /// `family_url`: see `ApiCall::family_url`.
    fn new(family_url: &str, r: Role) -> Self {
        Self {
            url: format!("{family_url}/Roles/{}", r.sid),
            account_sid: r.account_sid,
            chat_service_sid: r.service_sid,
            date_created: iso8601(r.date_created),
            date_updated: iso8601(r.date_updated),
            friendly_name: r.friendly_name,
            permissions: r.permissions,
            sid: r.sid,
            r#type: r.kind,
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RoleForm {
    friendly_name: Option<String>,
    r#type: Option<String>,
    #[serde(default)]
    permission: Vec<String>,
}

async fn create_role(call: ApiCall<ListPath, RoleForm>) -> Result<Created<RoleResource>> {
    let (call, form) = call.split_form();
    let input = RoleInput {
        friendly_name: form.friendly_name,
        kind: form.r#type,
        permissions: form.permission,
    };
    let (_, role) = roles::create_role(&call.core, &call.principal, call.scope(), input).await?;
    created(call.family_resource(role, RoleResource::new))
}

async fn list_roles(
    call: ApiCall<ListPath>,
    Paging(request): Paging<MAX_PAGE>,
) -> Result<Listed<RoleResource>> {
    let (service, page) =
        roles::list_roles(&call.core, &call.principal, call.scope(), request).await?;
    call.family_list("roles", &service.sid, "/Roles", page, RoleResource::new)
}

async fn fetch_role(call: ApiCall<InstancePath<RoleSid>>) -> Result<Json<RoleResource>> {
    let (_, role) =
        roles::fetch_role(&call.core, &call.principal, call.scope(), &call.path.sid).await?;
    Ok(Json(call.family_resource(role, RoleResource::new)))
}

async fn update_role(call: ApiCall<InstancePath<RoleSid>, RoleForm>) -> Result<Json<RoleResource>> {
    let (call, form) = call.split_form();
    let scope = call.scope();
    let (_, role) = roles::update_role(
        &call.core,
        &call.principal,
        scope,
        &call.path.sid,
        form.permission,
    )
    .await?;
    Ok(Json(call.family_resource(role, RoleResource::new)))
}

async fn delete_role(call: ApiCall<InstancePath<RoleSid>>) -> Result<StatusCode> {
    roles::delete_role(&call.core, &call.principal, call.scope(), &call.path.sid).await?;
    Ok(StatusCode::NO_CONTENT)
}
