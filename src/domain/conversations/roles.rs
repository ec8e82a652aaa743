//! Roles (`/v1/Roles`, `/v1/Services/{IS}/Roles`): `Type` is `service` or `conversation`;
//! `Permission` (repeated) holds at least one value from Twilio's list for that type
//! (Conversations Role docs, "Permission Values"); duplicates collapse; an update replaces the
//! whole set.

use tracing::instrument;

use super::scope::{Scope, Service, distinct_members, resolve};
use crate::{
    domain::{
        Core,
        auth::Principal,
        check_chars, fetch_owned, found_value, list_owned,
        paging::{Page, PageRequest},
        read_back, required,
        sid::{AccountSid, RoleSid, ServiceSid},
        time,
    },
    error::{Error, Result},
    store::conversations::{NewRole, RoleDelete, RoleRow},
};

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

/// `conversations.v1.role` / `…service_role`.
#[derive(Debug, Clone, PartialEq)]
pub struct Role {
    pub sid: RoleSid,
    pub account_sid: AccountSid,
    pub service_sid: ServiceSid,
    pub friendly_name: String,
    /// `service` or `conversation`.
    pub kind: &'static str,
    pub permissions: Vec<String>,
    pub date_created: i64,
    pub date_updated: i64,
}

read_back!(|row: RoleRow| -> Role {
    parsed: sid, account_sid, service_sid;
    json: permissions;
    computed: kind = parse_role_type(&row.r#type).map_err(|_| {
        Error::internal(anyhow::anyhow!("stored role type is malformed: {:?}", row.r#type))
    })?;
    copied: friendly_name, date_created, date_updated;
});

/// "up to 64 characters" (spec, CreateRole FriendlyName).
pub(crate) fn check_role_name(name: &str) -> Result<()> {
    check_chars(Some(name), "FriendlyName", 64)
}

pub fn parse_role_type(s: &str) -> Result<&'static str> {
    match s {
        "service" => Ok("service"),
        "conversation" => Ok("conversation"),
        _ => Err(Error::invalid(format!(
            "Invalid parameter Type: must be service or conversation (got '{s}')"
        ))),
    }
}

/// The permissions a role of type `kind` (`service` or `conversation`) may hold.
pub(super) fn permissions_of(kind: &str) -> &'static [&'static str] {
    if kind == "service" {
        SERVICE_PERMISSIONS
    } else {
        CONVERSATION_PERMISSIONS
    }
}

/// At least one permission, each valid for the role's type; duplicates collapse. Returns the
/// JSON text that is stored.
pub(crate) fn check_permissions(kind: &str, permissions: Vec<String>) -> Result<String> {
    if permissions.is_empty() {
        return Err(Error::missing("Permission"));
    }
    distinct_members(permissions, permissions_of(kind), |permission| {
        format!("Invalid parameter Permission: '{permission}' is not a {kind} permission")
    })
}

/// What a role create asks for.
pub struct RoleInput {
    pub friendly_name: Option<String>,
    pub kind: Option<String>,
    pub permissions: Vec<String>,
}

#[instrument(skip_all)]
pub async fn create_role(
    core: &Core,
    principal: &Principal,
    scope: Scope<'_>,
    input: RoleInput,
) -> Result<(Service, Role)> {
    let service = resolve(core, principal, scope).await?;
    let friendly_name = required(input.friendly_name, "FriendlyName")?;
    let kind = required(input.kind, "Type")?;
    if input.permissions.is_empty() {
        return Err(Error::missing("Permission"));
    }
    let kind = parse_role_type(&kind)?;
    check_role_name(&friendly_name)?;
    let role = NewRole {
        sid: RoleSid::new().to_string(),
        friendly_name,
        r#type: kind.to_owned(),
        permissions: check_permissions(kind, input.permissions)?,
    };
    // None: the service was deleted since it resolved (issue 15 F5).
    let row = core
        .store
        .insert_role(
            service.sid.as_str(),
            principal.account_sid.as_str(),
            &role,
            time::now(),
        )
        .await?;
    Ok((service, found_value(row)?))
}

/// A role of `service` by the path's SID.
pub(super) async fn role_of(core: &Core, service: &Service, sid: &RoleSid) -> Result<Role> {
    fetch_owned::<RoleRow, _>(core, &service.sid, sid).await
}

pub async fn fetch_role(
    core: &Core,
    principal: &Principal,
    scope: Scope<'_>,
    sid: &RoleSid,
) -> Result<(Service, Role)> {
    let service = resolve(core, principal, scope).await?;
    let role = role_of(core, &service, sid).await?;
    Ok((service, role))
}

pub async fn list_roles(
    core: &Core,
    principal: &Principal,
    scope: Scope<'_>,
    request: PageRequest,
) -> Result<(Service, Page<Role>)> {
    let service = resolve(core, principal, scope).await?;
    let page = list_owned::<RoleRow, _>(core, &service.sid, request).await?;
    Ok((service, page))
}

/// `Permission` replaces the whole set.
#[instrument(skip_all)]
pub async fn update_role(
    core: &Core,
    principal: &Principal,
    scope: Scope<'_>,
    sid: &RoleSid,
    permissions: Vec<String>,
) -> Result<(Service, Role)> {
    let service = resolve(core, principal, scope).await?;
    let role = role_of(core, &service, sid).await?;
    let permissions = check_permissions(role.kind, permissions)?;
    let row = core
        .store
        .update_role_permissions(
            service.sid.as_str(),
            role.sid.as_str(),
            &permissions,
            time::now(),
        )
        .await?;
    Ok((service, found_value(row)?))
}

/// A role held by a user, or named as one of the service's defaults, cannot be deleted:
/// 400 20001 *(ours: Twilio documents no code)*.
#[instrument(skip_all)]
pub async fn delete_role(
    core: &Core,
    principal: &Principal,
    scope: Scope<'_>,
    sid: &RoleSid,
) -> Result<()> {
    let service = resolve(core, principal, scope).await?;
    let role = role_of(core, &service, sid).await?;
    match core
        .store
        .delete_role(service.sid.as_str(), role.sid.as_str())
        .await?
    {
        RoleDelete::Deleted => Ok(()),
        RoleDelete::NotFound => Err(Error::NotFound),
        RoleDelete::InUse => Err(Error::invalid(
            "Invalid request: the role is assigned to users or is a default role of its service; reassign them first",
        )),
    }
}
