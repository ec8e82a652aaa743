//! Accounts: the main account created at first start, subaccounts through the 2010 API, and who
//! may reach which (https://twilio.com/docs/iam/api/subaccounts): main-account credentials reach
//! their subaccounts' 2010 resources; a subaccount never reaches its parent or a sibling, which
//! answers 404 like any other foreign resource (DESIGN.md).

use tracing::instrument;

use super::{
    Core,
    auth::Principal,
    conversations,
    paging::{Page, PageRequest},
    secrets,
    sid::AccountSid,
    time,
};
use crate::{
    error::{Error, Result},
    store::accounts::{AccountRow, CreateSubaccount, NewAccount},
};

/// "A main account can only have up to 1000 subaccounts by default"
/// (https://www.twilio.com/docs/iam/api/subaccounts).
pub const MAX_SUBACCOUNTS: i64 = 1000;
/// https://twilio.com/docs/api/errors/21101
pub const SUBACCOUNT_CANNOT_NEST: u32 = 21101;
/// https://www.twilio.com/docs/api/errors/21480
pub const TOO_MANY_SUBACCOUNTS: u32 = 21480;

/// An account as the API shows it, auth token unsealed.
#[derive(Debug, Clone)]
pub struct Account {
    pub sid: AccountSid,
    pub owner_account_sid: AccountSid,
    pub friendly_name: String,
    pub status: AccountStatus,
    pub kind: &'static str,
    pub auth_token: String,
    pub date_created: i64,
    pub date_updated: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountStatus {
    Active,
    Suspended,
    Closed,
}

impl AccountStatus {
    /// The spec's `account_enum_status`. Legacy numeric statuses (the spec's
    /// `updateWithNumericStatus` example) are refused *(ours)*.
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "active" => Ok(Self::Active),
            "suspended" => Ok(Self::Suspended),
            "closed" => Ok(Self::Closed),
            _ => Err(Error::invalid(format!(
                "Invalid parameter Status: must be one of active, suspended, closed (got '{s}')"
            ))),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Suspended => "suspended",
            Self::Closed => "closed",
        }
    }
}

/// What happened at start-up.
pub enum Bootstrap {
    /// The database already had accounts.
    Existing,
    /// A main account was created; `generated` when the token was not given by configuration.
    Created {
        account_sid: String,
        auth_token: String,
        generated: bool,
    },
}

const MAIN_ACCOUNT_NAME: &str = "localtwilio main account";

/// Creates the main account when the database has none, from the configured SID/token or
/// freshly generated ones.
pub async fn bootstrap(core: &Core, sid: &str, token: &str) -> anyhow::Result<Bootstrap> {
    if core.store.count_accounts().await? > 0 {
        // Accounts from before the Conversations migration get their default service now.
        for account in core.store.accounts_without_default_service().await? {
            let account = AccountSid::parse(&account)
                .ok_or_else(|| anyhow::anyhow!("malformed account SID in store"))?;
            core.store
                .create_default_service(&conversations::default_service(&account, time::now()))
                .await?;
        }
        return Ok(Bootstrap::Existing);
    }
    let sid = match sid {
        "" => AccountSid::new(),
        given => AccountSid::parse(given).ok_or_else(|| {
            anyhow::anyhow!("LOCALTWILIO_ACCOUNT_SID must be AC followed by 32 hex digits")
        })?,
    };
    let (token, generated) = match token {
        "" => (secrets::new_auth_token()?, true),
        given if secrets::is_auth_token(given) => (given.to_ascii_lowercase(), false),
        _ => anyhow::bail!("LOCALTWILIO_AUTH_TOKEN must be 32 hex digits"),
    };
    let hash = core.auth.hash_secret(&token).await?;
    let sealed = core.server_key.seal(&token, sid.as_str())?;
    let now = time::now();
    let created = core
        .store
        .insert_main_account_once(NewAccount {
            sid: sid.as_str(),
            owner_account_sid: sid.as_str(),
            friendly_name: MAIN_ACCOUNT_NAME,
            auth_token_hash: &hash,
            auth_token_sealed: &sealed,
            now,
            default_service: &conversations::default_service(&sid, now),
        })
        .await?;
    if !created {
        // Another instance on the same database created it meanwhile.
        return Ok(Bootstrap::Existing);
    }
    Ok(Bootstrap::Created {
        account_sid: sid.to_string(),
        auth_token: token,
        generated,
    })
}

fn to_account(core: &Core, row: AccountRow) -> Result<Account> {
    let bad = || Error::internal(anyhow::anyhow!("malformed account row {}", row.seq));
    Ok(Account {
        sid: AccountSid::parse(&row.sid).ok_or_else(bad)?,
        owner_account_sid: AccountSid::parse(&row.owner_account_sid).ok_or_else(bad)?,
        auth_token: core.server_key.open(&row.auth_token_sealed, &row.sid)?,
        status: AccountStatus::parse(&row.status).map_err(|_| bad())?,
        kind: if row.r#type == "Trial" {
            "Trial"
        } else {
            "Full"
        },
        friendly_name: row.friendly_name,
        date_created: row.date_created,
        date_updated: row.date_updated,
    })
}

/// The account row at `sid` if `principal` may reach it: its own, or (for a main account) one
/// it owns. Anything else is 404, as for a SID that does not exist.
pub async fn reachable(core: &Core, principal: &Principal, sid: &AccountSid) -> Result<AccountRow> {
    let row = core
        .store
        .fetch_account(sid.as_str())
        .await?
        .ok_or(Error::NotFound)?;
    let own = &principal.account_sid == sid;
    let owned =
        principal.is_main_account() && row.owner_account_sid == principal.account_sid.as_str();
    if own || owned {
        Ok(row)
    } else {
        Err(Error::NotFound)
    }
}

