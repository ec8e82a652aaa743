//! Conversations v1: services, roles, users and configuration (seed pages 001/002, spec
//! `twilio_conversations_v1.json`, DESIGN.md "Conversations").
//!
//! - Each account has a default service, created with the account, named by
//!   `GET /v1/Configuration`; `/v1/Users` and `/v1/Roles` act on it.
//! - A new service gets four default roles *(ours: Twilio documents them only for Programmable
//!   Chat; see ../shared/reference/conversations-roles.md)*.
//! - Identity: required, case-sensitive, unique per service (a UNIQUE index; a clash is 409
//!   50201), not shaped like a `US` SID (50206), at most 256 bytes (50207; the limit is ours).

use serde_json::Value;
use tracing::instrument;

use super::{
    Core,
    auth::Principal,
    paging::{Page, PageRequest},
    required,
    sid::{AccountSid, RoleSid, ServiceSid, UserSid, matches_pattern},
    time,
    webhooks::{Targets, UserEvent, targets},
};
use crate::{
    error::{Error, Result},
    store::{
        StoreError,
        conversations::{
            ConfigChange, ConfigurationRow, NewRole, NewService, RoleDelete, RoleRow,
            ServiceConfigChange, ServiceRow, UserRow,
        },
    },
};

/// https://twilio.com/docs/api/errors/50201 "User already exists" (409, twilio-php #680).
pub const USER_ALREADY_EXISTS: u32 = 50201;
/// https://www.twilio.com/docs/api/errors/50206 "Identity should not match user SID pattern".
pub const IDENTITY_LOOKS_LIKE_SID: u32 = 50206;
/// https://twilio.com/docs/api/errors/50207 "Identity too long" (limit undocumented).
pub const IDENTITY_TOO_LONG: u32 = 50207;
/// Our limit for 50207.
pub const MAX_IDENTITY_BYTES: usize = 256;
pub const DEFAULT_SERVICE_NAME: &str = "Default Conversations Service";

/// Permission values by role type (Conversations Role docs, "Permission Values").
const SERVICE_PERMISSIONS: &[&str] = &[
    "addParticipant",
    "createConversation",
    "deleteAnyMessage",
    "deleteConversation",
    "editAnyMessage",
    "editAnyMessageAttributes",
    "editAnyUserInfo",
    "editConversationAttributes",
    "editConversationName",
    "editOwnMessage",
    "editOwnMessageAttributes",
    "editOwnUserInfo",
    "joinConversation",
    "removeParticipant",
];
const CONVERSATION_PERMISSIONS: &[&str] = &[
    "addParticipant",
    "deleteAnyMessage",
    "deleteConversation",
    "deleteOwnMessage",
    "editAnyMessage",
    "editAnyMessageAttributes",
    "editAnyUserInfo",
    "editConversationAttributes",
    "editConversationName",
    "editOwnMessage",
    "editOwnMessageAttributes",
    "editOwnUserInfo",
    "leaveConversation",
    "removeParticipant",
    "sendMediaMessage",
    "sendMessage",
];

/// The four default roles: Chat's documented sets with Channel→Conversation names *(ours)*.
const DEFAULT_ROLES: [(&str, &str, &[&str]); 4] = [
    (
        "service admin",
        "service",
        &[
            "addParticipant",
            "createConversation",
            "deleteAnyMessage",
            "deleteConversation",
            "editAnyMessage",
            "editAnyMessageAttributes",
            "editAnyUserInfo",
            "editConversationAttributes",
            "editConversationName",
            "joinConversation",
            "removeParticipant",
        ],
    ),
    (
        "service user",
        "service",
        &["createConversation", "editOwnUserInfo", "joinConversation"],
    ),
    (
        "channel admin",
        "conversation",
        &[
            "addParticipant",
            "deleteAnyMessage",
            "deleteConversation",
            "deleteOwnMessage",
            "editAnyMessage",
            "editAnyMessageAttributes",
            "editAnyUserInfo",
            "editConversationAttributes",
            "editConversationName",
            "editOwnMessage",
            "editOwnMessageAttributes",
            "leaveConversation",
            "removeParticipant",
            "sendMediaMessage",
            "sendMessage",
        ],
    ),
    (
        "channel user",
        "conversation",
        &[
            "sendMessage",
            "leaveConversation",
            "editOwnMessage",
            "deleteOwnMessage",
        ],
    ),
];

