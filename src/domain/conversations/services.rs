//! Services (`/v1/Services`): each account has a default one, created with the account; a new
//! service gets four default roles *(ours: Twilio documents them only for Programmable Chat;
//! see ../shared/reference/conversations-roles.md)*.

use serde_json::Value;
use tracing::instrument;

use super::{
    roles::permissions_of,
    scope::{Scope, Service, resolve},
};
use crate::{
    domain::{
        Core,
        auth::Principal,
        check_chars, list_owned,
        paging::{Page, PageRequest},
        sid::{AccountSid, RoleSid, ServiceSid},
        time,
    },
    error::{Error, Result},
    store::conversations::{NewRole, NewService, ServiceRow},
};

pub const DEFAULT_SERVICE_NAME: &str = "Default Conversations Service";

/// Which of its type's permissions (`roles::permissions_of`) a default role holds.
pub(super) enum Grant {
    /// All of them but these.
    AllBut(&'static [&'static str]),
    /// These, in this order.
    Only(&'static [&'static str]),
}

impl Grant {
    pub(super) fn permissions(&self, kind: &str) -> Vec<&'static str> {
        match self {
            Self::AllBut(left_out) => permissions_of(kind)
                .iter()
                .filter(|p| !left_out.contains(p))
                .copied()
                .collect(),
            Self::Only(permissions) => permissions.to_vec(),
        }
    }
}

/// The four default roles: Chat's documented sets with Channel→Conversation names *(ours)*;
/// the admins hold every permission of their type but editing their own user info (and, for
/// the service admin, their own messages).
pub(super) const DEFAULT_ROLES: [(&str, &str, Grant); 4] = [
    (
        "service admin",
        "service",
        Grant::AllBut(&[
            "editOwnMessage",
            "editOwnMessageAttributes",
            "editOwnUserInfo",
        ]),
    ),
    (
        "service user",
        "service",
        Grant::Only(&["createConversation", "editOwnUserInfo", "joinConversation"]),
    ),
    (
        "channel admin",
        "conversation",
        Grant::AllBut(&["editOwnUserInfo"]),
    ),
    (
        "channel user",
        "conversation",
        Grant::Only(&[
            "sendMessage",
            "leaveConversation",
            "editOwnMessage",
            "deleteOwnMessage",
        ]),
    ),
];

/// A service with its four default roles; `service user` is the users' default role,
/// `channel user` the conversation default and `channel admin` the creator default.
pub fn new_service(account: &AccountSid, friendly_name: &str, now: i64) -> NewService {
    let roles: Vec<NewRole> = DEFAULT_ROLES
        .iter()
        .map(|(name, kind, grant)| NewRole {
            sid: RoleSid::new().to_string(),
            friendly_name: (*name).to_owned(),
            r#type: (*kind).to_owned(),
            permissions: Value::from(grant.permissions(kind)).to_string(),
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

/// "limited to 256 characters" (spec, conversations.v1.service.friendly_name).
pub(crate) fn check_service_name(name: &str) -> Result<()> {
    check_chars(Some(name), "FriendlyName", 256)
}

#[instrument(skip_all)]
pub async fn create_service(
    core: &Core,
    principal: &Principal,
    friendly_name: &str,
) -> Result<Service> {
    check_service_name(friendly_name)?;
    let new = new_service(&principal.account_sid, friendly_name, time::now());
    Service::try_from(core.store.create_service(&new).await?)
}

pub async fn list_services(
    core: &Core,
    principal: &Principal,
    request: PageRequest,
) -> Result<Page<Service>> {
    list_owned::<ServiceRow, _>(core, &principal.account_sid, request).await
}

pub async fn fetch_service(
    core: &Core,
    principal: &Principal,
    sid: &ServiceSid,
) -> Result<Service> {
    resolve(core, principal, Scope::Service(sid)).await
}

/// Deletes a service with its roles and users. The account's default service cannot be deleted
/// while it is the default *(ours)*: point `DefaultChatServiceSid` elsewhere first. The cache
/// forgets the account's services before and after, so from the moment the delete committed no
/// lookup hands the service out again (issue 15 F5).
#[instrument(skip_all)]
pub async fn delete_service(core: &Core, principal: &Principal, sid: &ServiceSid) -> Result<()> {
    let service = resolve(core, principal, Scope::Service(sid)).await?;
    let account = &principal.account_sid;
    core.services.forget(account);
    let deleted = core
        .store
        .delete_service(account.as_str(), service.sid.as_str())
        .await;
    core.services.forget(account);
    match deleted? {
        Some(true) => Ok(()),
        Some(false) => Err(Error::NotFound),
        None => Err(Error::invalid(
            "Invalid request: the account's default service cannot be deleted; set another DefaultChatServiceSid in /v1/Configuration first",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::conversations::roles::check_permissions;

    #[test]
    fn default_roles_use_only_documented_permissions() {
        for (_, kind, grant) in DEFAULT_ROLES {
            let perms: Vec<String> = grant
                .permissions(kind)
                .iter()
                .map(|p| (*p).to_owned())
                .collect();
            assert!(check_permissions(kind, perms).is_ok(), "{kind}");
        }
        assert!(check_permissions("service", vec!["sendMessage".into()]).is_err());
        assert!(check_permissions("conversation", vec!["createConversation".into()]).is_err());
    }
}
