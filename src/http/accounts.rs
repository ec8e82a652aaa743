//! API 2010-04-01: Accounts and Keys (API.md §2.4). Paths end in `.json`; dates are RFC 2822;
//! `uri`/`subresource_uris` are relative.

use axum::{Json, Router, http::StatusCode, routing::get};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{
    extract::{Authed, TwilioForm, TwilioPath, TwilioQuery},
    paging::{PagingParams, V2010Page, v2010_page},
    state::AppState,
};
use crate::{
    domain::{
        accounts::{self, Account, AccountStatus, ListFilter},
        keys::{self, Key},
        sid::{AccountSid, JsonSuffixed, KeySid},
        time::rfc2822,
    },
    error::Result,
};

/// Spec maximum `PageSize` for both 2010 lists.
const MAX_PAGE_SIZE: u32 = 1000;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/2010-04-01/Accounts.json",
            get(list_accounts).post(create_account),
        )
        .route(
            "/2010-04-01/Accounts/{Sid}",
            get(fetch_account).post(update_account),
        )
        .route(
            "/2010-04-01/Accounts/{AccountSid}/Keys.json",
            get(list_keys).post(create_key),
        )
        .route(
            "/2010-04-01/Accounts/{AccountSid}/Keys/{Sid}",
            get(fetch_key).post(update_key).delete(delete_key),
        )
}

/// The subresources the spec's account example lists, with their path names.
const SUBRESOURCES: [(&str, &str); 20] = [
    ("available_phone_numbers", "AvailablePhoneNumbers"),
    ("calls", "Calls"),
    ("conferences", "Conferences"),
    ("incoming_phone_numbers", "IncomingPhoneNumbers"),
    ("notifications", "Notifications"),
    ("outgoing_caller_ids", "OutgoingCallerIds"),
    ("recordings", "Recordings"),
    ("transcriptions", "Transcriptions"),
    ("addresses", "Addresses"),
    ("signing_keys", "SigningKeys"),
    ("connect_apps", "ConnectApps"),
    ("sip", "SIP"),
    ("authorized_connect_apps", "AuthorizedConnectApps"),
    ("usage", "Usage"),
    ("keys", "Keys"),
    ("applications", "Applications"),
    ("short_codes", "SMS/ShortCodes"),
    ("queues", "Queues"),
    ("messages", "Messages"),
    ("balance", "Balance"),
];

/// `api.v2010.account`.
#[derive(Serialize)]
struct AccountResource {
    auth_token: String,
    date_created: String,
    date_updated: String,
    friendly_name: String,
    owner_account_sid: AccountSid,
    sid: AccountSid,
    status: &'static str,
    subresource_uris: serde_json::Map<String, Value>,
    r#type: &'static str,
    uri: String,
}

impl From<Account> for AccountResource {
    fn from(a: Account) -> Self {
        let base = format!("/2010-04-01/Accounts/{}", a.sid);
        Self {
            subresource_uris: SUBRESOURCES
                .iter()
                .map(|(name, path)| {
                    (
                        (*name).to_owned(),
                        Value::String(format!("{base}/{path}.json")),
                    )
                })
                .collect(),
            uri: format!("{base}.json"),
            auth_token: a.auth_token,
            date_created: rfc2822(a.date_created),
            date_updated: rfc2822(a.date_updated),
            friendly_name: a.friendly_name,
            owner_account_sid: a.owner_account_sid,
            sid: a.sid,
            status: a.status.as_str(),
            r#type: a.kind,
        }
    }
}

