//! Who is calling. Basic auth with `AC…:auth token` or `SK…:key secret` (API.md §1.2).
//!
//! argon2 costs ~19 MiB and tens of milliseconds per check by design, so:
//! - a verified credential is remembered, keyed by an HMAC of sid+secret under a per-process key
//!   (the secret itself is never kept), and forgotten the moment its token, key or account status
//!   changes; failures are never cached;
//! - at most `auth_concurrency` argon2 checks run at once, so a flood of wrong passwords cannot
//!   exhaust memory.

use std::{
    collections::HashMap,
    sync::{
        RwLock,
        atomic::{AtomicU64, Ordering},
    },
};

use tokio::sync::Semaphore;

use super::{
    secrets::{self, CacheKeyer},
    sid::{AccountSid, KeySid},
};
use crate::{
    error::{Error, Internal, Result},
    store::Store,
};

/// The authenticated caller.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The account whose data this credential reaches (a key's own account).
    pub account_sid: AccountSid,
    /// That account's owner (itself for a main account).
    pub owner_account_sid: AccountSid,
    /// Set when the caller used a Standard API key.
    pub key_sid: Option<KeySid>,
}

impl Principal {
    pub fn is_main_account(&self) -> bool {
        self.account_sid == self.owner_account_sid
    }

    /// Standard keys may call everything except `/Accounts` and `/Accounts/{Sid}/Keys`; there
    /// Twilio answers 401 20003 (API.md §1.2, support article 50301225354651).
    pub fn require_account_credential(&self) -> Result<()> {
        match self.key_sid {
            None => Ok(()),
            Some(_) => Err(Error::Unauthenticated),
        }
    }
}

pub struct Authenticator {
    keyer: CacheKeyer,
    verified: RwLock<HashMap<[u8; 32], Principal>>,
    /// Bumped by every invalidation; a check that started before one does not cache its result.
    generation: AtomicU64,
    argon2_slots: Semaphore,
}

impl Authenticator {
    pub fn new(concurrency: usize) -> Result<Self> {
        Ok(Self {
            keyer: CacheKeyer::random()?,
            verified: RwLock::new(HashMap::new()),
            generation: AtomicU64::new(0),
            argon2_slots: Semaphore::new(concurrency.max(1)),
        })
    }

    /// Checks a username/secret pair; `Unauthenticated` for anything but a valid, active one.
    pub async fn authenticate(
        &self,
        store: &Store,
        username: &str,
        secret: &str,
    ) -> Result<Principal> {
        let cache_key = self.keyer.key(username, secret);
        if let Ok(verified) = self.verified.read()
            && let Some(principal) = verified.get(&cache_key)
        {
            return Ok(principal.clone());
        }
        let generation = self.generation.load(Ordering::Acquire);

        let (principal, hash) = if let Some(sid) = AccountSid::parse(username) {
            let Some(row) = store.account_credential(sid.as_str()).await? else {
                return Err(Error::Unauthenticated);
            };
            if row.status != "active" || row.owner_status != "active" {
                return Err(Error::Unauthenticated);
            }
            let principal = Principal {
                account_sid: parse_stored(&row.sid)?,
                owner_account_sid: parse_stored(&row.owner_account_sid)?,
                key_sid: None,
            };
            (principal, row.auth_token_hash)
        } else if let Some(sid) = KeySid::parse(username) {
            let Some(row) = store.key_credential(sid.as_str()).await? else {
                return Err(Error::Unauthenticated);
            };
            if row.status != "active" || row.owner_status != "active" {
                return Err(Error::Unauthenticated);
            }
            let principal = Principal {
                account_sid: parse_stored(&row.account_sid)?,
                owner_account_sid: parse_stored(&row.owner_account_sid)?,
                key_sid: Some(sid),
            };
            (principal, row.secret_hash)
        } else {
            return Err(Error::Unauthenticated);
        };

        if !self.verify(secret, hash).await? {
            return Err(Error::Unauthenticated);
        }
        if let Ok(mut verified) = self.verified.write()
            && self.generation.load(Ordering::Acquire) == generation
        {
            verified.insert(cache_key, principal.clone());
        }
        Ok(principal)
    }

    /// One argon2 check, waiting for a free slot and run off the async threads.
    async fn verify(&self, secret: &str, hash: String) -> Result<bool> {
        let _slot = self.argon2_slots.acquire().await.map_err(Internal)?;
        let secret = secret.to_owned();
        tokio::task::spawn_blocking(move || secrets::verify_secret(&secret, &hash))
            .await
            .map_err(Error::internal)
    }

    /// Forgets every credential of `account` and of the accounts it owns (status or token
    /// changed).
    pub fn forget_account(&self, account: &AccountSid) {
        self.forget(|p| &p.account_sid == account || &p.owner_account_sid == account);
    }

    /// Forgets a deleted key.
    pub fn forget_key(&self, key: &KeySid) {
        self.forget(|p| p.key_sid.as_ref() == Some(key));
    }

    fn forget(&self, matches: impl Fn(&Principal) -> bool) {
        let mut verified = match self.verified.write() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        self.generation.fetch_add(1, Ordering::AcqRel);
        verified.retain(|_, principal| !matches(principal));
    }

    /// How many verified credentials are remembered (for metrics and tests).
    pub fn cached(&self) -> usize {
        self.verified.read().map(|v| v.len()).unwrap_or(0)
    }
}

/// SIDs read back from our own rows always match; anything else is corruption.
fn parse_stored(s: &str) -> Result<AccountSid> {
    AccountSid::parse(s).ok_or_else(|| Error::internal(anyhow::anyhow!("malformed SID in store")))
}
