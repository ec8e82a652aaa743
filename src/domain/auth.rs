//! Who is calling. Basic auth with `AC…:auth token` or `SK…:key secret` (API.md §1.2).
//!
//! argon2 costs ~19 MiB and tens of milliseconds per computation by design, so:
//! - a verified credential is remembered, keyed by an HMAC of sid+secret under a per-process key
//!   (the secret itself is never kept), and forgotten the moment its token, key or account status
//!   changes; failures are never cached;
//! - every argon2 computation of a running server — checking a credential and hashing a new one
//!   (API keys, subaccounts, the bootstrapped main account) — runs on one pool of
//!   `auth_concurrency` dedicated threads, each reusing its own ~19 MiB buffer: however many
//!   requests arrive, at most that many computations run and at most that many buffers exist
//!   (hashing on the blocking pool let 250 concurrent key creates reach 4.8 GB: issue 15, F1).
//!   Checks go before hashes in the queue, so a burst of creates does not hold up logins;
//! - failed attempts are limited per client address (an IPv6 client per /64, as the connection
//!   cap counts them: `ClientAddress`): a burst of 20, then 2 a second. A check
//!   *reserves* one failure from the budget before it starts and gets it back when it succeeds,
//!   so concurrent attempts cannot overdraw it (checking first and counting after let 354 of 500
//!   simultaneous wrong tokens through: F2). When checks still running hold the rest of the
//!   budget, a newcomer waits for them instead of being refused, so many valid first requests
//!   from one address still all pass. With no budget left and nothing running, the client gets
//!   429 20429 with `Retry-After` for any credential that is not already verified — a flood of
//!   wrong passwords costs at most the budget in argon2, while valid clients (whose credentials
//!   are in the cache) go on unslowed;
//! - a failed check costs the same whatever failed: an unknown or malformed SID is checked
//!   against a dummy hash of the same cost, and an inactive account or key against its real
//!   hash, in the same pool and under the same budget, so the time taken does not tell which
//!   SIDs exist (F10);
//! - a stored hash that cannot be checked (corrupt, or costing more than our own hashes) is a
//!   fault in our data: a logged 500, never a 401 and never a computation of its size.

use std::{
    collections::{HashMap, VecDeque},
    net::IpAddr,
    sync::{
        Arc, Condvar, Mutex, MutexGuard, PoisonError, RwLock,
        atomic::{AtomicU64, Ordering},
    },
    time::Instant,
};

use tokio::sync::{oneshot, watch};

