//! `/v1/EndUsers[/{Sid}]`: `trusthub.v1.end_user` (list key `results`).

use axum::{Json, http::StatusCode, routing::get};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{
    domain::{
        required,
        sid::{AccountSid, EndUserSid},
        time::iso8601,
        trusthub::end_users::{self, EndUser},
    },
    error::{Error, Result},
    http::{
        call::{ApiCall, Created, Listed, created},
        paging::Paging,
        routing::routes,
    },
};

routes! {
    "/v1/EndUsers" => get(list_end_users).post(create_end_user),
    "/v1/EndUsers/{Sid}" => get(fetch_end_user).post(update_end_user).delete(delete_end_user),
}

/// `trusthub.v1.end_user`: `attributes` is a JSON object; no `links`. Fields in sorted order
/// (see `http::paging::V1Page`).
#[derive(Serialize)]
struct EndUserResource {
    account_sid: AccountSid,
    attributes: Value,
    date_created: String,
    date_updated: String,
    friendly_name: String,
    sid: EndUserSid,
    r#type: String,
    url: String,
}

impl EndUserResource {
    fn new(user: EndUser, base: &str) -> Self {
        Self {
            url: format!("{base}/v1/EndUsers/{}", user.sid),
            account_sid: user.account_sid,
            attributes: user.attributes,
            date_created: iso8601(user.date_created),
            date_updated: iso8601(user.date_updated),
            friendly_name: user.friendly_name,
            sid: user.sid,
            r#type: user.kind,
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct EndUserForm {
    friendly_name: Option<String>,
    r#type: Option<String>,
    attributes: Option<String>,
}

async fn create_end_user(call: ApiCall<(), EndUserForm>) -> Result<Created<EndUserResource>> {
    let friendly_name = required(call.form.friendly_name, "FriendlyName")?;
    let kind = required(call.form.r#type, "Type")?;
    let attributes = call.form.attributes.as_deref();
    let user = end_users::create(
        &call.core,
        &call.principal,
        &friendly_name,
        &kind,
        attributes,
    )
    .await?;
    created(EndUserResource::new(user, &call.base))
}

async fn list_end_users(call: ApiCall, Paging(request): Paging) -> Result<Listed<EndUserResource>> {
    let page = end_users::list(&call.core, &call.principal, request).await?;
    call.v1_list("results", "/v1/EndUsers", page, EndUserResource::new)
}

async fn fetch_end_user(call: ApiCall<EndUserSid>) -> Result<Json<EndUserResource>> {
    let user = end_users::fetch(&call.core, &call.principal, &call.path).await?;
    Ok(Json(EndUserResource::new(user, &call.base)))
}

async fn update_end_user(call: ApiCall<EndUserSid, EndUserForm>) -> Result<Json<EndUserResource>> {
    end_users::fetch(&call.core, &call.principal, &call.path).await?;
    // UpdateEndUser takes only FriendlyName and Attributes: the type is fixed at creation.
    if call.form.r#type.is_some() {
        return Err(Error::invalid(
            "Invalid parameter Type: an end user's type cannot be changed",
        ));
    }
    let friendly_name = call.form.friendly_name.filter(|n| !n.is_empty());
    let (name, attributes) = (friendly_name.as_deref(), call.form.attributes.as_deref());
    let user = end_users::update(&call.core, &call.principal, &call.path, name, attributes).await?;
    Ok(Json(EndUserResource::new(user, &call.base)))
}

async fn delete_end_user(call: ApiCall<EndUserSid>) -> Result<StatusCode> {
    end_users::delete(&call.core, &call.principal, &call.path).await?;
    Ok(StatusCode::NO_CONTENT)
}
