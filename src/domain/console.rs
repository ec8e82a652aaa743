//! The console's rules (issue 22; research: ../shared/reference/console.md §5): who sees which
//! accounts, signed sessions tied to the current credential, and the operator actions (reset,
//! snapshot, restore). Pages and cookies are `http::console`'s; the tables an account's data
//! lives in are `store::account_data::ACCOUNT_DATA`'s.

use std::net::IpAddr;

use super::{
    Core,
    auth::{Principal, current_credential},
    conversations::default_service,
    secrets::same_bytes,
    sid::AccountSid,
    stored, time,
};
use crate::{
    error::{Error, Result},
    store::{
        account_data::{AccountTable, RestoreError, SnapshotRow},
        accounts::AccountRow,
    },
};

/// How long a console session lasts *(ours)*: a working day.
pub const SESSION_SECS: i64 = 12 * 3600;

/// At most this many accounts are listed for the operator.
const ACCOUNTS_LISTED: i64 = 1000;

/// Who is looking.
#[derive(Debug, Clone)]
pub enum Viewer {
    /// Signed in with `LOCALTWILIO_CONSOLE_TOKEN`: every account, every action.
    Operator,
    /// Signed in with an account's SID and token (or an API key): that account and, for a main
    /// account, its subaccounts — never a parent or a sibling (Twilio's rule for 2010 Accounts).
    Account(Principal),
}

impl Viewer {
    /// Whom the audit log names (never a secret).
    pub fn who(&self) -> String {
        match self {
            Self::Operator => "operator".to_owned(),
            Self::Account(p) => match &p.key_sid {
                Some(key) => format!("{} (key {key})", p.account_sid),
                None => p.account_sid.to_string(),
            },
        }
    }

    /// The account a page shows when none is chosen.
    pub fn home(&self) -> Option<&AccountSid> {
        match self {
            Self::Operator => None,
            Self::Account(p) => Some(&p.account_sid),
        }
    }

    pub fn is_operator(&self) -> bool {
        matches!(self, Self::Operator)
    }

    fn may_see(&self, row: &AccountRow) -> bool {
        match self {
            Self::Operator => true,
            Self::Account(p) => {
                row.sid == p.account_sid.as_str()
                    || (p.is_main_account() && row.owner_account_sid == p.account_sid.as_str())
            }
        }
    }
}

/// An account as the console lists it: no token, not even sealed.
#[derive(Debug, Clone)]
pub struct AccountSummary {
    pub sid: AccountSid,
    pub owner_account_sid: AccountSid,
    pub friendly_name: String,
    pub status: String,
    pub kind: String,
    pub date_created: i64,
}

impl TryFrom<AccountRow> for AccountSummary {
    type Error = Error;
    fn try_from(row: AccountRow) -> Result<Self> {
        Ok(Self {
            sid: stored(&row.sid, "account SID")?,
            owner_account_sid: stored(&row.owner_account_sid, "account SID")?,
            friendly_name: row.friendly_name,
            status: row.status,
            kind: row.r#type,
            date_created: row.date_created,
        })
    }
}

impl AccountSummary {
    pub fn is_main(&self) -> bool {
        self.sid == self.owner_account_sid
    }
}

/// The accounts the viewer may see: main accounts each followed by their subaccounts.
pub async fn visible_accounts(core: &Core, viewer: &Viewer) -> Result<Vec<AccountSummary>> {
    let rows = match viewer {
        Viewer::Operator => core.store.all_accounts(ACCOUNTS_LISTED).await?,
        // The account and the accounts it owns (a subaccount owns none).
        Viewer::Account(p) => {
            core.store
                .list_accounts(
                    p.account_sid.as_str(),
                    None,
                    None,
                    crate::store::Keyset::after(None, ACCOUNTS_LISTED),
                )
                .await?
        }
    };
    rows.into_iter()
        .filter(|r| viewer.may_see(r))
        .map(AccountSummary::try_from)
        .collect()
}

/// The account `sid` as the viewer may act on it: a principal for the domain's own functions
/// (as the account's own credential would be). Unknown and unreachable accounts alike: 404.
pub async fn scope(core: &Core, viewer: &Viewer, sid: &AccountSid) -> Result<Principal> {
    let row = core
        .store
        .fetch_account(sid.as_str())
        .await?
        .filter(|row| viewer.may_see(row))
        .ok_or(Error::NotFound)?;
    Ok(Principal {
        account_sid: stored(&row.sid, "account SID")?,
        owner_account_sid: stored(&row.owner_account_sid, "account SID")?,
        key_sid: None,
    })
}