/// A service with its four default roles; `service user` is the users' default role,
/// `channel user` the conversation default and `channel admin` the creator default.
pub fn new_service(account: &AccountSid, friendly_name: &str, now: i64) -> NewService {
    let roles: Vec<NewRole> = DEFAULT_ROLES
        .iter()
        .map(|(name, kind, permissions)| NewRole {
            sid: RoleSid::new().to_string(),
            friendly_name: (*name).to_owned(),
            r#type: (*kind).to_owned(),
            permissions: Value::from(permissions.to_vec()).to_string(),
        })
        .collect();
    NewService {
        sid: ServiceSid::new().to_string(),
        account_sid: account.to_string(),
        friendly_name: friendly_name.to_owned(),
        default_chat_service_role_sid: roles[1].sid.clone(),
        default_conversation_role_sid: roles[3].sid.clone(),
        default_conversation_creator_role_sid: roles[2].sid.clone(),
        roles,
        now,
    }
}

/// The default service every account is created with.
pub fn default_service(account: &AccountSid, now: i64) -> NewService {
    new_service(account, DEFAULT_SERVICE_NAME, now)
}

/// Which service a request addresses: the account's default (`/v1/Users…`) or one named in the
/// path (`/v1/Services/{IS}/…`).
#[derive(Debug, Clone, Copy)]
pub enum Scope<'a> {
    Default,
    Service(&'a str),
}

/// Resolves a scope to one of the caller's services; foreign, unknown or malformed → 404.
pub async fn resolve(core: &Core, principal: &Principal, scope: Scope<'_>) -> Result<ServiceRow> {
    let account = principal.account_sid.as_str();
    let key = (
        account.to_owned(),
        match scope {
            Scope::Default => None,
            Scope::Service(raw) => Some(raw.to_owned()),
        },
    );
    if let Some(service) = core.services.get(&key) {
        return Ok(service);
    }
    let generation = core.services.generation();
    let sid = match scope {
        Scope::Service(raw) => ServiceSid::parse(raw).ok_or(Error::NotFound)?.to_string(),
        Scope::Default => {
            core.store
                .fetch_configuration(account)
                .await?
                .ok_or(Error::NotFound)?
                .default_chat_service_sid
        }
    };
    let service = core
        .store
        .fetch_service(account, &sid)
        .await?
        .ok_or(Error::NotFound)?;
    core.services.put(key, service.clone(), generation);
    Ok(service)
}

/// Resolved services by (account, path service), so the hot user and role paths skip two
/// queries. Any change to an account's services or configuration forgets the account's entries;
/// a lookup that raced with such a change does not store its result.
#[derive(Default)]
pub struct ServiceCache {
    entries: std::sync::RwLock<std::collections::HashMap<(String, Option<String>), ServiceRow>>,
    generation: std::sync::atomic::AtomicU64,
}

impl ServiceCache {
    fn get(&self, key: &(String, Option<String>)) -> Option<ServiceRow> {
        self.entries.read().ok()?.get(key).cloned()
    }

    fn generation(&self) -> u64 {
        self.generation.load(std::sync::atomic::Ordering::Acquire)
    }

    fn put(&self, key: (String, Option<String>), service: ServiceRow, generation: u64) {
        if let Ok(mut entries) = self.entries.write()
            && self.generation() == generation
        {
            if entries.len() > 100_000 {
                entries.clear();
            }
            entries.insert(key, service);
        }
    }

    /// Forgets everything cached for `account`.
    pub fn forget(&self, account: &str) {
        let mut entries = match self.entries.write() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        self.generation
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        entries.retain(|(a, _), _| a != account);
    }
}

// ---- services ----

/// "limited to 256 characters" (spec, conversations.v1.service.friendly_name).
pub(crate) fn check_service_name(name: &str) -> Result<()> {
    super::check_chars(Some(name), "FriendlyName", 256)
}

/// "up to 64 characters" (spec, CreateRole FriendlyName).
pub(crate) fn check_role_name(name: &str) -> Result<()> {
    super::check_chars(Some(name), "FriendlyName", 64)
}