use super::{
    secrets::{self, Argon2Memory, CacheKeyer, UnusableHash},
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
    /// The account acting for itself: what the server does on an account's behalf with no
    /// request behind it (a Studio flow posting into a conversation).
    pub fn of_account(account_sid: AccountSid) -> Self {
        Self {
            owner_account_sid: account_sid.clone(),
            account_sid,
            key_sid: None,
        }
    }

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

/// Work for the argon2 pool; the answer goes back on `reply`.
enum Argon2Job {
    Check {
        secret: String,
        hash: String,
        reply: oneshot::Sender<Result<bool, UnusableHash>>,
    },
    Hash {
        secret: String,
        reply: oneshot::Sender<Result<String>>,
    },
}

impl Argon2Job {
    /// The request that asked has gone (client disconnected): nobody would read the answer.
    fn abandoned(&self) -> bool {
        match self {
            Self::Check { reply, .. } => reply.is_closed(),
            Self::Hash { reply, .. } => reply.is_closed(),
        }
    }
}

#[derive(Default)]
struct Argon2Queue {
    checks: VecDeque<Argon2Job>,
    hashes: VecDeque<Argon2Job>,
    closed: bool,
}

impl Argon2Queue {
    fn next(&mut self) -> Option<Argon2Job> {
        self.checks.pop_front().or_else(|| self.hashes.pop_front())
    }
}

/// The one place argon2 runs in a server: `threads` threads, each with its own reused
/// working memory, taking jobs from one queue (checks first).
struct Argon2Pool {
    queue: Mutex<Argon2Queue>,
    ready: Condvar,
    checks_run: AtomicU64,
    hashes_run: AtomicU64,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Argon2Pool {
    fn start(threads: usize) -> Result<Arc<Self>> {
        let pool = Arc::new(Self {
            queue: Mutex::new(Argon2Queue::default()),
            ready: Condvar::new(),
            checks_run: AtomicU64::new(0),
            hashes_run: AtomicU64::new(0),
        });
        for n in 0..threads.max(1) {
            let pool = Arc::clone(&pool);
            std::thread::Builder::new()
                .name(format!("argon2-{n}"))
                .spawn(move || pool.work())
                .map_err(Error::internal)?;
        }
        Ok(pool)
    }

    /// A pool thread: runs jobs until the pool is closed.
    fn work(&self) {
        let mut memory = Argon2Memory::default();
        loop {
            let job = {
                let queue = lock(&self.queue);
                let mut queue = self
                    .ready
                    .wait_while(queue, |q| {
                        !q.closed && q.checks.is_empty() && q.hashes.is_empty()
                    })
                    .unwrap_or_else(PoisonError::into_inner);
                if queue.closed {
                    return;
                }
                queue.next()
            };
            let Some(job) = job else { continue };
            if job.abandoned() {
                continue;
            }
            match job {
                Argon2Job::Check {
                    secret,
                    hash,
                    reply,
                } => {
                    self.checks_run.fetch_add(1, Ordering::Relaxed);
                    let _ = reply.send(memory.verify(&secret, &hash));
                }
                Argon2Job::Hash { secret, reply } => {
                    self.hashes_run.fetch_add(1, Ordering::Relaxed);
                    let _ = reply.send(memory.hash(&secret));
                }
            }
        }
    }

    fn submit(&self, job: Argon2Job) -> Result<()> {
        let mut queue = lock(&self.queue);
        if queue.closed {
            return Err(Error::internal(anyhow::anyhow!(
                "the argon2 pool is closed"
            )));
        }
        match job {
            Argon2Job::Check { .. } => queue.checks.push_back(job),
            Argon2Job::Hash { .. } => queue.hashes.push_back(job),
        }
        self.ready.notify_one();
        Ok(())
    }

    /// Ends the threads once they finish what they are computing; queued jobs are dropped, so
    /// their requesters get an error rather than waiting forever.
    fn close(&self) {
        let mut queue = lock(&self.queue);
        queue.closed = true;
        queue.checks.clear();
        queue.hashes.clear();
        self.ready.notify_all();
    }
}

/// The address a client is counted under, by the failed-auth budget here and by the connection
/// cap (`http::edge::AddressLimiter`), so both see the same clients: an IPv6 client by its /64,
/// which one host usually controls whole (counting whole addresses let one rotate through its
/// /64 for unlimited argon2 checks), an IPv4-mapped IPv6 address as that IPv4 address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientAddress(IpAddr);

impl ClientAddress {
    pub fn of(ip: IpAddr) -> Self {
        match ip.to_canonical() {
            IpAddr::V6(v6) => {
                let prefix = u128::from(v6) & !((1u128 << 64) - 1);
                Self(IpAddr::V6(prefix.into()))
            }
            v4 => Self(v4),
        }
    }
}

/// Failed attempts allowed in a burst, and refilled per second, per client address.
const FAILURE_BURST: f64 = 20.0;
const FAILURE_REFILL_PER_SEC: f64 = 2.0;
/// Past this many addresses, those whose budget is full again (and idle) are forgotten.
const MAX_TRACKED_CLIENTS: usize = 10_000;

/// Failed-attempt budget of one client address.
struct Bucket {
    tokens: f64,
    updated: Instant,
    /// Checks holding a reservation from this budget right now.
    in_flight: u32,
    /// Signalled whenever a reservation settles, for the requests waiting on one.
    settled: watch::Sender<()>,
}

impl Bucket {
    fn full(now: Instant) -> Self {
        Self {
            tokens: FAILURE_BURST,
            updated: now,
            in_flight: 0,
            settled: watch::Sender::new(()),
        }
    }

    fn refill(&mut self, now: Instant) {
        self.tokens = (self.tokens
            + now.duration_since(self.updated).as_secs_f64() * FAILURE_REFILL_PER_SEC)
            .min(FAILURE_BURST);
        self.updated = now;
    }
}

enum Admission {
    Reserved,
    /// The rest of the budget is held by checks still running: wait for one to settle.
    Wait(watch::Receiver<()>),
    Refused {
        retry_after_secs: u64,
    },
}

/// Failed-attempt budgets by client address.
#[derive(Default)]
struct FailureBudget {
    buckets: Mutex<HashMap<ClientAddress, Bucket>>,
}

impl FailureBudget {
    /// Takes one failure from the budget of `ip`'s client before its check starts, waiting
    /// while running checks hold what is left; refuses once nothing is left and nothing is
    /// running.
    async fn reserve(&self, ip: IpAddr) -> Result<Reservation<'_>> {
        let client = ClientAddress::of(ip);
        loop {
            match self.admit(client) {
                Admission::Reserved => {
                    return Ok(Reservation {
                        budget: self,
                        client,
                        refund: false,
                    });
                }
                Admission::Refused { retry_after_secs } => {
                    return Err(Error::TooManyRequests { retry_after_secs });
                }
                // Settled (or the bucket went away): look again either way.
                Admission::Wait(mut settled) => {
                    let _ = settled.changed().await;
                }
            }
        }
    }

    fn admit(&self, client: ClientAddress) -> Admission {
        let mut buckets = lock(&self.buckets);
        let now = Instant::now();
        if buckets.len() >= MAX_TRACKED_CLIENTS && !buckets.contains_key(&client) {
            buckets.retain(|_, bucket| {
                bucket.refill(now);
                bucket.in_flight > 0 || bucket.tokens < FAILURE_BURST
            });
        }
        let bucket = buckets.entry(client).or_insert_with(|| Bucket::full(now));
        bucket.refill(now);
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            bucket.in_flight += 1;
            Admission::Reserved
        } else if bucket.in_flight > 0 {
            // Subscribed under the lock, so a settlement after this point is not missed.
            Admission::Wait(bucket.settled.subscribe())
        } else {
            let wait = ((1.0 - bucket.tokens) / FAILURE_REFILL_PER_SEC).ceil() as u64;
            Admission::Refused {
                retry_after_secs: wait.max(1),
            }
        }
    }

    fn settle(&self, client: ClientAddress, refund: bool) {
        let mut buckets = lock(&self.buckets);
        if let Some(bucket) = buckets.get_mut(&client) {
            bucket.in_flight = bucket.in_flight.saturating_sub(1);
            if refund {
                bucket.tokens = (bucket.tokens + 1.0).min(FAILURE_BURST);
            }
            bucket.settled.send_replace(());
        }
    }
}

