//! Which service a request addresses, at the bottom of the Conversations domain: every resource
//! file imports this one, it imports none of them.
//!
//! - `/v1/Users…`, `/v1/Roles…` (the default family) act on the account's default service,
//!   named by `GET /v1/Configuration`; `/v1/Services/{IS}/…` on the one named.
//! - A foreign, unknown or deleted service is 404, as if it had never existed.
//! - Resolved services are cached per (account, path service) so the hot user and role paths
//!   skip two queries; every change to an account's services or configuration forgets them.

use std::{
    collections::HashMap,
    sync::{
        RwLock,
        atomic::{AtomicU64, Ordering},
    },
};

use crate::{
    domain::{
        Core,
        auth::Principal,
        fetch_owned, read_back,
        sid::{AccountSid, RoleSid, ServiceSid},
    },
    error::{Error, Result},
    store::conversations::ServiceRow,
};

/// `conversations.v1.service` with its configuration (`…service_configuration`).
#[derive(Debug, Clone, PartialEq)]
pub struct Service {
    pub sid: ServiceSid,
    pub account_sid: AccountSid,
    pub friendly_name: String,
    pub default_chat_service_role_sid: Option<RoleSid>,
    pub default_conversation_role_sid: Option<RoleSid>,
    pub default_conversation_creator_role_sid: Option<RoleSid>,
    pub reachability_enabled: bool,
    pub date_created: i64,
    pub date_updated: i64,
}

/// `values` as the JSON array that is stored, duplicates collapsed, first occurrence kept; a
/// value outside `allowed` is 400 20001 with the message `refuse` makes of it.
pub(crate) fn distinct_members(
    values: Vec<String>,
    allowed: &[&str],
    refuse: impl Fn(&str) -> String,
) -> Result<String> {
    let mut kept: Vec<String> = Vec::with_capacity(values.len());
    for value in values {
        if !allowed.contains(&value.as_str()) {
            return Err(Error::invalid(refuse(&value)));
        }
        if !kept.contains(&value) {
            kept.push(value);
        }
    }
    Ok(serde_json::Value::from(kept).to_string())
}

read_back!(|row: ServiceRow| -> Service {
    parsed: sid, account_sid;
    optional: default_chat_service_role_sid, default_conversation_role_sid,
        default_conversation_creator_role_sid;
    copied: friendly_name, reachability_enabled, date_created, date_updated;
});

/// Which service a request addresses: the account's default (`/v1/Users…`) or one named in the
/// path (`/v1/Services/{IS}/…`).
#[derive(Debug, Clone, Copy)]
pub enum Scope<'a> {
    Default,
    Service(&'a ServiceSid),
}

impl<'a> From<Option<&'a ServiceSid>> for Scope<'a> {
    fn from(service: Option<&'a ServiceSid>) -> Self {
        service.map_or(Scope::Default, Scope::Service)
    }
}

/// Resolves a scope to one of the caller's services; foreign or unknown → 404.
pub async fn resolve(core: &Core, principal: &Principal, scope: Scope<'_>) -> Result<Service> {
    let account = &principal.account_sid;
    let key = (account.clone(), scope_key(scope));
    if let Some(service) = core.services.get(&key) {
        return Ok(service);
    }
    let generation = core.services.generation();
    let sid = match scope {
        Scope::Service(sid) => sid.as_str().to_owned(),
        Scope::Default => {
            core.store
                .fetch_configuration(account.as_str())
                .await?
                .ok_or(Error::NotFound)?
                .default_chat_service_sid
        }
    };
    let service = fetch_owned::<ServiceRow, Service>(core, account, &sid).await?;
    core.services.put(key, service.clone(), generation);
    Ok(service)
}

fn scope_key(scope: Scope<'_>) -> Option<ServiceSid> {
    match scope {
        Scope::Default => None,
        Scope::Service(sid) => Some(sid.clone()),
    }
}

type CacheKey = (AccountSid, Option<ServiceSid>);

/// Resolved services by (account, path service). Any change to an account's services or
/// configuration forgets the account's entries (`forget`, called before and after the change);
/// a lookup that raced with such a change does not store its result (the generation moved).
#[derive(Default)]
pub struct ServiceCache {
    entries: RwLock<HashMap<CacheKey, Service>>,
    generation: AtomicU64,
}

impl ServiceCache {
    fn get(&self, key: &CacheKey) -> Option<Service> {
        self.entries.read().ok()?.get(key).cloned()
    }

    fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    fn put(&self, key: CacheKey, service: Service, generation: u64) {
        if let Ok(mut entries) = self.entries.write()
            && self.generation() == generation
        {
            if entries.len() > 100_000 {
                entries.clear();
            }
            entries.insert(key, service);
        }
    }

    /// Forgets everything cached (another instance changed a service: `domain::instances`).
    pub fn forget_all(&self) {
        let mut entries = match self.entries.write() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        self.generation.fetch_add(1, Ordering::AcqRel);
        entries.clear();
    }

    /// Forgets everything cached for `account`.
    pub fn forget(&self, account: &AccountSid) {
        let mut entries = match self.entries.write() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        self.generation.fetch_add(1, Ordering::AcqRel);
        entries.retain(|(a, _), _| a != account);
    }
}