/// Not documented for users; Conversations names are limited to 256 characters *(ours)*.
pub(crate) fn check_user_name(name: Option<&str>) -> Result<()> {
    super::check_chars(name, "FriendlyName", 256)
}

#[instrument(skip_all)]
pub async fn create_service(
    core: &Core,
    principal: &Principal,
    friendly_name: &str,
) -> Result<ServiceRow> {
    check_service_name(friendly_name)?;
    let new = new_service(&principal.account_sid, friendly_name, time::now());
    Ok(core.store.create_service(&new).await?)
}

pub async fn list_services(
    core: &Core,
    principal: &Principal,
    request: PageRequest,
) -> Result<Page<ServiceRow>> {
    let rows = core
        .store
        .list_services(principal.account_sid.as_str(), request.keyset())
        .await?;
    Ok(Page::from_rows(request, rows, |r| r.seq))
}

/// Deletes a service with its roles and users. The account's default service cannot be deleted
/// while it is the default *(ours)*: point `DefaultChatServiceSid` elsewhere first.
#[instrument(skip_all)]
pub async fn delete_service(core: &Core, principal: &Principal, raw_sid: &str) -> Result<()> {
    let service = resolve(core, principal, Scope::Service(raw_sid)).await?;
    let deleted = core
        .store
        .delete_service(principal.account_sid.as_str(), &service.sid)
        .await;
    core.services.forget(principal.account_sid.as_str());
    match deleted? {
        Some(true) => Ok(()),
        Some(false) => Err(Error::NotFound),
        None => Err(Error::invalid(
            "Invalid request: the account's default service cannot be deleted; set another DefaultChatServiceSid in /v1/Configuration first",
        )),
    }
}

// ---- configuration ----

pub async fn configuration(core: &Core, principal: &Principal) -> Result<ConfigurationRow> {
    core.store
        .fetch_configuration(principal.account_sid.as_str())
        .await?
        .ok_or(Error::NotFound)
}

/// An ISO 8601 duration `P[nD][T[nH][nM][nS]]` (also `nW`), in seconds.
pub fn parse_duration(text: &str) -> Option<u64> {
    let rest = text.strip_prefix('P')?;
    let (date, clock) = match rest.split_once('T') {
        Some((d, t)) if !t.is_empty() => (d, Some(t)),
        Some(_) => return None,
        None => (rest, None),
    };
    fn units(part: &str, table: &[(char, u64)]) -> Option<u64> {
        let mut total = 0u64;
        let mut number = String::new();
        let mut allowed = table.iter();
        for c in part.chars() {
            if c.is_ascii_digit() {
                number.push(c);
                continue;
            }
            let (_, scale) = allowed.by_ref().find(|(unit, _)| *unit == c)?;
            let n: u64 = number.parse().ok()?;
            total = total.checked_add(n.checked_mul(*scale)?)?;
            number.clear();
        }
        number.is_empty().then_some(total)
    }
    let days = units(date, &[('W', 7 * 86_400), ('D', 86_400)])?;
    let time = clock.map_or(Some(0), |t| units(t, &[('H', 3600), ('M', 60), ('S', 1)]))?;
    (date.len() + clock.map_or(0, str::len) > 0).then_some(days + time)
}

pub(crate) fn check_timer(
    value: Option<String>,
    name: &str,
    minimum_secs: u64,
) -> Result<Option<String>> {
    match value {
        None => Ok(None),
        Some(text) => match parse_duration(&text) {
            Some(secs) if secs >= minimum_secs => Ok(Some(text)),
            _ => Err(Error::invalid(format!(
                "Invalid parameter {name}: must be an ISO 8601 duration of at least {} minute(s)",
                minimum_secs / 60
            ))),
        },
    }
}

pub struct ConfigInput {
    pub default_chat_service_sid: Option<String>,
    pub default_messaging_service_sid: Option<String>,
    pub default_inactive_timer: Option<String>,
    pub default_closed_timer: Option<String>,
}