/// One failure taken from a client's budget for the length of a check. Dropped as it is, the
/// failure stays counted — also when the request is abandoned midway, so disconnecting does not
/// give an attacker its budget back; `refund` returns it (the check did not fail).
struct Reservation<'a> {
    budget: &'a FailureBudget,
    client: ClientAddress,
    refund: bool,
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        self.budget.settle(self.client, self.refund);
    }
}

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
    /// argon2 checks the pool ran (real and dummy hashes alike).
    pub argon2_checks: u64,
    /// argon2 hashes of new credentials the pool ran.
    pub argon2_hashes: u64,
}

/// What the store holds for a SID: the principal it would authenticate as, its hash, and
/// whether it may authenticate at all.
struct Candidate {
    principal: Principal,
    hash: String,
    active: bool,
}

pub struct Authenticator {
    counters: Counters,
    keyer: CacheKeyer,
    verified: RwLock<HashMap<[u8; 32], Principal>>,
    /// Bumped by every invalidation; a check that started before one does not cache its result.
    generation: AtomicU64,
    pool: Arc<Argon2Pool>,
    /// Checked when the SID matches nothing, so a miss costs what a wrong secret costs.
    dummy_hash: String,
    failures: FailureBudget,
}

impl Drop for Authenticator {
    fn drop(&mut self) {
        self.pool.close();
    }
}