/// The account itself, as the console shows it.
pub async fn account(core: &Core, viewer: &Viewer, sid: &AccountSid) -> Result<AccountSummary> {
    scope(core, viewer, sid).await?;
    let row = core
        .store
        .fetch_account(sid.as_str())
        .await?
        .ok_or(Error::NotFound)?;
    AccountSummary::try_from(row)
}

/// How many rows of each table of account data `sid` has (Overview).
pub async fn counts(
    core: &Core,
    viewer: &Viewer,
    sid: &AccountSid,
) -> Result<Vec<(&'static AccountTable, i64)>> {
    scope(core, viewer, sid).await?;
    Ok(core.store.account_counts(sid.as_str()).await?)
}

/// Deletes the account's data — everything in `ACCOUNT_DATA`, not its credentials, not its
/// subaccounts — and gives it a fresh default Conversations service, as a new account has.
pub async fn reset(core: &Core, viewer: &Viewer, sid: &AccountSid) -> Result<()> {
    scope(core, viewer, sid).await?;
    core.store
        .reset_account(sid.as_str(), &default_service(sid, time::now()))
        .await?;
    core.services.forget(sid);
    tracing::info!(who = %viewer.who(), account = %sid, action = "reset", "console action");
    Ok(())
}

/// A stored snapshot of an account's data.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub id: i64,
    pub name: String,
    pub rows: i64,
    pub date_created: i64,
}

impl From<SnapshotRow> for Snapshot {
    fn from(row: SnapshotRow) -> Self {
        Self {
            id: row.id,
            name: row.name,
            rows: row.rows,
            date_created: row.created_at,
        }
    }
}

/// The longest snapshot name *(ours)*.
const SNAPSHOT_NAME_CHARS: usize = 256;

/// Copies the account's data into a stored snapshot; an empty name becomes the time.
pub async fn take_snapshot(
    core: &Core,
    viewer: &Viewer,
    sid: &AccountSid,
    name: Option<&str>,
) -> Result<Snapshot> {
    scope(core, viewer, sid).await?;
    super::check_chars(name, "Name", SNAPSHOT_NAME_CHARS)?;
    let now = time::now();
    let name = match name.map(str::trim).filter(|n| !n.is_empty()) {
        Some(name) => name.to_owned(),
        None => format!("snapshot {}", time::iso8601(now)),
    };
    let row = core.store.take_snapshot(sid.as_str(), &name, now).await?;
    tracing::info!(who = %viewer.who(), account = %sid, snapshot = row.id, action = "snapshot", "console action");
    Ok(Snapshot::from(row))
}

/// The account's snapshots, newest first.
pub async fn snapshots(core: &Core, viewer: &Viewer, sid: &AccountSid) -> Result<Vec<Snapshot>> {
    scope(core, viewer, sid).await?;
    let rows = core.store.snapshots(sid.as_str()).await?;
    Ok(rows.into_iter().map(Snapshot::from).collect())
}

/// A snapshot's stored JSON (a download); it holds no credential.
pub async fn snapshot_body(
    core: &Core,
    viewer: &Viewer,
    sid: &AccountSid,
    id: i64,
) -> Result<String> {
    scope(core, viewer, sid).await?;
    core.store
        .snapshot_body(sid.as_str(), id)
        .await?
        .ok_or(Error::NotFound)
}

/// Makes the account's data exactly what snapshot `id` holds (reset + the snapshot's rows, one
/// transaction).
pub async fn restore(core: &Core, viewer: &Viewer, sid: &AccountSid, id: i64) -> Result<()> {
    scope(core, viewer, sid).await?;
    match core.store.restore_snapshot(sid.as_str(), id).await {
        Ok(()) => {}
        Err(RestoreError::NotFound) => return Err(Error::NotFound),
        Err(RestoreError::Unusable(why)) => return Err(Error::invalid(why)),
        Err(RestoreError::Store(e)) => return Err(e.into()),
    }
    core.services.forget(sid);
    tracing::info!(who = %viewer.who(), account = %sid, snapshot = id, action = "restore", "console action");
    Ok(())
}

/// Replays one of the account's webhook deliveries (`webhooks::replay`), audited.
pub async fn replay(core: &Core, viewer: &Viewer, sid: &AccountSid, delivery: i64) -> Result<i64> {
    let principal = scope(core, viewer, sid).await?;
    let id = super::webhooks::replay(core, &principal, delivery).await?;
    tracing::info!(who = %viewer.who(), account = %sid, delivery, replay = id, action = "replay", "console action");
    Ok(id)
}