/// Timers: inactive at least 1 minute, closed at least 10 (spec descriptions).
#[instrument(skip_all)]
pub async fn update_configuration(
    core: &Core,
    principal: &Principal,
    input: ConfigInput,
) -> Result<ConfigurationRow> {
    let account = principal.account_sid.as_str();
    if let Some(sid) = &input.default_chat_service_sid {
        let parsed = ServiceSid::parse(sid).ok_or_else(|| {
            Error::invalid(
                "Invalid parameter DefaultChatServiceSid: must match ^IS[0-9a-fA-F]{32}$",
            )
        })?;
        if core
            .store
            .fetch_service(account, parsed.as_str())
            .await?
            .is_none()
        {
            return Err(Error::invalid(
                "Invalid parameter DefaultChatServiceSid: no such service in this account",
            ));
        }
    }
    if let Some(sid) = &input.default_messaging_service_sid
        && !matches_pattern(sid, "MG")
    {
        return Err(Error::invalid(
            "Invalid parameter DefaultMessagingServiceSid: must match ^MG[0-9a-fA-F]{32}$",
        ));
    }
    let change = ConfigChange {
        default_chat_service_sid: input.default_chat_service_sid,
        default_messaging_service_sid: input.default_messaging_service_sid,
        default_inactive_timer: check_timer(
            input.default_inactive_timer,
            "DefaultInactiveTimer",
            60,
        )?,
        default_closed_timer: check_timer(input.default_closed_timer, "DefaultClosedTimer", 600)?,
    };
    let updated = core.store.update_configuration(account, &change).await;
    core.services.forget(account);
    updated?.ok_or(Error::NotFound)
}

pub struct ServiceConfigInput {
    pub default_chat_service_role_sid: Option<String>,
    pub default_conversation_role_sid: Option<String>,
    pub default_conversation_creator_role_sid: Option<String>,
    pub reachability_enabled: Option<bool>,
}

/// A role SID named in a configuration: pattern, this service, the right type.
async fn check_role(
    core: &Core,
    service: &ServiceRow,
    sid: Option<String>,
    name: &str,
    kind: &str,
) -> Result<Option<String>> {
    let Some(sid) = sid else { return Ok(None) };
    let parsed = RoleSid::parse(&sid).ok_or_else(|| {
        Error::invalid(format!(
            "Invalid parameter {name}: must match ^RL[0-9a-fA-F]{{32}}$"
        ))
    })?;
    match core.store.fetch_role(&service.sid, parsed.as_str()).await? {
        Some(role) if role.r#type == kind => Ok(Some(sid)),
        Some(_) => Err(Error::invalid(format!(
            "Invalid parameter {name}: must name a {kind} role"
        ))),
        None => Err(Error::invalid(format!(
            "Invalid parameter {name}: no such role in this service"
        ))),
    }
}

#[instrument(skip_all)]
pub async fn update_service_configuration(
    core: &Core,
    principal: &Principal,
    raw_sid: &str,
    input: ServiceConfigInput,
) -> Result<ServiceRow> {
    let service = resolve(core, principal, Scope::Service(raw_sid)).await?;
    let change = ServiceConfigChange {
        default_chat_service_role_sid: check_role(
            core,
            &service,
            input.default_chat_service_role_sid,
            "DefaultChatServiceRoleSid",
            "service",
        )
        .await?,
        default_conversation_role_sid: check_role(
            core,
            &service,
            input.default_conversation_role_sid,
            "DefaultConversationRoleSid",
            "conversation",
        )
        .await?,
        default_conversation_creator_role_sid: check_role(
            core,
            &service,
            input.default_conversation_creator_role_sid,
            "DefaultConversationCreatorRoleSid",
            "conversation",
        )
        .await?,
        reachability_enabled: input.reachability_enabled,
    };
    let updated = core
        .store
        .update_service_config(
            principal.account_sid.as_str(),
            &service.sid,
            &change,
            time::now(),
        )
        .await;
    core.services.forget(principal.account_sid.as_str());
    updated?.ok_or(Error::NotFound)
}

// ---- roles ----

pub fn parse_role_type(s: &str) -> Result<&'static str> {
    match s {
        "service" => Ok("service"),
        "conversation" => Ok("conversation"),
        _ => Err(Error::invalid(format!(
            "Invalid parameter Type: must be service or conversation (got '{s}')"
        ))),
    }
}

