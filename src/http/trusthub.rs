//! TrustHub v1 (API.md §2.3): EndUsers (list key `results`) and EndUserTypes.

use axum::{Json, Router, extract::State, http::StatusCode, routing::get};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    extract::{Authed, PathParams, TwilioForm, TwilioQuery, required, sid},
    paging::{PagingParams, V1Page, v1_page},
    state::AppState,
    urls::BaseUrl,
};
use crate::{
    domain::{
        sid::EndUserSid,
        time::iso8601,
        trusthub::{self, EndUser, EndUserType},
    },
    error::{Error, Result},
};

/// Spec maximum `PageSize` for both lists.
const MAX_PAGE_SIZE: u32 = 1000;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/EndUsers", get(list_end_users).post(create_end_user))
        .route(
            "/v1/EndUsers/{Sid}",
            get(fetch_end_user)
                .post(update_end_user)
                .delete(delete_end_user),
        )
        .route("/v1/EndUserTypes", get(list_end_user_types))
        .route("/v1/EndUserTypes/{Sid}", get(fetch_end_user_type))
}

/// `trusthub.v1.end_user`: `attributes` is a JSON object; no `links`.
fn end_user_json(user: &EndUser, base: &str) -> Value {
    json!({
        "sid": user.sid,
        "account_sid": user.account_sid,
        "friendly_name": user.friendly_name,
        "type": user.kind,
        "attributes": user.attributes,
        "date_created": iso8601(user.date_created),
        "date_updated": iso8601(user.date_updated),
        "url": format!("{base}/v1/EndUsers/{}", user.sid),
    })
}

/// `trusthub.v1.end_user_type`.
fn end_user_type_json(kind: &EndUserType, base: &str) -> Value {
    json!({
        "sid": kind.sid,
        "friendly_name": kind.friendly_name,
        "machine_name": kind.machine_name,
        "fields": kind.fields,
        "url": format!("{base}/v1/EndUserTypes/{}", kind.sid),
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct EndUserForm {
    friendly_name: Option<String>,
    r#type: Option<String>,
    attributes: Option<String>,
}

async fn create_end_user(
    State(state): State<AppState>,
    Authed(principal): Authed,
    BaseUrl(base): BaseUrl,
    TwilioForm(form): TwilioForm<EndUserForm>,
) -> Result<(StatusCode, Json<Value>)> {
    let friendly_name = required(form.friendly_name, "FriendlyName")?;
    let kind = required(form.r#type, "Type")?;
    let user = trusthub::create(
        &state.core,
        &principal,
        &friendly_name,
        &kind,
        form.attributes.as_deref(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(end_user_json(&user, &base))))
}

async fn list_end_users(
    State(state): State<AppState>,
    Authed(principal): Authed,
    BaseUrl(base): BaseUrl,
    TwilioQuery(paging): TwilioQuery<PagingParams>,
) -> Result<Json<V1Page<Value>>> {
    let page = trusthub::list(&state.core, &principal, paging.request(MAX_PAGE_SIZE)?).await?;
    let items = page.items.iter().map(|u| end_user_json(u, &base)).collect();
    Ok(Json(v1_page(
        "results",
        items,
        &page,
        &base,
        "/v1/EndUsers",
        &[],
    )))
}

fn end_user_sid(path: &PathParams) -> Result<EndUserSid> {
    sid(path.get(0)?, EndUserSid::parse)
}

async fn fetch_end_user(
    State(state): State<AppState>,
    Authed(principal): Authed,
    BaseUrl(base): BaseUrl,
    path: PathParams,
) -> Result<Json<Value>> {
    let user = trusthub::fetch(&state.core, &principal, &end_user_sid(&path)?).await?;
    Ok(Json(end_user_json(&user, &base)))
}

async fn update_end_user(
    State(state): State<AppState>,
    Authed(principal): Authed,
    BaseUrl(base): BaseUrl,
    path: PathParams,
    TwilioForm(form): TwilioForm<EndUserForm>,
) -> Result<Json<Value>> {
    let sid = end_user_sid(&path)?;
    trusthub::fetch(&state.core, &principal, &sid).await?;
    // UpdateEndUser takes only FriendlyName and Attributes: the type is fixed at creation.
    if form.r#type.is_some() {
        return Err(Error::invalid(
            "Invalid parameter Type: an end user's type cannot be changed",
        ));
    }
    let friendly_name = form.friendly_name.filter(|n| !n.is_empty());
    let user = trusthub::update(
        &state.core,
        &principal,
        &sid,
        friendly_name.as_deref(),
        form.attributes.as_deref(),
    )
    .await?;
    Ok(Json(end_user_json(&user, &base)))
}

async fn delete_end_user(
    State(state): State<AppState>,
    Authed(principal): Authed,
    path: PathParams,
) -> Result<StatusCode> {
    trusthub::delete(&state.core, &principal, &end_user_sid(&path)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn list_end_user_types(
    State(state): State<AppState>,
    Authed(_): Authed,
    BaseUrl(base): BaseUrl,
    TwilioQuery(paging): TwilioQuery<PagingParams>,
) -> Result<Json<V1Page<Value>>> {
    let page = trusthub::list_types(&state.core, paging.request(MAX_PAGE_SIZE)?).await?;
    let items = page
        .items
        .iter()
        .map(|t| end_user_type_json(t, &base))
        .collect();
    Ok(Json(v1_page(
        "end_user_types",
        items,
        &page,
        &base,
        "/v1/EndUserTypes",
        &[],
    )))
}

async fn fetch_end_user_type(
    State(state): State<AppState>,
    Authed(_): Authed,
    BaseUrl(base): BaseUrl,
    path: PathParams,
) -> Result<Json<Value>> {
    let kind = trusthub::fetch_type(&state.core, path.get(0)?).await?;
    Ok(Json(end_user_type_json(&kind, &base)))
}
