//! API 2010-04-01 Accounts (API.md §2.4): `/2010-04-01/Accounts.json` and
//! `/2010-04-01/Accounts/{Sid}.json`. Paths end in `.json`; dates are RFC 2822;
//! `uri`/`subresource_uris` are relative.

use axum::{Json, routing::get};
use serde::{Deserialize, Serialize};

use super::{
    call::{ApiCall, Created, NoForm, created},
    extract::TwilioQuery,
    paging::{PagingParams, SPEC_MAX_PAGE_SIZE, V2010Page, v2010_list},
    urls::{Links, links},
};
use crate::{
    domain::{
        accounts::{self, Account, AccountStatus, ListFilter},
        sid::{AccountSid, JsonSuffixed},
        time::rfc2822,
    },
    error::Result,
    http::routing::routes,
};

routes! {
    "/2010-04-01/Accounts.json" => get(list_accounts).post(create_account),
    "/2010-04-01/Accounts/{Sid}" => get(fetch_account).post(update_account),
}

/// The subresources the spec's account example lists, with their paths.
const SUBRESOURCES: [(&str, &str); 20] = [
    ("available_phone_numbers", "AvailablePhoneNumbers.json"),
    ("calls", "Calls.json"),
    ("conferences", "Conferences.json"),
    ("incoming_phone_numbers", "IncomingPhoneNumbers.json"),
    ("notifications", "Notifications.json"),
    ("outgoing_caller_ids", "OutgoingCallerIds.json"),
    ("recordings", "Recordings.json"),
    ("transcriptions", "Transcriptions.json"),
    ("addresses", "Addresses.json"),
    ("signing_keys", "SigningKeys.json"),
    ("connect_apps", "ConnectApps.json"),
    ("sip", "SIP.json"),
    ("authorized_connect_apps", "AuthorizedConnectApps.json"),
    ("usage", "Usage.json"),
    ("keys", "Keys.json"),
    ("applications", "Applications.json"),
    ("short_codes", "SMS/ShortCodes.json"),
    ("queues", "Queues.json"),
    ("messages", "Messages.json"),
    ("balance", "Balance.json"),
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
    subresource_uris: Links,
    r#type: &'static str,
    uri: String,
}

impl From<Account> for AccountResource {
    fn from(a: Account) -> Self {
        let base = format!("/2010-04-01/Accounts/{}", a.sid);
        Self {
            subresource_uris: links(&base, &SUBRESOURCES),
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

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AccountForm {
    friendly_name: Option<String>,
    status: Option<String>,
}

async fn create_account(call: ApiCall<(), AccountForm>) -> Result<Created<AccountResource>> {
    let account =
        accounts::create_subaccount(&call.core, &call.principal, call.form.friendly_name).await?;
    created(account.into())
}

/// `/Accounts/{Sid}.json`.
type AccountCall<F = NoForm> = ApiCall<JsonSuffixed<AccountSid>, F>;

async fn fetch_account(call: AccountCall) -> Result<Json<AccountResource>> {
    call.principal.require_account_credential()?;
    let JsonSuffixed(sid) = &call.path;
    let account = accounts::fetch(&call.core, &call.principal, sid).await?;
    Ok(Json(account.into()))
}

async fn update_account(call: AccountCall<AccountForm>) -> Result<Json<AccountResource>> {
    call.principal.require_account_credential()?;
    let JsonSuffixed(sid) = &call.path;
    let status = call
        .form
        .status
        .as_deref()
        .map(AccountStatus::parse)
        .transpose()?;
    let account = accounts::update(
        &call.core,
        &call.principal,
        sid,
        call.form.friendly_name,
        status,
    )
    .await?;
    Ok(Json(account.into()))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AccountFilter {
    friendly_name: Option<String>,
    status: Option<String>,
}

async fn list_accounts(
    call: ApiCall,
    TwilioQuery(paging): TwilioQuery<PagingParams>,
    TwilioQuery(filter): TwilioQuery<AccountFilter>,
) -> Result<V2010Page<AccountResource>> {
    call.principal.require_account_credential()?;
    let friendly_name = filter.friendly_name.filter(|n| !n.is_empty());
    let status_text = filter.status.filter(|s| !s.is_empty());
    let status = status_text
        .as_deref()
        .map(AccountStatus::parse)
        .transpose()?;
    let request = paging.request(SPEC_MAX_PAGE_SIZE)?;
    let page = accounts::list(
        &call.core,
        &call.principal,
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
    let page = page.map(AccountResource::from);
    Ok(v2010_list(
        "accounts",
        page,
        "/2010-04-01/Accounts.json",
        &filters,
    ))
}
