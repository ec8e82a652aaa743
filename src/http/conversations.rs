//! Conversations v1 (API.md §2.2): Services, Configuration, Roles and Users, each on both path
//! families: `/v1/Users…` (the account's default service) and `/v1/Services/{IS}/Users…`. One
//! handler serves both; `ScopedPath` tells them apart by the matched route. `url`/`links` follow
//! the family used and always carry the `US`/`RL` SID.

use axum::{
    Json, Router,
    extract::{FromRequestParts, MatchedPath, State},
    http::{StatusCode, request::Parts},
    routing::get,
};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    extract::{Authed, PathParams, TwilioForm, TwilioQuery, required},
    paging::{PagingParams, V1Page, v1_page},
    state::AppState,
    urls::BaseUrl,
};
use crate::{
    domain::{
        conversations::{self, ConfigInput, Scope, ServiceConfigInput, UserInput},
        paging::Page,
        time::iso8601,
    },
    error::{Error, Result},
    store::conversations::{ConfigurationRow, RoleRow, ServiceRow, UserRow},
};

/// Spec maximum `PageSize`: Services 100; Roles, Users and User Conversations 50.
const MAX_SERVICES_PAGE: u32 = 100;
const MAX_PAGE: u32 = 50;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/Configuration",
            get(fetch_configuration).post(update_configuration),
        )
        .route("/v1/Services", get(list_services).post(create_service))
        .route(
            "/v1/Services/{ServiceSid}",
            get(fetch_service).delete(delete_service),
        )
        .route(
            "/v1/Services/{ServiceSid}/Configuration",
            get(fetch_service_configuration).post(update_service_configuration),
        )
        .route("/v1/Roles", get(list_roles).post(create_role))
        .route(
            "/v1/Roles/{Sid}",
            get(fetch_role).post(update_role).delete(delete_role),
        )
        .route(
            "/v1/Services/{ServiceSid}/Roles",
            get(list_roles).post(create_role),
        )
        .route(
            "/v1/Services/{ServiceSid}/Roles/{Sid}",
            get(fetch_role).post(update_role).delete(delete_role),
        )
        .route("/v1/Users", get(list_users).post(create_user))
        .route(
            "/v1/Users/{Sid}",
            get(fetch_user).post(update_user).delete(delete_user),
        )
        .route(
            "/v1/Users/{Sid}/Conversations",
            get(list_user_conversations),
        )
        .route(
            "/v1/Services/{ServiceSid}/Users",
            get(list_users).post(create_user),
        )
        .route(
            "/v1/Services/{ServiceSid}/Users/{Sid}",
            get(fetch_user).post(update_user).delete(delete_user),
        )
        .route(
            "/v1/Services/{ServiceSid}/Users/{Sid}/Conversations",
            get(list_user_conversations),
        )
}

/// The path's service (for `/v1/Services/{IS}/…` routes) and the parameters after it.
pub struct ScopedPath {
    service: Option<String>,
    rest: Vec<String>,
}

