//! API 2010-04-01 Keys (API.md §2.4): `/2010-04-01/Accounts/{AccountSid}/Keys.json` and
//! `…/Keys/{Sid}.json`. Standard keys only; the secret is shown once, by create.

use axum::{Json, http::StatusCode, routing::get};
use serde::{Deserialize, Serialize};

use super::{
    call::{ApiCall, Created, NoForm, created},
    extract::TwilioQuery,
    paging::{PagingParams, SPEC_MAX_PAGE_SIZE, V2010Page, v2010_list},
};
use crate::{
    domain::{
        keys::{self, Key},
        sid::{AccountSid, JsonSuffixed, KeySid},
        time::rfc2822,
    },
    error::Result,
    http::routing::routes,
};

routes! {
    "/2010-04-01/Accounts/{AccountSid}/Keys.json" => get(list_keys).post(create_key),
    "/2010-04-01/Accounts/{AccountSid}/Keys/{Sid}" =>
        get(fetch_key).post(update_key).delete(delete_key),
}

/// `api.v2010.account.key` (no `url`, no `account_sid`), and `api.v2010.account.new_key` when
/// `secret` is set: the create answer, the only time the secret is shown. Fields in sorted
/// order (see `http::paging::V1Page`).
#[derive(Serialize)]
struct KeyResource {
    date_created: String,
    date_updated: String,
    friendly_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<String>,
    sid: KeySid,
}

impl From<Key> for KeyResource {
    fn from(key: Key) -> Self {
        Self {
            date_created: rfc2822(key.date_created),
            date_updated: rfc2822(key.date_updated),
            friendly_name: key.friendly_name,
            secret: None,
            sid: key.sid,
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct KeyForm {
    friendly_name: Option<String>,
}

async fn create_key(call: ApiCall<AccountSid, KeyForm>) -> Result<Created<KeyResource>> {
    call.principal.require_account_credential()?;
    let (key, secret) = keys::create(
        &call.core,
        &call.principal,
        &call.path,
        call.form.friendly_name,
    )
    .await?;
    let body = KeyResource {
        secret: Some(secret),
        ..key.into()
    };
    created(body)
}

async fn list_keys(
    call: ApiCall<AccountSid>,
    TwilioQuery(paging): TwilioQuery<PagingParams>,
) -> Result<V2010Page<KeyResource>> {
    call.principal.require_account_credential()?;
    let page = keys::list(
        &call.core,
        &call.principal,
        &call.path,
        paging.request(SPEC_MAX_PAGE_SIZE)?,
    )
    .await?;
    let page = page.map(KeyResource::from);
    let list_path = format!("/2010-04-01/Accounts/{}/Keys.json", call.path);
    Ok(v2010_list("keys", page, &list_path, &[]))
}

/// `/Accounts/{AccountSid}/Keys/{Sid}.json`.
type KeyCall<F = NoForm> = ApiCall<(AccountSid, JsonSuffixed<KeySid>), F>;

async fn fetch_key(call: KeyCall) -> Result<Json<KeyResource>> {
    call.principal.require_account_credential()?;
    let (account, JsonSuffixed(sid)) = &call.path;
    let key = keys::fetch(&call.core, &call.principal, account, sid).await?;
    Ok(Json(key.into()))
}

async fn update_key(call: KeyCall<KeyForm>) -> Result<Json<KeyResource>> {
    call.principal.require_account_credential()?;
    let (account, JsonSuffixed(sid)) = &call.path;
    let key = keys::update(
        &call.core,
        &call.principal,
        account,
        sid,
        call.form.friendly_name,
    )
    .await?;
    Ok(Json(key.into()))
}

async fn delete_key(call: KeyCall) -> Result<StatusCode> {
    call.principal.require_account_credential()?;
    let (account, JsonSuffixed(sid)) = &call.path;
    keys::delete(&call.core, &call.principal, account, sid).await?;
    Ok(StatusCode::NO_CONTENT)
}