/// At least one permission, each valid for the role's type; duplicates collapse.
pub(crate) fn check_permissions(kind: &str, permissions: Vec<String>) -> Result<String> {
    if permissions.is_empty() {
        return Err(Error::missing("Permission"));
    }
    let allowed = if kind == "service" {
        SERVICE_PERMISSIONS
    } else {
        CONVERSATION_PERMISSIONS
    };
    let mut kept: Vec<String> = Vec::with_capacity(permissions.len());
    for permission in permissions {
        if !allowed.contains(&permission.as_str()) {
            return Err(Error::invalid(format!(
                "Invalid parameter Permission: '{permission}' is not a {kind} permission"
            )));
        }
        if !kept.contains(&permission) {
            kept.push(permission);
        }
    }
    Ok(Value::from(kept).to_string())
}

#[instrument(skip_all)]
pub async fn create_role(
    core: &Core,
    principal: &Principal,
    scope: Scope<'_>,
    friendly_name: Option<String>,
    kind: Option<String>,
    permissions: Vec<String>,
) -> Result<(ServiceRow, RoleRow)> {
    let service = resolve(core, principal, scope).await?;
    let friendly_name = required(friendly_name, "FriendlyName")?;
    let kind = required(kind, "Type")?;
    if permissions.is_empty() {
        return Err(Error::missing("Permission"));
    }
    let kind = parse_role_type(&kind)?;
    check_role_name(&friendly_name)?;
    let role = NewRole {
        sid: RoleSid::new().to_string(),
        friendly_name,
        r#type: kind.to_owned(),
        permissions: check_permissions(kind, permissions)?,
    };
    let row = core
        .store
        .insert_role(
            &service.sid,
            principal.account_sid.as_str(),
            &role,
            time::now(),
        )
        .await?;
    Ok((service, row))
}

async fn role_of(core: &Core, service: &ServiceRow, raw_sid: &str) -> Result<RoleRow> {
    let sid = RoleSid::parse(raw_sid).ok_or(Error::NotFound)?;
    core.store
        .fetch_role(&service.sid, sid.as_str())
        .await?
        .ok_or(Error::NotFound)
}

pub async fn fetch_role(
    core: &Core,
    principal: &Principal,
    scope: Scope<'_>,
    raw_sid: &str,
) -> Result<(ServiceRow, RoleRow)> {
    let service = resolve(core, principal, scope).await?;
    let role = role_of(core, &service, raw_sid).await?;
    Ok((service, role))
}

pub async fn list_roles(
    core: &Core,
    principal: &Principal,
    scope: Scope<'_>,
    request: PageRequest,
) -> Result<(ServiceRow, Page<RoleRow>)> {
    let service = resolve(core, principal, scope).await?;
    let rows = core
        .store
        .list_roles(&service.sid, request.keyset())
        .await?;
    Ok((service, Page::from_rows(request, rows, |r| r.seq)))
}