impl ScopedPath {
    pub fn scope(&self) -> Scope<'_> {
        match &self.service {
            Some(sid) => Scope::Service(sid),
            None => Scope::Default,
        }
    }

    pub fn get(&self, n: usize) -> Result<&str> {
        self.rest.get(n).map(String::as_str).ok_or(Error::NotFound)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ScopedPath {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self> {
        let explicit = parts
            .extensions
            .get::<MatchedPath>()
            .is_some_and(|m| m.as_str().starts_with("/v1/Services/{ServiceSid}/"));
        let PathParams(mut params) = PathParams::from_request_parts(parts, state).await?;
        let service = if explicit && !params.is_empty() {
            Some(params.remove(0))
        } else {
            None
        };
        Ok(ScopedPath {
            service,
            rest: params,
        })
    }
}

/// `X-Twilio-Webhook-Enabled`: absent = false; `true`/`false` (the spec enum); anything else is
/// 400 20001 *(ours)*.
pub struct WebhookEnabled(pub bool);

impl<S: Send + Sync> FromRequestParts<S> for WebhookEnabled {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self> {
        match parts
            .headers
            .get("x-twilio-webhook-enabled")
            .map(|v| v.to_str())
        {
            None => Ok(WebhookEnabled(false)),
            Some(Ok("true")) => Ok(WebhookEnabled(true)),
            Some(Ok("false")) => Ok(WebhookEnabled(false)),
            Some(_) => Err(Error::invalid(
                "Invalid header X-Twilio-Webhook-Enabled: must be true or false",
            )),
        }
    }
}

/// `/v1` for the default family, `/v1/Services/{IS}` for the explicit one.
fn family(path: &ScopedPath, service_sid: &str) -> String {
    match path.service {
        Some(_) => format!("/v1/Services/{service_sid}"),
        None => "/v1".to_owned(),
    }
}

/// The absolute URL prefix of the family.
fn prefix(base: &str, path: &ScopedPath, service_sid: &str) -> String {
    format!("{base}{}", family(path, service_sid))
}

fn service_json(s: &ServiceRow, base: &str) -> Value {
    let url = format!("{base}/v1/Services/{}", s.sid);
    json!({
        "account_sid": s.account_sid,
        "sid": s.sid,
        "friendly_name": s.friendly_name,
        "date_created": iso8601(s.date_created),
        "date_updated": iso8601(s.date_updated),
        "url": url,
        "links": {
            "conversations": format!("{url}/Conversations"),
            "users": format!("{url}/Users"),
            "roles": format!("{url}/Roles"),
            "bindings": format!("{url}/Bindings"),
            "configuration": format!("{url}/Configuration"),
            "participant_conversations": format!("{url}/ParticipantConversations"),
            "conversation_with_participants": format!("{url}/ConversationWithParticipants"),
        },
    })
}

fn role_json(r: &RoleRow, prefix: &str) -> Value {
    let permissions: Value = serde_json::from_str(&r.permissions).unwrap_or_else(|_| json!([]));
    json!({
        "sid": r.sid,
        "account_sid": r.account_sid,
        "chat_service_sid": r.service_sid,
        "friendly_name": r.friendly_name,
        "type": r.r#type,
        "permissions": permissions,
        "date_created": iso8601(r.date_created),
        "date_updated": iso8601(r.date_updated),
        "url": format!("{prefix}/Roles/{}", r.sid),
    })
}

/// `conversations.v1.user` / `…service_user`. `is_online`/`is_notifiable` are null: there is no
/// reachability model (DESIGN.md).
pub fn user_json(u: &UserRow, prefix: &str) -> Value {
    let url = format!("{prefix}/Users/{}", u.sid);
    json!({
        "sid": u.sid,
        "account_sid": u.account_sid,
        "chat_service_sid": u.service_sid,
        "role_sid": u.role_sid,
        "identity": u.identity,
        "friendly_name": u.friendly_name,
        "attributes": u.attributes,
        "is_online": null,
        "is_notifiable": null,
        "date_created": iso8601(u.date_created),
        "date_updated": iso8601(u.date_updated),
        "links": { "user_conversations": format!("{url}/Conversations") },
        "url": url,
    })
}

fn configuration_json(c: &ConfigurationRow, base: &str) -> Value {
    json!({
        "account_sid": c.account_sid,
        "default_chat_service_sid": c.default_chat_service_sid,
        "default_messaging_service_sid": c.default_messaging_service_sid,
        "default_inactive_timer": c.default_inactive_timer,
        "default_closed_timer": c.default_closed_timer,
        "url": format!("{base}/v1/Configuration"),
        "links": {
            "service": format!("{base}/v1/Services/{}/Configuration", c.default_chat_service_sid),
            "webhooks": format!("{base}/v1/Configuration/Webhooks"),
        },
    })
}

fn service_configuration_json(s: &ServiceRow, base: &str) -> Value {
    let url = format!("{base}/v1/Services/{}/Configuration", s.sid);
    json!({
        "chat_service_sid": s.sid,
        "default_conversation_creator_role_sid": s.default_conversation_creator_role_sid,
        "default_conversation_role_sid": s.default_conversation_role_sid,
        "default_chat_service_role_sid": s.default_chat_service_role_sid,
        "reachability_enabled": s.reachability_enabled,
        "links": {
            "notifications": format!("{url}/Notifications"),
            "webhooks": format!("{url}/Webhooks"),
        },
        "url": url,
    })
}

// ---- services ----

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ServiceForm {
    friendly_name: Option<String>,
}

async fn create_service(
    State(state): State<AppState>,
    Authed(principal): Authed,
    BaseUrl(base): BaseUrl,
    TwilioForm(form): TwilioForm<ServiceForm>,
) -> Result<(StatusCode, Json<Value>)> {
    let name = required(form.friendly_name, "FriendlyName")?;
    let service = conversations::create_service(&state.core, &principal, &name).await?;
    Ok((StatusCode::CREATED, Json(service_json(&service, &base))))
}

async fn list_services(
    State(state): State<AppState>,
    Authed(principal): Authed,
    BaseUrl(base): BaseUrl,
    TwilioQuery(paging): TwilioQuery<PagingParams>,
) -> Result<Json<V1Page<Value>>> {
    let page =
        conversations::list_services(&state.core, &principal, paging.request(MAX_SERVICES_PAGE)?)
            .await?;
    let items = page.items.iter().map(|s| service_json(s, &base)).collect();
    Ok(Json(v1_page(
        "services",
        items,
        &page,
        &base,
        "/v1/Services",
        &[],
    )))
}

async fn fetch_service(
    State(state): State<AppState>,
    Authed(principal): Authed,
    BaseUrl(base): BaseUrl,
    path: PathParams,
) -> Result<Json<Value>> {
    let service =
        conversations::resolve(&state.core, &principal, Scope::Service(path.get(0)?)).await?;
    Ok(Json(service_json(&service, &base)))
}

async fn delete_service(
    State(state): State<AppState>,
    Authed(principal): Authed,
    path: PathParams,
) -> Result<StatusCode> {
    conversations::delete_service(&state.core, &principal, path.get(0)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- configuration ----

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ConfigForm {
    default_chat_service_sid: Option<String>,
    default_messaging_service_sid: Option<String>,
    default_inactive_timer: Option<String>,
    default_closed_timer: Option<String>,
}

async fn fetch_configuration(
    State(state): State<AppState>,
    Authed(principal): Authed,
    BaseUrl(base): BaseUrl,
) -> Result<Json<Value>> {
    let config = conversations::configuration(&state.core, &principal).await?;
    Ok(Json(configuration_json(&config, &base)))
}

async fn update_configuration(
    State(state): State<AppState>,
    Authed(principal): Authed,
    BaseUrl(base): BaseUrl,
    TwilioForm(form): TwilioForm<ConfigForm>,
) -> Result<Json<Value>> {
    let input = ConfigInput {
        default_chat_service_sid: form.default_chat_service_sid,
        default_messaging_service_sid: form.default_messaging_service_sid,
        default_inactive_timer: form.default_inactive_timer,
        default_closed_timer: form.default_closed_timer,
    };
    let config = conversations::update_configuration(&state.core, &principal, input).await?;
    Ok(Json(configuration_json(&config, &base)))
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
    State(state): State<AppState>,
    Authed(principal): Authed,
    BaseUrl(base): BaseUrl,
    path: PathParams,
) -> Result<Json<Value>> {
    let service =
        conversations::resolve(&state.core, &principal, Scope::Service(path.get(0)?)).await?;
    Ok(Json(service_configuration_json(&service, &base)))
}

async fn update_service_configuration(
    State(state): State<AppState>,
    Authed(principal): Authed,
    BaseUrl(base): BaseUrl,
    path: PathParams,
    TwilioForm(form): TwilioForm<ServiceConfigForm>,
) -> Result<Json<Value>> {
    let reachability_enabled = match form.reachability_enabled.as_deref() {
        None => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(_) => {
            return Err(Error::invalid(
                "Invalid parameter ReachabilityEnabled: must be true or false",
            ));
        }
    };
    let input = ServiceConfigInput {
        default_chat_service_role_sid: form.default_chat_service_role_sid,
        default_conversation_role_sid: form.default_conversation_role_sid,
        default_conversation_creator_role_sid: form.default_conversation_creator_role_sid,
        reachability_enabled,
    };
    let service =
        conversations::update_service_configuration(&state.core, &principal, path.get(0)?, input)
            .await?;
    Ok(Json(service_configuration_json(&service, &base)))
}

// ---- roles ----

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
    path: ScopedPath,
    TwilioForm(form): TwilioForm<RoleForm>,
) -> Result<(StatusCode, Json<Value>)> {
    let (service, role) = conversations::create_role(
        &state.core,
        &principal,
        path.scope(),
        form.friendly_name,
        form.r#type,
        form.permission,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(role_json(&role, &prefix(&base, &path, &service.sid))),
    ))
}

async fn list_roles(
    State(state): State<AppState>,
    Authed(principal): Authed,
    BaseUrl(base): BaseUrl,
    path: ScopedPath,
    TwilioQuery(paging): TwilioQuery<PagingParams>,
) -> Result<Json<V1Page<Value>>> {
    let (service, page) = conversations::list_roles(
        &state.core,
        &principal,
        path.scope(),
        paging.request(MAX_PAGE)?,
    )
    .await?;
    let prefix = prefix(&base, &path, &service.sid);
    let items = page.items.iter().map(|r| role_json(r, &prefix)).collect();
    let list_path = format!("{}/Roles", family(&path, &service.sid));
    Ok(Json(v1_page("roles", items, &page, &base, &list_path, &[])))
}

async fn fetch_role(
    State(state): State<AppState>,
    Authed(principal): Authed,
    BaseUrl(base): BaseUrl,
    path: ScopedPath,
) -> Result<Json<Value>> {
    let (service, role) =
        conversations::fetch_role(&state.core, &principal, path.scope(), path.get(0)?).await?;
    Ok(Json(role_json(&role, &prefix(&base, &path, &service.sid))))
}

async fn update_role(
    State(state): State<AppState>,
    Authed(principal): Authed,
    BaseUrl(base): BaseUrl,
    path: ScopedPath,
    TwilioForm(form): TwilioForm<RoleForm>,
) -> Result<Json<Value>> {
    let (service, role) = conversations::update_role(
        &state.core,
        &principal,
        path.scope(),
        path.get(0)?,
        form.permission,
    )
    .await?;
    Ok(Json(role_json(&role, &prefix(&base, &path, &service.sid))))
}

async fn delete_role(
    State(state): State<AppState>,
    Authed(principal): Authed,
    path: ScopedPath,
) -> Result<StatusCode> {
    conversations::delete_role(&state.core, &principal, path.scope(), path.get(0)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- users ----

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

async fn create_user(
    State(state): State<AppState>,
    Authed(principal): Authed,
    BaseUrl(base): BaseUrl,
    WebhookEnabled(webhooks): WebhookEnabled,
    path: ScopedPath,
    TwilioForm(form): TwilioForm<UserForm>,
) -> Result<(StatusCode, Json<Value>)> {
    let (identity, input) = form.input();
    let (service, user) = conversations::create_user(
        &state.core,
        &principal,
        path.scope(),
        identity,
        input,
        webhooks,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(user_json(&user, &prefix(&base, &path, &service.sid))),
    ))
}

async fn list_users(
    State(state): State<AppState>,
    Authed(principal): Authed,
    BaseUrl(base): BaseUrl,
    path: ScopedPath,
    TwilioQuery(paging): TwilioQuery<PagingParams>,
) -> Result<Json<V1Page<Value>>> {
    let (service, page) = conversations::list_users(
        &state.core,
        &principal,
        path.scope(),
        paging.request(MAX_PAGE)?,
    )
    .await?;
    let prefix = prefix(&base, &path, &service.sid);
    let items = page.items.iter().map(|u| user_json(u, &prefix)).collect();
    let list_path = format!("{}/Users", family(&path, &service.sid));
    Ok(Json(v1_page("users", items, &page, &base, &list_path, &[])))
}

async fn fetch_user(
    State(state): State<AppState>,
    Authed(principal): Authed,
    BaseUrl(base): BaseUrl,
    path: ScopedPath,
) -> Result<Json<Value>> {
    let user =
        conversations::fetch_user(&state.core, &principal, path.scope(), path.get(0)?).await?;
    Ok(Json(user_json(
        &user,
        &prefix(&base, &path, &user.service_sid),
    )))
}

async fn update_user(
    State(state): State<AppState>,
    Authed(principal): Authed,
    BaseUrl(base): BaseUrl,
    WebhookEnabled(webhooks): WebhookEnabled,
    path: ScopedPath,
    TwilioForm(form): TwilioForm<UserForm>,
) -> Result<Json<Value>> {
    let (_, input) = form.input();
    let update = conversations::update_user(
        &state.core,
        &principal,
        path.scope(),
        path.get(0)?,
        input,
        webhooks,
    )
    .await?;
    Ok(Json(user_json(
        &update.after,
        &prefix(&base, &path, &update.after.service_sid),
    )))
}

async fn delete_user(
    State(state): State<AppState>,
    Authed(principal): Authed,
    WebhookEnabled(webhooks): WebhookEnabled,
    path: ScopedPath,
) -> Result<StatusCode> {
    // Validated, but no event exists for a removed user (see domain::conversations::delete_user).
    let _ = webhooks;
    conversations::delete_user(&state.core, &principal, path.scope(), path.get(0)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Conversations are not modelled yet: the user's list is a correct empty page, so
/// `links.user_conversations` resolves *(ours)*. The user must exist.
async fn list_user_conversations(
    State(state): State<AppState>,
    Authed(principal): Authed,
    BaseUrl(base): BaseUrl,
    path: ScopedPath,
    TwilioQuery(paging): TwilioQuery<PagingParams>,
) -> Result<Json<V1Page<Value>>> {
    let user =
        conversations::fetch_user(&state.core, &principal, path.scope(), path.get(0)?).await?;
    let page: Page<()> = Page::from_rows(paging.request(MAX_PAGE)?, Vec::new(), |_| 0);
    let list_path = format!(
        "{}/Users/{}/Conversations",
        family(&path, &user.service_sid),
        user.sid
    );
    Ok(Json(v1_page(
        "conversations",
        Vec::new(),
        &page,
        &base,
        &list_path,
        &[],
    )))
}