/// The operator's token, from configuration, and whether the console is served.
#[derive(Clone, Default)]
pub struct ConsoleSettings {
    pub enabled: bool,
    pub operator_token: Option<String>,
}

impl std::fmt::Debug for ConsoleSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsoleSettings")
            .field("enabled", &self.enabled)
            .field("operator_token", &self.operator_token.is_some())
            .finish()
    }
}

/// A session cookie's parts: `{kind}.{sid}.{expires}.{fingerprint}.{mac}`, kind `o` (operator,
/// sid `-`) or `c` (a credential: the account or key SID signed in with). The fingerprint is a
/// MAC of the credential's *current* stored hash (of the operator token, for `o`), so rotating
/// the token or deleting the key ends every session made with it.
const SESSION_PURPOSE: &str = "localtwilio console session";
const FINGERPRINT_PURPOSE: &str = "localtwilio console credential";

fn fingerprint(core: &Core, secret_or_hash: &str) -> String {
    hex::encode(
        &core
            .server_key
            .mac(FINGERPRINT_PURPOSE, &[secret_or_hash.as_bytes()])[..16],
    )
}

fn session_mac(core: &Core, kind: &str, sid: &str, expires: &str, fp: &str) -> String {
    hex::encode(core.server_key.mac(
        SESSION_PURPOSE,
        &[
            kind.as_bytes(),
            sid.as_bytes(),
            expires.as_bytes(),
            fp.as_bytes(),
        ],
    ))
}

fn cookie_value(core: &Core, kind: &str, sid: &str, fp: &str) -> String {
    let expires = (time::now() + SESSION_SECS).to_string();
    let mac = session_mac(core, kind, sid, &expires, fp);
    format!("{kind}.{sid}.{expires}.{fp}.{mac}")
}

/// Signs in with an account or key SID and its secret, or — with the username `operator` (or
/// empty) — the operator token; the session cookie's value. A wrong operator token is checked
/// like any wrong credential (one argon2 check against the failure budget of `client`), so
/// guessing it is rate-limited like guessing a token.
pub async fn sign_in(
    core: &Core,
    settings: &ConsoleSettings,
    username: &str,
    secret: &str,
    client: Option<IpAddr>,
) -> Result<String> {
    let username = username.trim();
    if username.is_empty() || username.eq_ignore_ascii_case("operator") {
        if let Some(token) = &settings.operator_token
            && same_bytes(token.as_bytes(), secret.as_bytes())
        {
            tracing::info!(who = "operator", action = "sign in", "console action");
            return Ok(cookie_value(core, "o", "-", &fingerprint(core, token)));
        }
        // Fails (no such SID) at the price of a wrong token, budget included.
        core.auth
            .authenticate(&core.store, "operator", secret, client)
            .await?;
        return Err(Error::Unauthenticated);
    }
    core.auth
        .authenticate(&core.store, username, secret, client)
        .await?;
    let (_, hash) = current_credential(&core.store, username)
        .await?
        .ok_or(Error::Unauthenticated)?;
    tracing::info!(who = username, action = "sign in", "console action");
    Ok(cookie_value(core, "c", username, &fingerprint(core, &hash)))
}

/// Who a session cookie's value signs in, if it is genuine, unexpired and its credential is
/// unchanged and still active.
pub async fn session(core: &Core, settings: &ConsoleSettings, value: &str) -> Option<Viewer> {
    let mut parts = value.split('.');
    let (kind, sid, expires, fp, mac) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    if parts.next().is_some() {
        return None;
    }
    let want = session_mac(core, kind, sid, expires, fp);
    if !same_bytes(want.as_bytes(), mac.as_bytes()) {
        return None;
    }
    if expires.parse::<i64>().ok()? < time::now() {
        return None;
    }
    match kind {
        "o" => {
            let token = settings.operator_token.as_deref()?;
            same_bytes(fingerprint(core, token).as_bytes(), fp.as_bytes())
                .then_some(Viewer::Operator)
        }
        "c" => {
            let (principal, hash) = current_credential(&core.store, sid).await.ok()??;
            same_bytes(fingerprint(core, &hash).as_bytes(), fp.as_bytes())
                .then_some(Viewer::Account(principal))
        }
        _ => None,
    }
}
