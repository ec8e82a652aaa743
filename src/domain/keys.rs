//! Standard API keys of an account (`/2010-04-01/Accounts/{AccountSid}/Keys`). The secret is
//! returned once, at creation ("for security reasons, this field is ONLY returned when the API
//! Key is first created"), and stored only as an argon2id hash.

use tracing::instrument;

use super::{
    Core,
    accounts::reachable,
    auth::Principal,
    fetch_owned, found, found_value, list_owned,
    paging::{Page, PageRequest},
    read_back, secrets,
    sid::{AccountSid, KeySid},
    time,
};
use crate::{error::Result, store::keys::KeyRow};

#[derive(Debug, Clone)]
pub struct Key {
    pub sid: KeySid,
    pub friendly_name: Option<String>,
    pub date_created: i64,
    pub date_updated: i64,
}

read_back!(|row: KeyRow| -> Key {
    parsed: sid;
    copied: friendly_name, date_created, date_updated;
});

/// "up to 64 characters" (spec, `CreateNewKey`).
pub(crate) fn check_friendly_name(name: Option<&str>) -> Result<()> {
    super::check_chars(name, "FriendlyName", 64)
}

/// Keys are managed only with account credentials, on an account the caller may reach.
async fn owning_account(core: &Core, principal: &Principal, account: &AccountSid) -> Result<()> {
    principal.require_account_credential()?;
    reachable(core, principal, account).await.map(|_| ())
}

#[instrument(skip_all)]
pub async fn create(
    core: &Core,
    principal: &Principal,
    account: &AccountSid,
    friendly_name: Option<String>,
) -> Result<(Key, String)> {
    owning_account(core, principal, account).await?;
    check_friendly_name(friendly_name.as_deref())?;
    let secret = secrets::new_key_secret()?;
    // On the argon2 pool, like every check: bounded memory however many creates arrive (F1).
    let hash = core.auth.hash_secret(&secret).await?;
    let row = core
        .store
        .insert_key(
            KeySid::new().as_str(),
            account.as_str(),
            friendly_name.as_deref(),
            &hash,
            time::now(),
        )
        .await?;
    Ok((Key::try_from(row)?, secret))
}

pub async fn fetch(
    core: &Core,
    principal: &Principal,
    account: &AccountSid,
    sid: &KeySid,
) -> Result<Key> {
    owning_account(core, principal, account).await?;
    fetch_owned::<KeyRow, _>(core, account, sid).await
}

pub async fn list(
    core: &Core,
    principal: &Principal,
    account: &AccountSid,
    request: PageRequest,
) -> Result<Page<Key>> {
    owning_account(core, principal, account).await?;
    list_owned::<KeyRow, _>(core, account, request).await
}

pub async fn update(
    core: &Core,
    principal: &Principal,
    account: &AccountSid,
    sid: &KeySid,
    friendly_name: Option<String>,
) -> Result<Key> {
    owning_account(core, principal, account).await?;
    check_friendly_name(friendly_name.as_deref())?;
    let row = core
        .store
        .update_key(
            account.as_str(),
            sid.as_str(),
            friendly_name.as_deref(),
            time::now(),
        )
        .await?;
    found_value(row)
}

/// Deletes the key; it stops authenticating at once.
#[instrument(skip_all)]
pub async fn delete(
    core: &Core,
    principal: &Principal,
    account: &AccountSid,
    sid: &KeySid,
) -> Result<()> {
    owning_account(core, principal, account).await?;
    let deleted = core
        .store
        .delete_key(account.as_str(), sid.as_str())
        .await?;
    core.auth.forget_key(sid);
    found(deleted)
}
