//! Roles on both path families: `/v1/Roles[/{Sid}]` and `/v1/Services/{ServiceSid}/Roles[/{Sid}]`.

use axum::{Json, Router, extract::State, http::StatusCode, routing::get};
use serde::{Deserialize, Serialize};

use super::extract::{Family, InstancePath, ListPath, MAX_PAGE, on_both_families};
use crate::{
    domain::{
        conversations::{Role, RoleInput, roles},
        sid::{AccountSid, RoleSid, ServiceSid},
        time::iso8601,
    },
    error::Result,
    http::{
        extract::{Authed, TwilioForm, TwilioPath, TwilioQuery},
        paging::{PagingParams, V1Page, v1_page},
        state::AppState,
        urls::BaseUrl,
    },
};

pub fn routes() -> Router<AppState> {
    on_both_families(
        "/Roles",
        get(list_roles).post(create_role),
        Some(get(fetch_role).post(update_role).delete(delete_role)),
    )
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
    /// `prefix`: the absolute URL of the path family used.
    fn new(r: Role, prefix: &str) -> Self {
        Self {
            url: format!("{prefix}/Roles/{}", r.sid),
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

async fn create_role(
    State(state): State<AppState>,
    Authed(principal): Authed,
    BaseUrl(base): BaseUrl,
    TwilioPath(path): TwilioPath<ListPath>,
    TwilioForm(form): TwilioForm<RoleForm>,
) -> Result<(StatusCode, Json<RoleResource>)> {
    let input = RoleInput {
        friendly_name: form.friendly_name,
        kind: form.r#type,
        permissions: form.permission,
    };
    let (service, role) = roles::create_role(&state.core, &principal, path.scope(), input).await?;
    let prefix = format!("{base}{}", path.family_path(&service.sid));
    Ok((StatusCode::CREATED, Json(RoleResource::new(role, &prefix))))
}

async fn list_roles(
    State(state): State<AppState>,
    Authed(principal): Authed,
    BaseUrl(base): BaseUrl,
    TwilioPath(path): TwilioPath<ListPath>,
    TwilioQuery(paging): TwilioQuery<PagingParams>,
) -> Result<Json<V1Page<RoleResource>>> {
    let (service, mut page) = roles::list_roles(
        &state.core,
        &principal,
        path.scope(),
        paging.request(MAX_PAGE)?,
    )
    .await?;
    let family = path.family_path(&service.sid);
    let prefix = format!("{base}{family}");
    let items = std::mem::take(&mut page.items)
        .into_iter()
        .map(|r| RoleResource::new(r, &prefix))
        .collect();
    let list_path = format!("{family}/Roles");
    Ok(Json(v1_page("roles", items, &page, &base, &list_path, &[])))
}

async fn fetch_role(
    State(state): State<AppState>,
    Authed(principal): Authed,
    BaseUrl(base): BaseUrl,
    TwilioPath(path): TwilioPath<InstancePath<RoleSid>>,
) -> Result<Json<RoleResource>> {
    let (service, role) =
        roles::fetch_role(&state.core, &principal, path.scope(), &path.sid).await?;
    let prefix = format!("{base}{}", path.family_path(&service.sid));
    Ok(Json(RoleResource::new(role, &prefix)))
}

async fn update_role(
    State(state): State<AppState>,
    Authed(principal): Authed,
    BaseUrl(base): BaseUrl,
    TwilioPath(path): TwilioPath<InstancePath<RoleSid>>,
    TwilioForm(form): TwilioForm<RoleForm>,
) -> Result<Json<RoleResource>> {
    let (service, role) = roles::update_role(
        &state.core,
        &principal,
        path.scope(),
        &path.sid,
        form.permission,
    )
    .await?;
    let prefix = format!("{base}{}", path.family_path(&service.sid));
    Ok(Json(RoleResource::new(role, &prefix)))
}

async fn delete_role(
    State(state): State<AppState>,
    Authed(principal): Authed,
    TwilioPath(path): TwilioPath<InstancePath<RoleSid>>,
) -> Result<StatusCode> {
    roles::delete_role(&state.core, &principal, path.scope(), &path.sid).await?;
    Ok(StatusCode::NO_CONTENT)
}