/// `Permission` replaces the whole set.
#[instrument(skip_all)]
pub async fn update_role(
    core: &Core,
    principal: &Principal,
    scope: Scope<'_>,
    raw_sid: &str,
    permissions: Vec<String>,
) -> Result<(ServiceRow, RoleRow)> {
    let service = resolve(core, principal, scope).await?;
    let role = role_of(core, &service, raw_sid).await?;
    let permissions = check_permissions(&role.r#type, permissions)?;
    let role = core
        .store
        .update_role_permissions(&service.sid, &role.sid, &permissions, time::now())
        .await?
        .ok_or(Error::NotFound)?;
    Ok((service, role))
}

/// A role held by a user, or named as one of the service's defaults, cannot be deleted:
/// 400 20001 *(ours: Twilio documents no code)*.
#[instrument(skip_all)]
pub async fn delete_role(
    core: &Core,
    principal: &Principal,
    scope: Scope<'_>,
    raw_sid: &str,
) -> Result<()> {
    let service = resolve(core, principal, scope).await?;
    let role = role_of(core, &service, raw_sid).await?;
    match core.store.delete_role(&service.sid, &role.sid).await? {
        RoleDelete::Deleted => Ok(()),
        RoleDelete::NotFound => Err(Error::NotFound),
        RoleDelete::InUse => Err(Error::invalid(
            "Invalid request: the role is assigned to users or is a default role of its service; reassign them first",
        )),
    }
}

// ---- users ----

/// The identity rules of the module docs.
pub fn check_identity(identity: &str) -> Result<()> {
    if matches_pattern(identity, "US") {
        return Err(Error::invalid_code(
            IDENTITY_LOOKS_LIKE_SID,
            "Identity should not match user SID pattern",
        ));
    }
    if identity.len() > MAX_IDENTITY_BYTES {
        return Err(Error::invalid_code(
            IDENTITY_TOO_LONG,
            format!("Identity too long (at most {MAX_IDENTITY_BYTES} bytes)"),
        ));
    }
    Ok(())
}

/// `Attributes` must parse as JSON; it is stored and returned verbatim (DESIGN.md).
pub fn check_attributes(text: &str) -> Result<()> {
    // "User (up to 16 KB)" (https://twilio.com/docs/conversations/attributes).
    super::check_bytes(Some(text), "Attributes", 16 * 1024)?;
    serde_json::from_str::<serde::de::IgnoredAny>(text)
        .map(|_| ())
        .map_err(|e| {
            Error::invalid(format!(
                "Invalid parameter Attributes: not valid JSON ({e})"
            ))
        })
}

/// `RoleSid`: the spec pattern (else 20001), then a service role of this service (else 20001).
async fn check_user_role(core: &Core, service: &ServiceRow, raw: &str) -> Result<String> {
    let sid = RoleSid::parse(raw).ok_or_else(|| {
        Error::invalid("Invalid parameter RoleSid: must match ^RL[0-9a-fA-F]{32}$")
    })?;
    match core.store.fetch_role(&service.sid, sid.as_str()).await? {
        Some(role) if role.r#type == "service" => Ok(role.sid),
        Some(_) => Err(Error::invalid(
            "Invalid parameter RoleSid: must name a service-level role",
        )),
        None => Err(Error::invalid(
            "Invalid parameter RoleSid: no such role in this service",
        )),
    }
}

pub struct UserInput {
    pub friendly_name: Option<String>,
    pub attributes: Option<String>,
    pub role_sid: Option<String>,
}

#[instrument(skip_all)]
pub async fn create_user(
    core: &Core,
    principal: &Principal,
    scope: Scope<'_>,
    identity: Option<String>,
    input: UserInput,
    webhooks: bool,
) -> Result<(ServiceRow, UserRow)> {
    let service = resolve(core, principal, scope).await?;
    let identity = required(identity, "Identity")?;
    check_identity(&identity)?;
    check_user_name(input.friendly_name.as_deref())?;
    if let Some(attributes) = &input.attributes {
        check_attributes(attributes)?;
    }
    let role_sid = match &input.role_sid {
        Some(raw) => Some(check_user_role(core, &service, raw).await?),
        None => service.default_chat_service_role_sid.clone(),
    };
    let now = time::now();
    let row = UserRow {
        seq: 0,
        sid: UserSid::new().to_string(),
        service_sid: service.sid.clone(),
        account_sid: principal.account_sid.to_string(),
        identity,
        friendly_name: input.friendly_name,
        attributes: input.attributes.unwrap_or_else(|| "{}".to_owned()),
        role_sid,
        date_created: now,
        date_updated: now,
    };
    let targets = fire_targets(
        core,
        &row.account_sid,
        &service.sid,
        UserEvent::Added,
        webhooks,
    )
    .await?;
    let inserted = core
        .store
        .insert_user(
            &row,
            {
                let targets = targets.clone();
                move |stored: &UserRow| targets.deliveries(UserEvent::Added, stored)
            },
            time::now_ms(),
        )
        .await;
    match inserted {
        Ok(row) => {
            wake_delivery(core, &targets);
            Ok((service, row))
        }
        Err(StoreError::Conflict(_)) => Err(Error::Conflict {
            code: USER_ALREADY_EXISTS,
            status: 409,
            message: "User already exists".into(),
        }),
        Err(e) => Err(e.into()),
    }
}

/// `{Sid}` is the `US` SID or the (percent-decoded) identity. One query: the hot path of
/// read-heavy load tests.
pub async fn fetch_user(
    core: &Core,
    principal: &Principal,
    scope: Scope<'_>,
    key: &str,
) -> Result<UserRow> {
    let service = match scope {
        Scope::Default => None,
        Scope::Service(raw) => Some(raw),
    };
    let by_sid = matches_pattern(key, "US");
    core.store
        .fetch_user(principal.account_sid.as_str(), service, key, by_sid)
        .await?
        .ok_or(Error::NotFound)
}

pub async fn list_users(
    core: &Core,
    principal: &Principal,
    scope: Scope<'_>,
    request: PageRequest,
) -> Result<(ServiceRow, Page<UserRow>)> {
    let service = resolve(core, principal, scope).await?;
    let rows = core
        .store
        .list_users(&service.sid, request.keyset())
        .await?;
    Ok((service, Page::from_rows(request, rows, |r| r.seq)))
}

/// What an update did.
pub struct UserUpdate {
    pub after: UserRow,
}

#[instrument(skip_all)]
pub async fn update_user(
    core: &Core,
    principal: &Principal,
    scope: Scope<'_>,
    key: &str,
    input: UserInput,
    webhooks: bool,
) -> Result<UserUpdate> {
    let before = fetch_user(core, principal, scope, key).await?;
    check_user_name(input.friendly_name.as_deref())?;
    if let Some(attributes) = &input.attributes {
        check_attributes(attributes)?;
    }
    let role_sid = match &input.role_sid {
        Some(raw) => {
            let service = resolve(core, principal, Scope::Service(&before.service_sid)).await?;
            Some(check_user_role(core, &service, raw).await?)
        }
        None => None,
    };
    let targets = fire_targets(
        core,
        &before.account_sid,
        &before.service_sid,
        UserEvent::Updated,
        webhooks,
    )
    .await?;
    let after = core
        .store
        .update_user(
            &before.sid,
            input.friendly_name.as_deref(),
            input.attributes.as_deref(),
            role_sid.as_deref(),
            time::now(),
            {
                let targets = targets.clone();
                move |stored: &UserRow| targets.deliveries(UserEvent::Updated, stored)
            },
            time::now_ms(),
        )
        .await?
        .ok_or(Error::NotFound)?;
    wake_delivery(core, &targets);
    Ok(UserUpdate { after })
}

/// The post-event targets of `event`, or none when the request did not ask for webhooks.
async fn fire_targets(
    core: &Core,
    account: &str,
    service: &str,
    event: UserEvent,
    webhooks: bool,
) -> Result<Targets> {
    if webhooks {
        targets(core, account, service, event).await
    } else {
        Ok(Targets::default())
    }
}

/// After commit: tell the delivery worker there is work.
fn wake_delivery(core: &Core, targets: &Targets) {
    if !targets.is_empty() {
        core.webhook_wake.notify_one();
    }
}

/// Deletes a user. `X-Twilio-Webhook-Enabled` is accepted here too, but Twilio documents no
/// post-event for a removed user, so nothing is sent.
#[instrument(skip_all)]
pub async fn delete_user(
    core: &Core,
    principal: &Principal,
    scope: Scope<'_>,
    key: &str,
) -> Result<UserRow> {
    let user = fetch_user(core, principal, scope, key).await?;
    if core.store.delete_user(&user.sid).await? {
        Ok(user)
    } else {
        Err(Error::NotFound)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identities_shaped_like_user_sids_or_too_long_are_refused() {
        assert_eq!(
            check_identity("USaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")
                .unwrap_err()
                .code(),
            50206
        );
        assert!(
            check_identity("usaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa").is_ok(),
            "case-sensitive prefix"
        );
        assert!(check_identity(&"a".repeat(256)).is_ok());
        assert_eq!(check_identity(&"a".repeat(257)).unwrap_err().code(), 50207);
    }

    #[test]
    fn default_roles_use_only_documented_permissions() {
        for (_, kind, permissions) in DEFAULT_ROLES {
            let perms: Vec<String> = permissions.iter().map(|p| (*p).to_owned()).collect();
            assert!(check_permissions(kind, perms).is_ok(), "{kind}");
        }
        assert!(check_permissions("service", vec!["sendMessage".into()]).is_err());
        assert!(check_permissions("conversation", vec!["createConversation".into()]).is_err());
    }

    #[test]
    fn durations_parse_iso8601() {
        assert_eq!(parse_duration("PT1M"), Some(60));
        assert_eq!(parse_duration("PT10M"), Some(600));
        assert_eq!(parse_duration("P1DT1H"), Some(90_000));
        assert_eq!(parse_duration("P2W"), Some(1_209_600));
        for bad in ["", "P", "PT", "1M", "PT1X", "PTM", "P1H"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }
}
