//! Who is calling. Basic auth with `AC…:auth token` or `SK…:key secret` (API.md §1.2).
//!
//! argon2 costs ~19 MiB and tens of milliseconds per check by design, so:
//! - a verified credential is remembered, keyed by an HMAC of sid+secret under a per-process key
//!   (the secret itself is never kept), and forgotten the moment its token, key or account status
//!   changes; failures are never cached;
//! - argon2 runs on `auth_concurrency` dedicated threads, so at most that many checks run at
//!   once and their ~19 MiB buffers are reused in those threads' own memory (spread over the
//!   blocking pool, freed buffers stayed in many malloc arenas: a flood pushed RSS past 450 MiB);
//! - failed attempts are limited per client address: a burst of 20, then 2 a second. Past that
//!   the client gets 429 20429 with `Retry-After` for any credential that is not already
//!   verified — so a flood of wrong passwords costs no argon2, while valid clients (whose
//!   credentials are in the cache) go on unslowed.

use std::{
    collections::HashMap,
    net::IpAddr,
    sync::{
        Arc, Mutex, RwLock,
        atomic::{AtomicU64, Ordering},
    },
    time::Instant,
};

use tokio::sync::{mpsc, oneshot};

use super::{
    secrets::{self, CacheKeyer},
    sid::{AccountSid, KeySid},
};
use crate::{
    error::{Error, Result},
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

/// One argon2 check for the verifier threads.
struct VerifyJob {
    secret: String,
    hash: String,
    reply: oneshot::Sender<bool>,
}

/// Failed-attempt budget of one client address.
struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// Failed attempts allowed in a burst, and refilled per second, per client address.
const FAILURE_BURST: f64 = 20.0;
const FAILURE_REFILL_PER_SEC: f64 = 2.0;

/// Counters for `/metrics`.
#[derive(Default)]
struct Counters {
    hits: AtomicU64,
    misses: AtomicU64,
    failures: AtomicU64,
    limited: AtomicU64,
}

/// A snapshot of the counters.
pub struct AuthStats {
    pub hits: u64,
    pub misses: u64,
    pub failures: u64,
    pub limited: u64,
}

pub struct Authenticator {
    counters: Counters,
    keyer: CacheKeyer,
    verified: RwLock<HashMap<[u8; 32], Principal>>,
    /// Bumped by every invalidation; a check that started before one does not cache its result.
    generation: AtomicU64,
    verifier: mpsc::Sender<VerifyJob>,
    failures: Mutex<HashMap<IpAddr, Bucket>>,
}

impl Authenticator {
    /// Starts `concurrency` verifier threads; they end when the authenticator is dropped.
    pub fn new(concurrency: usize) -> Result<Self> {
        let (verifier, jobs) = mpsc::channel::<VerifyJob>(4096);
        let jobs = Arc::new(Mutex::new(jobs));
        for n in 0..concurrency.max(1) {
            let jobs = Arc::clone(&jobs);
            std::thread::Builder::new()
                .name(format!("argon2-{n}"))
                .spawn(move || {
                    let mut verifier = secrets::ReusableVerifier::default();
                    loop {
                        let job = match jobs.lock() {
                            Ok(mut queue) => queue.blocking_recv(),
                            Err(_) => None,
                        };
                        let Some(job) = job else { return };
                        let _ = job.reply.send(verifier.verify(&job.secret, &job.hash));
                    }
                })
                .map_err(Error::internal)?;
        }
        Ok(Self {
            counters: Counters::default(),
            keyer: CacheKeyer::random()?,
            verified: RwLock::new(HashMap::new()),
            generation: AtomicU64::new(0),
            verifier,
            failures: Mutex::new(HashMap::new()),
        })
    }

    /// Checks a username/secret pair; `Unauthenticated` for anything but a valid, active one,
    /// `TooManyRequests` when `client` has used up its failed-attempt budget.
    pub async fn authenticate(
        &self,
        store: &Store,
        username: &str,
        secret: &str,
        client: Option<IpAddr>,
    ) -> Result<Principal> {
        let cache_key = self.keyer.key(username, secret);
        if let Ok(verified) = self.verified.read()
            && let Some(principal) = verified.get(&cache_key)
        {
            self.counters.hits.fetch_add(1, Ordering::Relaxed);
            return Ok(principal.clone());
        }
        if let Some(ip) = client
            && let Err(limited) = self.check_budget(ip)
        {
            self.counters.limited.fetch_add(1, Ordering::Relaxed);
            return Err(limited);
        }
        self.counters.misses.fetch_add(1, Ordering::Relaxed);
        let result = self
            .verify_uncached(store, username, secret, cache_key)
            .await;
        if matches!(result, Err(Error::Unauthenticated)) {
            self.counters.failures.fetch_add(1, Ordering::Relaxed);
            if let Some(ip) = client {
                self.record_failure(ip);
            }
        }
        result
    }

    async fn verify_uncached(
        &self,
        store: &Store,
        username: &str,
        secret: &str,
        cache_key: [u8; 32],
    ) -> Result<Principal> {
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

    /// One argon2 check on a verifier thread.
    async fn verify(&self, secret: &str, hash: String) -> Result<bool> {
        let (reply, answer) = oneshot::channel();
        let job = VerifyJob {
            secret: secret.to_owned(),
            hash,
            reply,
        };
        self.verifier
            .send(job)
            .await
            .map_err(|_| Error::internal(anyhow::anyhow!("argon2 verifier threads are gone")))?;
        answer.await.map_err(Error::internal)
    }

    /// Refills the client's budget and refuses when less than one attempt is left.
    fn check_budget(&self, ip: IpAddr) -> Result<()> {
        let mut failures = match self.failures.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        let Some(bucket) = failures.get_mut(&ip) else {
            return Ok(());
        };
        let now = Instant::now();
        bucket.tokens = (bucket.tokens
            + now.duration_since(bucket.updated).as_secs_f64() * FAILURE_REFILL_PER_SEC)
            .min(FAILURE_BURST);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            Ok(())
        } else {
            let wait = ((1.0 - bucket.tokens) / FAILURE_REFILL_PER_SEC).ceil() as u64;
            Err(Error::TooManyRequests {
                retry_after_secs: wait.max(1),
            })
        }
    }

    fn record_failure(&self, ip: IpAddr) {
        let mut failures = match self.failures.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        let now = Instant::now();
        // Forget clients whose budget is full again, so the map stays small.
        if failures.len() > 10_000 {
            failures.retain(|_, b| {
                b.tokens + now.duration_since(b.updated).as_secs_f64() * FAILURE_REFILL_PER_SEC
                    < FAILURE_BURST
            });
        }
        let bucket = failures.entry(ip).or_insert(Bucket {
            tokens: FAILURE_BURST,
            updated: now,
        });
        bucket.tokens = (bucket.tokens
            + now.duration_since(bucket.updated).as_secs_f64() * FAILURE_REFILL_PER_SEC)
            .min(FAILURE_BURST)
            - 1.0;
        bucket.updated = now;
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

    pub fn stats(&self) -> AuthStats {
        AuthStats {
            hits: self.counters.hits.load(Ordering::Relaxed),
            misses: self.counters.misses.load(Ordering::Relaxed),
            failures: self.counters.failures.load(Ordering::Relaxed),
            limited: self.counters.limited.load(Ordering::Relaxed),
        }
    }
}

/// SIDs read back from our own rows always match; anything else is corruption.
fn parse_stored(s: &str) -> Result<AccountSid> {
    AccountSid::parse(s).ok_or_else(|| Error::internal(anyhow::anyhow!("malformed SID in store")))
}
