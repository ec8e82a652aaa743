//! Users (`/v1/Users`, `/v1/Services/{IS}/Users`).
//!
//! - Identity: required, case-sensitive, unique per service (a UNIQUE index; a clash is 409
//!   50201), not shaped like a `US` SID (50206), at most 256 bytes (50207; the limit is ours).
//! - `{Sid}` in a path is the `US` SID or the percent-decoded identity.
//! - Post-events: `onUserAdded` after a create, `onUserUpdated` after an update
//!   (conversations-webhook-events.md); Twilio documents none for a removed user.

use tracing::instrument;

use super::{
    events,
    scope::{Scope, Service, resolve},
};
use crate::{
    domain::{
        Core,
        auth::Principal,
        check_bytes, check_chars, found_value, list_owned,
        paging::{Page, PageRequest},
        read_back, required,
        sid::{AccountSid, RoleSid, ServiceSid, UserSid, matches_pattern},
        time,
        webhooks::{Action, Declaration, Event, Param, Subject, Targets},
    },
    error::{Error, Result},
    store::{
        StoreError, StoreResult,
        conversations::{RoleRow, ServiceRow, UserRow, UserWrite},
        webhooks::NewDelivery,
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

/// `conversations.v1.user` / `…service_user`.
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub sid: UserSid,
    pub account_sid: AccountSid,
    pub service_sid: ServiceSid,
    pub identity: String,
    pub friendly_name: Option<String>,
    /// JSON text, returned verbatim (spacing kept).
    pub attributes: String,
    pub role_sid: Option<RoleSid>,
    pub date_created: i64,
    pub date_updated: i64,
}

read_back!(|row: UserRow| -> User {
    parsed: sid, account_sid, service_sid;
    optional: role_sid;
    copied: identity, friendly_name, attributes, date_created, date_updated;
});

impl Subject for User {
    fn account_sid(&self) -> &AccountSid {
        &self.account_sid
    }
}

/// The parameters every user event starts with …
const USER_KEYS: &[Param<User>] = &[
    ("ChatServiceSid", |u| Some(u.service_sid.to_string())),
    ("UserSid", |u| Some(u.sid.to_string())),
    ("DateCreated", |u| Some(time::iso8601(u.date_created))),
];

/// … and ends with.
const USER_FIELDS: &[Param<User>] = &[
    ("Identity", |u| Some(u.identity.clone())),
    ("RoleSid", |u| u.role_sid.as_ref().map(RoleSid::to_string)),
    ("Attributes", |u| Some(u.attributes.clone())),
    ("FriendlyName", |u| u.friendly_name.clone()),
];

/// `onUserAdded`, with its documented parameters (conversations-webhook-events.md).
pub static USER_ADDED: Declaration<User> = Declaration {
    event: Event {
        resource: "User",
        action: Action::Added,
    },
    params: &[USER_KEYS, USER_FIELDS],
};

/// `onUserUpdated`: `onUserAdded`'s parameters plus `DateUpdated`. Its `IsOnline` and
/// `IsNotifiable` are always null here (no reachability model), so they are left out.
pub static USER_UPDATED: Declaration<User> = Declaration {
    event: Event {
        resource: "User",
        action: Action::Updated,
    },
    params: &[
        USER_KEYS,
        &[("DateUpdated", |u| Some(time::iso8601(u.date_updated)))],
        USER_FIELDS,
    ],
};

/// The targets `event` reaches for a user of `service` (none when `webhooks` is off, see
/// `events::targets`), and the hook a write calls with the row it stored to queue one delivery
/// per target inside its transaction. A stored row that does not read back is a bug: the write
/// fails (500).
async fn user_event(
    core: &Core,
    account: &AccountSid,
    service: &ServiceSid,
    event: &'static Declaration<User>,
    webhooks: bool,
) -> Result<(
    Targets,
    impl Fn(&UserRow) -> StoreResult<Vec<NewDelivery>> + Send + Sync + 'static,
)> {
    let targets = events::targets(core, account, service, event.event, webhooks).await?;
    let queued = targets.clone();
    let fire = move |stored: &UserRow| {
        if queued.is_empty() {
            return Ok(Vec::new());
        }
        User::try_from(stored.clone())
            .and_then(|user| event.deliveries(&queued, &user))
            .map_err(|e| StoreError::Db(sqlx::Error::Decode(e.into())))
    };
    Ok((targets, fire))
}

/// Not documented for users; Conversations names are limited to 256 characters *(ours)*.
pub(crate) fn check_user_name(name: Option<&str>) -> Result<()> {
    check_chars(name, "FriendlyName", 256)
}

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
    check_bytes(Some(text), "Attributes", 16 * 1024)?;
    serde_json::from_str::<serde::de::IgnoredAny>(text)
        .map(|_| ())
        .map_err(|e| {
            Error::invalid(format!(
                "Invalid parameter Attributes: not valid JSON ({e})"
            ))
        })
}