#[instrument(skip_all)]
pub async fn create_subaccount(
    core: &Core,
    principal: &Principal,
    friendly_name: Option<String>,
) -> Result<Account> {
    principal.require_account_credential()?;
    check_may_own_subaccounts(principal.is_main_account())?;
    let now = time::now();
    let friendly_name = friendly_name
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| format!("SubAccount Created at {}", time::meridian(now)));
    check_friendly_name(&friendly_name)?;
    let sid = AccountSid::new();
    let token = secrets::new_auth_token()?;
    // On the argon2 pool, like every check: bounded memory however many creates arrive (F1).
    let hash = core.auth.hash_secret(&token).await?;
    let sealed = core.server_key.seal(&token, sid.as_str())?;
    let created = core
        .store
        .create_subaccount(
            NewAccount {
                sid: sid.as_str(),
                owner_account_sid: principal.account_sid.as_str(),
                friendly_name: &friendly_name,
                auth_token_hash: &hash,
                auth_token_sealed: &sealed,
                now,
                default_service: &conversations::default_service(&sid, now),
            },
            MAX_SUBACCOUNTS,
        )
        .await?;
    match created {
        CreateSubaccount::Created(row) => to_account(core, row),
        // The store counted under the write lock (no concurrent create can overshoot) and
        // found `MAX_SUBACCOUNTS`: the refusal `check_subaccount_room` gives for that count.
        CreateSubaccount::LimitReached => Err(too_many_subaccounts()),
    }
}

/// Only a main account may own subaccounts (21101). `owner_is_main`: the would-be owner is a
/// main account. Shared with `seed FILE`.
pub(crate) fn check_may_own_subaccounts(owner_is_main: bool) -> Result<()> {
    if owner_is_main {
        Ok(())
    } else {
        Err(Error::invalid_code(
            SUBACCOUNT_CANNOT_NEST,
            "Subaccounts cannot contain subaccounts. Only a root account may contain subaccounts.",
        ))
    }
}

/// A main account has at most `MAX_SUBACCOUNTS` subaccounts (21480); `existing` is how many it
/// has before the new one. Shared with `seed FILE`.
pub(crate) fn check_subaccount_room(existing: i64) -> Result<()> {
    if existing < MAX_SUBACCOUNTS {
        Ok(())
    } else {
        Err(too_many_subaccounts())
    }
}

fn too_many_subaccounts() -> Error {
    Error::invalid_code(
        TOO_MANY_SUBACCOUNTS,
        "Reached maximum number of subaccounts",
    )
}

/// `friendly_name` is "up to 64 characters" (spec, `api.v2010.account`).
pub(crate) fn check_friendly_name(name: &str) -> Result<()> {
    super::check_chars(Some(name), "FriendlyName", 64)
}

pub async fn fetch(core: &Core, principal: &Principal, sid: &AccountSid) -> Result<Account> {
    principal.require_account_credential()?;
    to_account(core, reachable(core, principal, sid).await?)
}

pub struct ListFilter {
    pub friendly_name: Option<String>,
    pub status: Option<AccountStatus>,
}

pub async fn list(
    core: &Core,
    principal: &Principal,
    filter: &ListFilter,
    request: PageRequest,
) -> Result<Page<Account>> {
    principal.require_account_credential()?;
    let rows = core
        .store
        .list_accounts(
            principal.account_sid.as_str(),
            filter.friendly_name.as_deref(),
            filter.status.map(AccountStatus::as_str),
            request.keyset(),
        )
        .await?;
    Page::from_rows(request, rows, |row| row.seq).try_map(|row| to_account(core, row))
}

/// Updates `FriendlyName` and/or `Status`. `closed` is final ("This cannot be undone"); the
/// main account's own status cannot be changed through the API, so the server can never lock
/// itself out *(ours)*. Any status change takes effect on the very next request.
#[instrument(skip_all)]
pub async fn update(
    core: &Core,
    principal: &Principal,
    sid: &AccountSid,
    friendly_name: Option<String>,
    status: Option<AccountStatus>,
) -> Result<Account> {
    principal.require_account_credential()?;
    let current = reachable(core, principal, sid).await?;
    if let Some(name) = &friendly_name {
        check_friendly_name(name)?;
    }
    if let Some(new) = status {
        let is_main = current.owner_account_sid == current.sid;
        let stored = AccountStatus::parse(&current.status).map_err(|_| {
            Error::internal(anyhow::anyhow!(
                "malformed account status {:?}",
                current.status
            ))
        })?;
        check_status_change(is_main, stored, new)?;
    }
    let updated = core
        .store
        .update_account(
            sid.as_str(),
            friendly_name.as_deref(),
            status.map(AccountStatus::as_str),
            time::now(),
        )
        .await?;
    // Forget cached credentials even if nothing matched: a racing close may have won.
    if status.is_some() {
        core.auth.forget_account(sid);
    }
    match updated {
        Some(row) => to_account(core, row),
        None => Err(closed_is_final()),
    }
}

/// A status change from `current` to `new`: a main account's status cannot be changed (it
/// stays active, so the server can never lock out its root *(ours)*), and `closed` is final.
/// Shared with `seed FILE` (a new account's `current` is `active`, as the API creates it).
pub(crate) fn check_status_change(
    is_main: bool,
    current: AccountStatus,
    new: AccountStatus,
) -> Result<()> {
    if is_main && new != current {
        return Err(Error::invalid(
            "Invalid parameter Status: the main account's status cannot be changed",
        ));
    }
    if current == AccountStatus::Closed && new != AccountStatus::Closed {
        return Err(closed_is_final());
    }
    Ok(())
}

fn closed_is_final() -> Error {
    Error::invalid("Invalid parameter Status: a closed account cannot be reopened")
}