fn account_json(account: Account) -> Result<Value> {
    serde_json::to_value(AccountResource::from(account)).map_err(crate::error::Error::internal)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AccountForm {
    friendly_name: Option<String>,
    status: Option<String>,
}

async fn create_account(
    state: axum::extract::State<AppState>,
    Authed(principal): Authed,
    TwilioForm(form): TwilioForm<AccountForm>,
) -> Result<(StatusCode, Json<Value>)> {
    let account = accounts::create_subaccount(&state.core, &principal, form.friendly_name).await?;
    Ok((StatusCode::CREATED, Json(account_json(account)?)))
}

async fn fetch_account(
    state: axum::extract::State<AppState>,
    Authed(principal): Authed,
    TwilioPath(JsonSuffixed(sid)): TwilioPath<JsonSuffixed<AccountSid>>,
) -> Result<Json<Value>> {
    principal.require_account_credential()?;
    Ok(Json(account_json(
        accounts::fetch(&state.core, &principal, &sid).await?,
    )?))
}

async fn update_account(
    state: axum::extract::State<AppState>,
    Authed(principal): Authed,
    TwilioPath(JsonSuffixed(sid)): TwilioPath<JsonSuffixed<AccountSid>>,
    TwilioForm(form): TwilioForm<AccountForm>,
) -> Result<Json<Value>> {
    principal.require_account_credential()?;
    let status = form
        .status
        .as_deref()
        .map(AccountStatus::parse)
        .transpose()?;
    let account =
        accounts::update(&state.core, &principal, &sid, form.friendly_name, status).await?;
    Ok(Json(account_json(account)?))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AccountFilter {
    friendly_name: Option<String>,
    status: Option<String>,
}

async fn list_accounts(
    state: axum::extract::State<AppState>,
    Authed(principal): Authed,
    TwilioQuery(paging): TwilioQuery<PagingParams>,
    TwilioQuery(filter): TwilioQuery<AccountFilter>,
) -> Result<Json<V2010Page<Value>>> {
    principal.require_account_credential()?;
    let friendly_name = filter.friendly_name.filter(|n| !n.is_empty());
    let status_text = filter.status.filter(|s| !s.is_empty());
    let status = status_text
        .as_deref()
        .map(AccountStatus::parse)
        .transpose()?;
    let request = paging.request(MAX_PAGE_SIZE)?;
    let page = accounts::list(
        &state.core,
        &principal,
        &ListFilter {
            friendly_name: friendly_name.clone(),
            status,
        },
        request,
    )
    .await?;
    let mut filters = Vec::new();
    if let Some(name) = friendly_name.as_deref() {
        filters.push(("FriendlyName", name));
    }
    if let Some(status) = status_text.as_deref() {
        filters.push(("Status", status));
    }
    let items = page
        .items
        .iter()
        .cloned()
        .map(account_json)
        .collect::<Result<Vec<_>>>()?;
    Ok(Json(v2010_page(
        "accounts",
        items,
        &page,
        "/2010-04-01/Accounts.json",
        &filters,
    )))
}

/// `api.v2010.account.key`: no `url`, no `account_sid`.
fn key_json(key: Key) -> Value {
    serde_json::json!({
        "sid": key.sid,
        "friendly_name": key.friendly_name,
        "date_created": rfc2822(key.date_created),
        "date_updated": rfc2822(key.date_updated),
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct KeyForm {
    friendly_name: Option<String>,
}

async fn create_key(
    state: axum::extract::State<AppState>,
    Authed(principal): Authed,
    TwilioPath(account): TwilioPath<AccountSid>,
    TwilioForm(form): TwilioForm<KeyForm>,
) -> Result<(StatusCode, Json<Value>)> {
    principal.require_account_credential()?;
    let (key, secret) = keys::create(&state.core, &principal, &account, form.friendly_name).await?;
    // `api.v2010.account.new_key`: the key plus its secret, shown this once.
    let mut body = key_json(key);
    body["secret"] = Value::String(secret);
    Ok((StatusCode::CREATED, Json(body)))
}

async fn list_keys(
    state: axum::extract::State<AppState>,
    Authed(principal): Authed,
    TwilioPath(account): TwilioPath<AccountSid>,
    TwilioQuery(paging): TwilioQuery<PagingParams>,
) -> Result<Json<V2010Page<Value>>> {
    principal.require_account_credential()?;
    let page = keys::list(
        &state.core,
        &principal,
        &account,
        paging.request(MAX_PAGE_SIZE)?,
    )
    .await?;
    let items = page.items.iter().cloned().map(key_json).collect();
    let list_path = format!("/2010-04-01/Accounts/{account}/Keys.json");
    Ok(Json(v2010_page("keys", items, &page, &list_path, &[])))
}

/// `/Accounts/{AccountSid}/Keys/{Sid}.json`.
type KeyPath = TwilioPath<(AccountSid, JsonSuffixed<KeySid>)>;

async fn fetch_key(
    state: axum::extract::State<AppState>,
    Authed(principal): Authed,
    TwilioPath((account, JsonSuffixed(sid))): KeyPath,
) -> Result<Json<Value>> {
    principal.require_account_credential()?;
    Ok(Json(key_json(
        keys::fetch(&state.core, &principal, &account, &sid).await?,
    )))
}

async fn update_key(
    state: axum::extract::State<AppState>,
    Authed(principal): Authed,
    TwilioPath((account, JsonSuffixed(sid))): KeyPath,
    TwilioForm(form): TwilioForm<KeyForm>,
) -> Result<Json<Value>> {
    principal.require_account_credential()?;
    let key = keys::update(&state.core, &principal, &account, &sid, form.friendly_name).await?;
    Ok(Json(key_json(key)))
}

async fn delete_key(
    state: axum::extract::State<AppState>,
    Authed(principal): Authed,
    TwilioPath((account, JsonSuffixed(sid))): KeyPath,
) -> Result<StatusCode> {
    principal.require_account_credential()?;
    keys::delete(&state.core, &principal, &account, &sid).await?;
    Ok(StatusCode::NO_CONTENT)
}
