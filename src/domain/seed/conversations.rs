//! Conversations entries: services with their roles, users and webhook target, and the
//! account's configuration and webhook target.

use serde_json::Value;

use super::{
    entry::{Applier, At, Entry, Refusal, Step, file_or_stored, missing, refuse},
    format::{SeedConfiguration, SeedRole, SeedService, SeedUser, SeedWebhooks},
};
use crate::{
    domain::{
        conversations::{self, configuration, users, webhooks},
        sid::{AccountSid, RoleSid},
    },
    store::{
        StoreError,
        conversations::{ConfigurationRow, NewService, RoleRow, ServiceRow, UserRow},
    },
};

fn webhook_input(f: &SeedWebhooks) -> webhooks::WebhookInput {
    webhooks::WebhookInput {
        method: f.method.clone(),
        filters: f.filters.clone().unwrap_or_default(),
        pre_webhook_url: f.pre_webhook_url.clone(),
        post_webhook_url: f.post_webhook_url.clone(),
        target: f.target.clone(),
    }
}

impl Applier<'_> {
    /// A service with the API's four standard roles (new accounts and services that name no
    /// default roles).
    pub async fn standard_service(&mut self, new: &NewService) -> Step {
        let service = ServiceRow {
            seq: 0,
            sid: new.sid.clone(),
            account_sid: new.account_sid.clone(),
            friendly_name: new.friendly_name.clone(),
            default_chat_service_role_sid: Some(new.default_chat_service_role_sid.clone()),
            default_conversation_role_sid: Some(new.default_conversation_role_sid.clone()),
            default_conversation_creator_role_sid: Some(
                new.default_conversation_creator_role_sid.clone(),
            ),
            reachability_enabled: false,
            date_created: new.now,
            date_updated: new.now,
        };
        self.tx.put(&service).await?;
        self.standard_roles(new).await
    }

    async fn standard_roles(&mut self, new: &NewService) -> Step {
        for role in &new.roles {
            self.tx
                .put(&RoleRow {
                    seq: 0,
                    sid: role.sid.clone(),
                    service_sid: new.sid.clone(),
                    account_sid: new.account_sid.clone(),
                    friendly_name: role.friendly_name.clone(),
                    r#type: role.r#type.clone(),
                    permissions: role.permissions.clone(),
                    date_created: new.now,
                    date_updated: new.now,
                })
                .await?;
        }
        Ok(())
    }

    pub async fn service(&mut self, entry: &Entry<SeedService>, account: &str) -> Step {
        let (at, what, sid, existing) = self.open(entry, account).await?;
        let (f, what) = (&entry.value, &what);
        let stored_name = existing.as_ref().map(|e| &e.friendly_name);
        let friendly_name =
            file_or_stored(at, what, "friendly_name", &f.friendly_name, stored_name)?;
        conversations::check_service_name(&friendly_name).at(at, what)?;
        let names_defaults = f.default_chat_service_role_sid.is_some()
            || f.default_conversation_role_sid.is_some()
            || f.default_conversation_creator_role_sid.is_some();
        // The account was checked when its entry was read; its roles carry its SID.
        let account_sid = AccountSid::parse(account)
            .ok_or_else(|| Refusal::Entry(at, format!("{what}: malformed account sid")))?;
        // A new service naming no default roles gets the API's standard four.
        let standard = (existing.is_none() && !names_defaults).then(|| {
            let mut new = conversations::new_service(&account_sid, &friendly_name, self.now);
            new.sid = sid.to_owned();
            new
        });
        let pick =
            |given: &Option<String>, stored: Option<&Option<String>>, standard: Option<&String>| {
                given
                    .clone()
                    .or_else(|| stored.cloned().flatten())
                    .or_else(|| standard.cloned())
            };
        let chat = pick(
            &f.default_chat_service_role_sid,
            existing.as_ref().map(|e| &e.default_chat_service_role_sid),
            standard.as_ref().map(|s| &s.default_chat_service_role_sid),
        );
        let conversation = pick(
            &f.default_conversation_role_sid,
            existing.as_ref().map(|e| &e.default_conversation_role_sid),
            standard.as_ref().map(|s| &s.default_conversation_role_sid),
        );
        let creator = pick(
            &f.default_conversation_creator_role_sid,
            existing
                .as_ref()
                .map(|e| &e.default_conversation_creator_role_sid),
            standard
                .as_ref()
                .map(|s| &s.default_conversation_creator_role_sid),
        );
        let reachability = f
            .reachability_enabled
            .or(existing.as_ref().map(|e| e.reachability_enabled))
            .unwrap_or(false);
        let service = self
            .settle(at, what, f, existing.as_ref(), |stamps| ServiceRow {
                seq: stamps.seq,
                sid: sid.to_owned(),
                account_sid: account.to_owned(),
                friendly_name: friendly_name.clone(),
                default_chat_service_role_sid: chat.clone(),
                default_conversation_role_sid: conversation.clone(),
                default_conversation_creator_role_sid: creator.clone(),
                reachability_enabled: reachability,
                date_created: stamps.created,
                date_updated: stamps.updated,
            })
            .await?;
        if let Some(mut standard) = standard {
            standard.now = service.date_created;
            self.standard_roles(&standard).await?;
        }
        for role in &f.roles {
            self.role(role, &service).await?;
        }
        // The defaults must name roles of this service, of the right type (the service
        // configuration endpoint's checks).
        for (role, name, kind) in [
            (&chat, "DefaultChatServiceRoleSid", "service"),
            (&conversation, "DefaultConversationRoleSid", "conversation"),
            (
                &creator,
                "DefaultConversationCreatorRoleSid",
                "conversation",
            ),
        ] {
            let Some(role) = role else { continue };
            let role = configuration::parse_default_role_sid(role, name).at(at, what)?;
            let found = self.role_in(&role, sid).await?;
            configuration::check_default_role_type(found.as_deref(), name, kind).at(at, what)?;
        }
        if f.default
            && self
                .tx
                .configuration(account)
                .await?
                .is_none_or(|c| c.default_chat_service_sid != sid)
        {
            self.tx.set_default_service(account, sid).await?;
        }
        if let Some(entry) = &f.webhooks {
            self.service_webhooks(entry, what, &service).await?;
        }
        for user in &f.users {
            self.user(user, &service).await?;
        }
        Ok(())
    }

    /// The type of the role `sid` names in service `service_sid`, `None` when it names none
    /// there: what the API's role checks are given.
    async fn role_in(&mut self, sid: &RoleSid, service_sid: &str) -> Step<Option<String>> {
        let role: Option<RoleRow> = self.tx.get(sid.as_str()).await?;
        Ok(role
            .filter(|r| r.service_sid == service_sid)
            .map(|r| r.r#type))
    }

    /// `/v1/Configuration/Webhooks` of `account`, merged as that endpoint merges an update.
    pub async fn account_webhooks(
        &mut self,
        entry: &Entry<SeedWebhooks>,
        account_what: &str,
        account: &str,
    ) -> Step {
        let what = &format!("{account_what} conversation_webhooks");
        let stored = self.tx.account_webhook(account).await?;
        let unconfigured = webhooks::default_account_webhook(account);
        if let Some(row) =
            self.merged(entry, what, stored, unconfigured, webhooks::merge_account)?
        {
            self.tx.put_account_webhook(&row).await?;
        }
        Ok(())
    }

    /// `/v1/Services/{IS…}/Configuration/Webhooks`, merged as that endpoint merges an update.
    async fn service_webhooks(
        &mut self,
        entry: &Entry<SeedWebhooks>,
        service_what: &str,
        service: &ServiceRow,
    ) -> Step {
        let what = &format!("{service_what} webhooks");
        if entry.value.target.is_some() {
            return refuse(
                entry.at,
                what,
                "target applies to the account's webhooks only",
            );
        }
        let stored = self.tx.service_webhook(&service.sid).await?;
        let unconfigured = webhooks::default_service_webhook(service);
        if let Some(row) =
            self.merged(entry, what, stored, unconfigured, webhooks::merge_service)?
        {
            self.tx.put_service_webhook(&row).await?;
        }
        Ok(())
    }

    /// A webhook target (`stored`, or `unconfigured` before anything was) with the entry's
    /// fields merged by the endpoint's own `merge`; `Some` when that must be written.
    fn merged<W: PartialEq + Clone>(
        &mut self,
        entry: &Entry<SeedWebhooks>,
        what: &str,
        stored: Option<W>,
        unconfigured: W,
        merge: fn(W, webhooks::WebhookInput) -> crate::error::Result<W>,
    ) -> Step<Option<W>> {
        let current = stored.clone().unwrap_or(unconfigured);
        let merged = merge(current, webhook_input(&entry.value)).at(entry.at, what)?;
        Ok(self.must_write(stored.as_ref(), &merged).then_some(merged))
    }

    /// The account's messaging service and timers, checked as `/v1/Configuration` checks them.
    pub async fn configuration(&mut self, entry: &Entry<SeedConfiguration>, account: &str) -> Step {
        let (at, f) = (entry.at, &entry.value);
        let what = "conversation_configuration";
        let Some(stored) = self.tx.configuration(account).await? else {
            return refuse(at, what, "the account has no default conversation service");
        };
        configuration::check_messaging_service_sid(f.default_messaging_service_sid.as_deref())
            .at(at, what)?;
        let inactive = conversations::check_timer(
            f.default_inactive_timer.clone(),
            "DefaultInactiveTimer",
            60,
        )
        .at(at, what)?;
        let closed =
            conversations::check_timer(f.default_closed_timer.clone(), "DefaultClosedTimer", 600)
                .at(at, what)?;
        let desired = ConfigurationRow {
            default_messaging_service_sid: f
                .default_messaging_service_sid
                .clone()
                .or(stored.default_messaging_service_sid.clone()),
            default_inactive_timer: inactive.or(stored.default_inactive_timer.clone()),
            default_closed_timer: closed.or(stored.default_closed_timer.clone()),
            ..stored.clone()
        };
        if self.must_write(Some(&stored), &desired) {
            self.tx.put_configuration(&desired).await?;
        }
        Ok(())
    }

    async fn role(&mut self, entry: &Entry<SeedRole>, service: &ServiceRow) -> Step {
        let (at, what, sid, existing) = self.open(entry, &service.sid).await?;
        let (f, what) = (&entry.value, &what);
        let stored_name = existing.as_ref().map(|e| &e.friendly_name);
        let friendly_name =
            file_or_stored(at, what, "friendly_name", &f.friendly_name, stored_name)?;
        conversations::check_role_name(&friendly_name).at(at, what)?;
        let kind = match (&f.r#type, &existing) {
            (Some(t), Some(e)) if *t != e.r#type => {
                return refuse(at, what, "a role's type cannot change");
            }
            (Some(t), _) => conversations::parse_role_type(t).at(at, what)?,
            (None, Some(e)) => conversations::parse_role_type(&e.r#type).at(at, what)?,
            (None, None) => return missing(at, what, "type"),
        };
        let permissions = match (&f.permissions, &existing) {
            (Some(list), _) => conversations::check_permissions(kind, list.clone()).at(at, what)?,
            (None, Some(e)) => e.permissions.clone(),
            (None, None) => return missing(at, what, "permissions"),
        };
        self.settle(at, what, f, existing.as_ref(), |stamps| RoleRow {
            seq: stamps.seq,
            sid: sid.to_owned(),
            service_sid: service.sid.clone(),
            account_sid: service.account_sid.clone(),
            friendly_name: friendly_name.clone(),
            r#type: kind.to_owned(),
            permissions: permissions.clone(),
            date_created: stamps.created,
            date_updated: stamps.updated,
        })
        .await?;
        Ok(())
    }

    async fn user(&mut self, entry: &Entry<SeedUser>, service: &ServiceRow) -> Step {
        let (at, what, sid, existing) = self.open(entry, &service.sid).await?;
        let (f, what) = (&entry.value, &what);
        let identity = match (&f.identity, &existing) {
            (Some(i), Some(e)) if *i != e.identity => {
                return refuse(at, what, "a user's identity cannot change");
            }
            (Some(i), _) => i.clone(),
            (None, Some(e)) => e.identity.clone(),
            (None, None) => return missing(at, what, "identity"),
        };
        if identity.is_empty() {
            return missing(at, what, "identity");
        }
        conversations::check_identity(&identity).at(at, what)?;
        let friendly_name = f
            .friendly_name
            .clone()
            .or_else(|| existing.as_ref().and_then(|e| e.friendly_name.clone()));
        conversations::check_user_name(friendly_name.as_deref()).at(at, what)?;
        let attributes = match (&f.attributes, &existing) {
            (Some(Value::String(text)), _) => text.clone(),
            (Some(value), _) => value.to_string(),
            (None, Some(e)) => e.attributes.clone(),
            (None, None) => "{}".to_owned(),
        };
        conversations::check_attributes(&attributes).at(at, what)?;
        let role_sid = match (&f.role_sid, &existing) {
            (Some(role), _) => {
                let role = users::parse_user_role_sid(role).at(at, what)?;
                let found = self.role_in(&role, &service.sid).await?;
                users::check_user_role_type(found.as_deref()).at(at, what)?;
                Some(role.to_string())
            }
            (None, Some(e)) => e.role_sid.clone(),
            (None, None) => service.default_chat_service_role_sid.clone(),
        };
        let written = self
            .settle(at, what, f, existing.as_ref(), |stamps| UserRow {
                seq: stamps.seq,
                sid: sid.to_owned(),
                service_sid: service.sid.clone(),
                account_sid: service.account_sid.clone(),
                identity: identity.clone(),
                friendly_name: friendly_name.clone(),
                attributes: attributes.clone(),
                role_sid: role_sid.clone(),
                date_created: stamps.created,
                date_updated: stamps.updated,
            })
            .await;
        match written {
            Err(Refusal::Storage(e))
                if e.downcast_ref::<StoreError>()
                    .is_some_and(|e| matches!(e, StoreError::Conflict(_))) =>
            {
                refuse(
                    at,
                    what,
                    format!(
                        "User already exists (50201): identity '{identity}' is taken in service {}",
                        service.sid
                    ),
                )
            }
            other => other.map(|_| ()),
        }
    }
}