const NO_SUCH_ROLE: &str = "Invalid parameter RoleSid: no such role in this service";

/// `RoleSid`: the spec pattern (else 20001), then a service role of this service (else 20001).
async fn check_user_role(core: &Core, service: &Service, raw: &str) -> Result<String> {
    let sid = parse_user_role_sid(raw)?;
    let role = core
        .store
        .fetch_owned::<RoleRow>(service.sid.as_str(), sid.as_str())
        .await?;
    check_user_role_type(role.as_ref().map(|r| r.r#type.as_str()))?;
    Ok(sid.to_string())
}

/// A user's `RoleSid` as given: the spec pattern (else 20001). Shared with `seed FILE`.
pub(crate) fn parse_user_role_sid(raw: &str) -> Result<RoleSid> {
    RoleSid::parse(raw)
        .ok_or_else(|| Error::invalid("Invalid parameter RoleSid: must match ^RL[0-9a-fA-F]{32}$"))
}

/// A user's role is a service-level role of the user's service. `found` is the type of the
/// role its `RoleSid` names in that service, `None` when it names none there. Shared with
/// `seed FILE`.
pub(crate) fn check_user_role_type(found: Option<&str>) -> Result<()> {
    match found {
        Some("service") => Ok(()),
        Some(_) => Err(Error::invalid(
            "Invalid parameter RoleSid: must name a service-level role",
        )),
        None => Err(Error::invalid(NO_SUCH_ROLE)),
    }
}

/// A write the database refused because its service or role went away after the checks
/// (issue 15 F5): the service gone is 404, as if the request had come a moment later; the role
/// gone is the same 400 as a role that never existed.
async fn orphaned(core: &Core, account: &AccountSid, service: &ServiceSid) -> Error {
    match core
        .store
        .fetch_owned::<ServiceRow>(account.as_str(), service.as_str())
        .await
    {
        Ok(None) => Error::NotFound,
        Ok(Some(_)) => Error::invalid(NO_SUCH_ROLE),
        Err(e) => e.into(),
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
) -> Result<(Service, User)> {
    let service = resolve(core, principal, scope).await?;
    let identity = required(identity, "Identity")?;
    check_identity(&identity)?;
    check_user_name(input.friendly_name.as_deref())?;
    if let Some(attributes) = &input.attributes {
        check_attributes(attributes)?;
    }
    let role_sid = match &input.role_sid {
        Some(raw) => Some(check_user_role(core, &service, raw).await?),
        None => service
            .default_chat_service_role_sid
            .as_ref()
            .map(RoleSid::to_string),
    };
    let now = time::now();
    let row = UserRow {
        seq: 0,
        sid: UserSid::new().to_string(),
        service_sid: service.sid.to_string(),
        account_sid: principal.account_sid.to_string(),
        identity,
        friendly_name: input.friendly_name,
        attributes: input.attributes.unwrap_or_else(|| "{}".to_owned()),
        role_sid,
        date_created: now,
        date_updated: now,
    };
    let (targets, fire) = user_event(
        core,
        &principal.account_sid,
        &service.sid,
        &USER_ADDED,
        webhooks,
    )
    .await?;
    match core.store.insert_user(&row, fire, time::now_ms()).await {
        Ok(UserWrite::Stored(stored)) => {
            targets.wake(core);
            Ok((service, User::try_from(stored)?))
        }
        Ok(UserWrite::Orphaned | UserWrite::Missing) => {
            Err(orphaned(core, &principal.account_sid, &service.sid).await)
        }
        Err(StoreError::Conflict(_)) => Err(Error::Conflict {
            code: USER_ALREADY_EXISTS,
            status: 409,
            message: "User already exists".into(),
        }),
        Err(e) => Err(e.into()),
    }
}

/// `key` is the `US` SID or the (percent-decoded) identity. One query: the hot path of
/// read-heavy load tests.
pub async fn fetch_user(
    core: &Core,
    principal: &Principal,
    scope: Scope<'_>,
    key: &str,
) -> Result<User> {
    let service = match scope {
        Scope::Default => None,
        Scope::Service(sid) => Some(sid.as_str()),
    };
    let by_sid = matches_pattern(key, "US");
    found_value(
        core.store
            .fetch_user(principal.account_sid.as_str(), service, key, by_sid)
            .await?,
    )
}

pub async fn list_users(
    core: &Core,
    principal: &Principal,
    scope: Scope<'_>,
    request: PageRequest,
) -> Result<(Service, Page<User>)> {
    let service = resolve(core, principal, scope).await?;
    let page = list_owned::<UserRow, _>(core, &service.sid, request).await?;
    Ok((service, page))
}

#[instrument(skip_all)]
pub async fn update_user(
    core: &Core,
    principal: &Principal,
    scope: Scope<'_>,
    key: &str,
    input: UserInput,
    webhooks: bool,
) -> Result<User> {
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
    let (targets, fire) = user_event(
        core,
        &before.account_sid,
        &before.service_sid,
        &USER_UPDATED,
        webhooks,
    )
    .await?;
    let written = core
        .store
        .update_user(
            before.sid.as_str(),
            input.friendly_name.as_deref(),
            input.attributes.as_deref(),
            role_sid.as_deref(),
            time::now(),
            fire,
            time::now_ms(),
        )
        .await?;
    match written {
        UserWrite::Stored(stored) => {
            targets.wake(core);
            User::try_from(stored)
        }
        UserWrite::Missing => Err(Error::NotFound),
        UserWrite::Orphaned => Err(orphaned(core, &before.account_sid, &before.service_sid).await),
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
) -> Result<User> {
    let user = fetch_user(core, principal, scope, key).await?;
    if core.store.delete_user(user.sid.as_str()).await? {
        Ok(user)
    } else {
        Err(Error::NotFound)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::conversations::webhooks::ACCOUNT_FILTERS;

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
    fn user_events_are_documented_account_filters_with_their_parameters() {
        let user = User {
            sid: UserSid::new(),
            account_sid: AccountSid::new(),
            service_sid: ServiceSid::new(),
            identity: "alice".into(),
            friendly_name: None,
            attributes: "{}".into(),
            role_sid: None,
            date_created: 0,
            date_updated: 60,
        };
        for (declaration, name) in [
            (&USER_ADDED, "onUserAdded"),
            (&USER_UPDATED, "onUserUpdated"),
        ] {
            assert_eq!(declaration.event.name(), name);
            assert!(ACCOUNT_FILTERS.contains(&name));
            let params = declaration.params(&user);
            let names: Vec<&str> = params.iter().map(|(k, _)| k.as_str()).collect();
            assert_eq!(names[..3], ["AccountSid", "EventType", "Source"]);
            assert!(!names.contains(&"FriendlyName"), "null values are left out");
            assert!(!names.contains(&"RoleSid"));
            assert_eq!(names.contains(&"DateUpdated"), name == "onUserUpdated");
        }
    }
}