impl Authenticator {
    /// Starts `concurrency` argon2 threads; they end when the authenticator is dropped.
    pub fn new(concurrency: usize) -> Result<Self> {
        Ok(Self {
            counters: Counters::default(),
            keyer: CacheKeyer::random()?,
            verified: RwLock::new(HashMap::new()),
            generation: AtomicU64::new(0),
            pool: Argon2Pool::start(concurrency)?,
            dummy_hash: secrets::dummy_hash(),
            failures: FailureBudget::default(),
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
        let mut reservation = match client {
            Some(ip) => match self.failures.reserve(ip).await {
                Ok(reservation) => Some(reservation),
                Err(limited) => {
                    self.counters.limited.fetch_add(1, Ordering::Relaxed);
                    return Err(limited);
                }
            },
            None => None,
        };
        self.counters.misses.fetch_add(1, Ordering::Relaxed);
        let result = self
            .verify_uncached(store, username, secret, cache_key)
            .await;
        if matches!(result, Err(Error::Unauthenticated)) {
            self.counters.failures.fetch_add(1, Ordering::Relaxed);
        } else if let Some(reservation) = reservation.as_mut() {
            // Verified, or a fault of ours (storage, an unusable stored hash) that says nothing
            // about the credential.
            reservation.refund = true;
        }
        drop(reservation);
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
        let (hash, candidate) = match lookup(store, username).await? {
            Some(Candidate {
                principal,
                hash,
                active,
            }) => (hash, Some((principal, active))),
            None => (self.dummy_hash.clone(), None),
        };
        // Only a username that named a stored credential (so is a SID) is named in a log.
        let whose = match &candidate {
            Some(_) => username,
            None => "the dummy hash",
        };
        // Always one full argon2 check, whatever the lookup found (F10).
        let matched = self.secret_matches(whose, secret, hash).await?;
        let Some((principal, true)) = candidate.filter(|_| matched) else {
            return Err(Error::Unauthenticated);
        };
        if let Ok(mut verified) = self.verified.write()
            && self.generation.load(Ordering::Acquire) == generation
        {
            verified.insert(cache_key, principal.clone());
        }
        Ok(principal)
    }

    /// One argon2 check on the pool: whether `secret` matches the stored `hash` of the
    /// credential `whose` (a SID). A stored hash that cannot be checked (corrupt, or costing
    /// more than our own) is a fault in our data, not a wrong secret: an internal error (logged
    /// where it is rendered, naming `whose` and what is wrong, never the hash or the secret).
    pub async fn secret_matches(&self, whose: &str, secret: &str, hash: String) -> Result<bool> {
        let (reply, answer) = oneshot::channel();
        self.pool.submit(Argon2Job::Check {
            secret: secret.to_owned(),
            hash,
            reply,
        })?;
        answer.await.map_err(Error::internal)?.map_err(|unusable| {
            Error::internal(anyhow::anyhow!(
                "the stored argon2 hash of {whose} {unusable}"
            ))
        })
    }

    /// argon2id PHC string of a new credential's `secret`, computed on the pool (bounded memory
    /// however many creates arrive at once).
    pub async fn hash_secret(&self, secret: &str) -> Result<String> {
        let (reply, answer) = oneshot::channel();
        self.pool.submit(Argon2Job::Hash {
            secret: secret.to_owned(),
            reply,
        })?;
        answer.await.map_err(Error::internal)?
    }

    /// Forgets every credential of `account` and of the accounts it owns (status or token
    /// changed).
    pub fn forget_account(&self, account: &AccountSid) {
        self.forget(|p| &p.account_sid == account || &p.owner_account_sid == account);
    }

    /// Forgets every verified credential (another instance changed one: `instances`).
    pub fn forget_all(&self) {
        self.forget(|_| true);
    }

    /// Forgets a deleted key.
    pub fn forget_key(&self, key: &KeySid) {
        self.forget(|p| p.key_sid.as_ref() == Some(key));
    }

    fn forget(&self, matches: impl Fn(&Principal) -> bool) {
        let mut verified = self
            .verified
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        self.generation.fetch_add(1, Ordering::AcqRel);
        verified.retain(|_, principal| !matches(principal));
    }

    pub fn stats(&self) -> AuthStats {
        AuthStats {
            hits: self.counters.hits.load(Ordering::Relaxed),
            misses: self.counters.misses.load(Ordering::Relaxed),
            failures: self.counters.failures.load(Ordering::Relaxed),
            limited: self.counters.limited.load(Ordering::Relaxed),
            argon2_checks: self.pool.checks_run.load(Ordering::Relaxed),
            argon2_hashes: self.pool.hashes_run.load(Ordering::Relaxed),
        }
    }
}

/// The credential `username` (an account or key SID) names as it stands now, when it is
/// active: who it is and its stored hash. The console ties a session to (a MAC of) that hash, so
/// a rotated token or a deleted key ends the session (no argon2 here: the session was verified
/// at sign-in).
pub async fn current_credential(
    store: &Store,
    username: &str,
) -> Result<Option<(Principal, String)>> {
    Ok(lookup(store, username)
        .await?
        .filter(|c| c.active)
        .map(|c| (c.principal, c.hash)))
}

/// The stored credential `username` names, if any. A username that is no SID at all is
/// treated like an unknown one.
async fn lookup(store: &Store, username: &str) -> Result<Option<Candidate>> {
    if let Some(sid) = AccountSid::parse(username) {
        let Some(row) = store.account_credential(sid.as_str()).await? else {
            return Ok(None);
        };
        Ok(Some(Candidate {
            active: row.status == "active" && row.owner_status == "active",
            principal: Principal {
                account_sid: parse_stored(&row.sid)?,
                owner_account_sid: parse_stored(&row.owner_account_sid)?,
                key_sid: None,
            },
            hash: row.auth_token_hash,
        }))
    } else if let Some(sid) = KeySid::parse(username) {
        let Some(row) = store.key_credential(sid.as_str()).await? else {
            return Ok(None);
        };
        Ok(Some(Candidate {
            active: row.status == "active" && row.owner_status == "active",
            principal: Principal {
                account_sid: parse_stored(&row.account_sid)?,
                owner_account_sid: parse_stored(&row.owner_account_sid)?,
                key_sid: Some(sid),
            },
            hash: row.secret_hash,
        }))
    } else {
        Ok(None)
    }
}

/// SIDs read back from our own rows always match; anything else is corruption.
fn parse_stored(s: &str) -> Result<AccountSid> {
    super::stored(s, "account SID")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn a_client_is_its_ipv4_address_or_its_ipv6_64() {
        let same_64 = ClientAddress::of(ip("2001:db8:1:2::1"));
        assert_eq!(
            same_64,
            ClientAddress::of(ip("2001:db8:1:2:ffff:ffff:ffff:ffff"))
        );
        assert_ne!(same_64, ClientAddress::of(ip("2001:db8:1:3::1")));
        assert_eq!(
            ClientAddress::of(ip("::ffff:10.0.0.1")),
            ClientAddress::of(ip("10.0.0.1"))
        );
        assert_ne!(
            ClientAddress::of(ip("10.0.0.1")),
            ClientAddress::of(ip("10.0.0.2"))
        );
    }

    /// Issue 15 review: rotating addresses within one /64 does not buy more failures.
    #[tokio::test]
    async fn an_ipv6_client_rotating_within_its_64_spends_one_budget() {
        let budget = FailureBudget::default();
        for n in 0..FAILURE_BURST as u16 {
            let rotated = IpAddr::V6(std::net::Ipv6Addr::new(0x2001, 0xdb8, 0, 7, n, 0, 0, 1));
            // Dropped without a refund: one failure spent.
            drop(budget.reserve(rotated).await.unwrap());
        }
        let next = budget.reserve(ip("2001:db8:0:7:abcd::99")).await;
        assert!(
            matches!(next, Err(Error::TooManyRequests { .. })),
            "a fresh address of the same /64 is refused"
        );
        assert!(
            budget.reserve(ip("2001:db8:0:8::1")).await.is_ok(),
            "another /64 is not"
        );
        assert!(budget.reserve(ip("192.0.2.1")).await.is_ok());
    }

    #[tokio::test]
    async fn an_unusable_stored_hash_is_an_internal_error_naming_neither_hash_nor_secret() {
        let auth = Authenticator::new(1).unwrap();
        let real = auth.hash_secret("s3cret").await.unwrap();
        assert!(
            auth.secret_matches("AC1", "s3cret", real.clone())
                .await
                .unwrap()
        );
        assert!(
            !auth
                .secret_matches("AC1", "wrong", real.clone())
                .await
                .unwrap()
        );
        let corrupt = real.replace("$v=19$", "$v=19$x");
        let four_gib = real.replace("m=19456", "m=4194304");
        for unusable in [corrupt, four_gib] {
            let Err(Error::Internal(cause)) =
                auth.secret_matches("AC1", "s3cret", unusable.clone()).await
            else {
                panic!("{unusable}: not an internal error");
            };
            let logged = format!("{cause:#}");
            assert!(logged.contains("AC1"), "{logged}");
            let salt_and_output = unusable.rsplitn(3, '$').take(2).collect::<Vec<_>>();
            for part in salt_and_output.iter().chain([&"s3cret"]) {
                assert!(!logged.contains(part), "{logged} repeats {part}");
            }
        }
    }
}
