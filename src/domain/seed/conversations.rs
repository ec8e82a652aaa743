//! Conversations entries: services with their roles, users and webhook target, and the
//! account's configuration and webhook target.

use serde_json::Value;

use super::{
    entry::{Applier, At, Entry, Refusal, Step, file_or_stored, missing, refuse},
    format::{
        SeedConfiguration, SeedConversation, SeedMessage, SeedParticipant, SeedRole,
        SeedScopedWebhook, SeedService, SeedUser, SeedWebhooks,
    },
};
use crate::{
    domain::{
        check_chars,
        conversations::{
            self, configuration,
            conversations::{check_json, due},
            participants::address_kind,
            users, webhooks,
        },
        sid::{AccountSid, RoleSid, UserSid, matches_pattern},
        time,
    },
    store::{
        StoreError,
        conversations::{
            ConfigurationRow, ConversationRow, MessageRow, NewService, ParticipantRow, RoleRow,
            ScopedWebhookRow, ServiceRow, UserRow,
        },
        query::Sole,
    },
};

/// JSON text as the API stores it: a JSON string is the text itself, any other value compact.
fn json_text(given: &Option<Value>, stored: Option<&String>, default: &str) -> String {
    match (given, stored) {
        (Some(Value::String(text)), _) => text.clone(),
        (Some(value), _) => value.to_string(),
        (None, Some(stored)) => stored.clone(),
        (None, None) => default.to_owned(),
    }
}

/// A stored row's field, unless the file gives one.
fn or_stored<T: Clone>(given: &Option<T>, stored: Option<&Option<T>>) -> Option<T> {
    given.clone().or_else(|| stored.cloned().flatten())
}

/// A refusal for a UNIQUE clash of `put`, in the API's words.
fn clash<T>(written: Step<T>, at: usize, what: &str, message: &str) -> Step<T> {
    match written {
        Err(Refusal::Storage(e))
            if e.downcast_ref::<StoreError>()
                .is_some_and(|e| matches!(e, StoreError::Conflict(_))) =>
        {
            refuse(at, what, message)
        }
        other => other,
    }
}

/// A date-time field of an entry (`YYYY-MM-DDTHH:MM:SSZ`).
fn instant(at: usize, what: &str, name: &str, value: &Option<String>) -> Step<Option<i64>> {
    match value {
        None => Ok(None),
        Some(text) => match time::parse_iso8601(text) {
            Some(ts) => Ok(Some(ts)),
            None => refuse(at, what, format!("{name} must be YYYY-MM-DDTHH:MM:SSZ")),
        },
    }
}

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
                .sole::<ConfigurationRow>(account)
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
        for conversation in &f.conversations {
            self.conversation(conversation, &service).await?;
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
        let input = webhook_input(&entry.value);
        self.settle_target(
            account,
            || webhooks::default_account_webhook(account),
            |current| webhooks::merge_account(current, input).at(entry.at, what),
        )
        .await
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
        let input = webhook_input(&entry.value);
        self.settle_target(
            &service.sid,
            || webhooks::default_service_webhook(service),
            |current| webhooks::merge_service(current, input).at(entry.at, what),
        )
        .await
    }

    /// Writes the webhook target `merge` makes of the owner's stored one (or of `default`, when
    /// it has none yet), unless that changes nothing.
    async fn settle_target<R: Sole + Clone + PartialEq>(
        &mut self,
        owner: &str,
        default: impl FnOnce() -> R,
        merge: impl FnOnce(R) -> Step<R>,
    ) -> Step {
        let stored = self.tx.sole::<R>(owner).await?;
        let merged = merge(stored.clone().unwrap_or_else(default))?;
        if self.must_write(stored.as_ref(), &merged) {
            self.tx.put_sole(&merged).await?;
        }
        Ok(())
    }

    /// The account's messaging service and timers, checked as `/v1/Configuration` checks them.
    pub async fn configuration(&mut self, entry: &Entry<SeedConfiguration>, account: &str) -> Step {
        let (at, f) = (entry.at, &entry.value);
        let what = "conversation_configuration";
        let Some(stored) = self.tx.sole::<ConfigurationRow>(account).await? else {
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
            self.tx.put_sole(&desired).await?;
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

    /// A conversation with its participants, messages and webhooks, checked as the API checks
    /// them (the checks that need no request: names, JSON, states, timers, roles, bindings).
    async fn conversation(
        &mut self,
        entry: &Entry<SeedConversation>,
        service: &ServiceRow,
    ) -> Step {
        let (at, what, sid, existing) = self.open(entry, &service.sid).await?;
        let (f, what) = (&entry.value, &what);
        let e = existing.as_ref();
        let friendly_name = or_stored(&f.friendly_name, e.map(|e| &e.friendly_name));
        check_chars(friendly_name.as_deref(), "FriendlyName", 256).at(at, what)?;
        let unique_name = or_stored(&f.unique_name, e.map(|e| &e.unique_name));
        check_chars(unique_name.as_deref(), "UniqueName", 256).at(at, what)?;
        if unique_name
            .as_deref()
            .is_some_and(|u| matches_pattern(u, "CH"))
        {
            return refuse(
                at,
                what,
                "unique_name should not match the conversation SID pattern (50390)",
            );
        }
        let attributes = json_text(&f.attributes, e.map(|e| &e.attributes), "{}");
        check_json(Some(&attributes), "Attributes", 16 * 1024).at(at, what)?;
        let messaging_service_sid = or_stored(
            &f.messaging_service_sid,
            e.map(|e| &e.messaging_service_sid),
        );
        configuration::check_messaging_service_sid(messaging_service_sid.as_deref())
            .at(at, what)?;
        let state = f
            .state
            .clone()
            .or_else(|| e.map(|e| e.state.clone()))
            .unwrap_or_else(|| "active".to_owned());
        if !matches!(state.as_str(), "active" | "inactive" | "closed") {
            return refuse(at, what, "state must be active, inactive or closed");
        }
        let timer_inactive = or_stored(&f.timer_inactive, e.map(|e| &e.timer_inactive));
        let timer_closed = or_stored(&f.timer_closed, e.map(|e| &e.timer_closed));
        for (timer, name, minimum) in [
            (&timer_inactive, "timer_inactive", 60),
            (&timer_closed, "timer_closed", 600),
        ] {
            conversations::check_timer(timer.clone(), name, minimum).at(at, what)?;
        }
        let date_inactive = match instant(at, what, "date_inactive", &f.date_inactive)? {
            Some(ts) => Some(ts),
            None => e.map(|e| e.date_inactive).unwrap_or_else(|| {
                due(timer_inactive.as_deref(), self.now).filter(|_| state == "active")
            }),
        };
        let date_closed = match instant(at, what, "date_closed", &f.date_closed)? {
            Some(ts) => Some(ts),
            None => e
                .map(|e| e.date_closed)
                .unwrap_or_else(|| due(timer_closed.as_deref(), self.now)),
        };
        // Messages without an index take the next ones; the counter ends past the highest.
        let mut next = e.map_or(0, |e| e.next_message_index);
        for m in &f.messages {
            if let Some(index) = m.value.index {
                if index < 0 {
                    return refuse(
                        m.at,
                        &format!("message {}", m.value.sid),
                        "index must be at least 0",
                    );
                }
                next = next.max(index + 1);
            }
        }
        let mut indexes = Vec::with_capacity(f.messages.len());
        for m in &f.messages {
            let stored: Option<MessageRow> = self.tx.get(&m.value.sid).await?;
            let index = match (m.value.index, stored) {
                (Some(index), _) => index,
                (None, Some(row)) => row.message_index,
                (None, None) => {
                    next += 1;
                    next - 1
                }
            };
            indexes.push(index);
        }
        let (closed, unique) = (state == "closed", unique_name.clone());
        let written = self
            .settle(at, what, f, e, |stamps| ConversationRow {
                seq: stamps.seq,
                sid: sid.to_owned(),
                service_sid: service.sid.clone(),
                account_sid: service.account_sid.clone(),
                friendly_name: friendly_name.clone(),
                unique_name: unique_name.clone(),
                attributes: attributes.clone(),
                messaging_service_sid: messaging_service_sid.clone(),
                state: state.clone(),
                timer_inactive: timer_inactive.clone(),
                timer_closed: timer_closed.clone(),
                date_inactive: if closed { None } else { date_inactive },
                date_closed: if closed { None } else { date_closed },
                email_address: or_stored(&f.email_address, e.map(|e| &e.email_address)),
                email_name: or_stored(&f.email_name, e.map(|e| &e.email_name)),
                next_message_index: next,
                date_created: stamps.created,
                date_updated: stamps.updated,
            })
            .await;
        let message = format!(
            "Conversation with provided unique name already exists (50353): '{}' in service {}",
            unique.unwrap_or_default(),
            service.sid
        );
        let conversation = clash(written, at, what, &message)?;
        for p in &f.participants {
            self.participant(p, &conversation, service).await?;
        }
        for (m, index) in f.messages.iter().zip(indexes) {
            self.message(m, &conversation, index).await?;
        }
        for w in &f.webhooks {
            self.scoped_webhook(w, &conversation).await?;
        }
        Ok(())
    }

    async fn participant(
        &mut self,
        entry: &Entry<SeedParticipant>,
        conversation: &ConversationRow,
        service: &ServiceRow,
    ) -> Step {
        let (at, what, sid, existing) = self.open(entry, &conversation.sid).await?;
        let (f, what) = (&entry.value, &what);
        let e = existing.as_ref();
        let identity = or_stored(&f.identity, e.map(|e| &e.identity));
        let binding = f.messaging_binding.as_ref();
        let address = binding
            .and_then(|b| b.address.clone())
            .or_else(|| e.and_then(|e| e.address.clone()));
        let proxy = binding
            .and_then(|b| b.proxy_address.clone())
            .or_else(|| e.and_then(|e| e.proxy_address.clone()));
        let projected = binding
            .and_then(|b| b.projected_address.clone())
            .or_else(|| e.and_then(|e| e.projected_address.clone()));
        let kind = match (&identity, &address) {
            (Some(identity), None) => {
                conversations::check_identity(identity).at(at, what)?;
                projected.as_ref().map(|_| "sms")
            }
            (None, Some(address)) => {
                let kind = address_kind(address);
                let proxy_kind = proxy.as_deref().and_then(address_kind);
                if kind.is_none()
                    || proxy_kind != kind
                    || proxy.as_deref() == Some(address.as_str())
                {
                    return refuse(
                        at,
                        what,
                        "messaging_binding needs a valid address and a different proxy_address of the same kind (50407-50412)",
                    );
                }
                kind
            }
            _ => {
                return refuse(
                    at,
                    what,
                    "a participant has an identity or a messaging_binding address, not both",
                );
            }
        };
        let attributes = json_text(&f.attributes, e.map(|e| &e.attributes), "{}");
        check_json(Some(&attributes), "Attributes", 4 * 1024).at(at, what)?;
        let role_sid = match (&f.role_sid, e) {
            (Some(role), _) => {
                let parsed = RoleSid::parse(role).ok_or_else(|| {
                    Refusal::Entry(
                        at,
                        format!("{what}: role_sid must match ^RL[0-9a-fA-F]{{32}}$"),
                    )
                })?;
                if self.role_in(&parsed, &service.sid).await?.as_deref() != Some("conversation") {
                    return refuse(
                        at,
                        what,
                        "role_sid must name a conversation role of the service",
                    );
                }
                Some(role.clone())
            }
            (None, Some(e)) => e.role_sid.clone(),
            (None, None) => service.default_conversation_role_sid.clone(),
        };
        let notification_level = f
            .notification_level
            .clone()
            .or_else(|| e.map(|e| e.notification_level.clone()))
            .unwrap_or_else(|| "default".to_owned());
        if !matches!(notification_level.as_str(), "default" | "muted") {
            return refuse(at, what, "notification_level must be default or muted");
        }
        if f.last_read_message_index.is_some_and(|i| i < 0) {
            return refuse(at, what, "last_read_message_index must be at least 0");
        }
        // A chat participant is backed by its service's user, created as the API creates it.
        let user_sid = match &identity {
            Some(identity) => Some(
                match self.tx.user_sid_by_identity(&service.sid, identity).await? {
                    Some(user) => user,
                    None => {
                        let user = UserRow {
                            seq: 0,
                            sid: UserSid::new().to_string(),
                            service_sid: service.sid.clone(),
                            account_sid: service.account_sid.clone(),
                            identity: identity.clone(),
                            friendly_name: None,
                            attributes: "{}".into(),
                            role_sid: service.default_chat_service_role_sid.clone(),
                            date_created: self.now,
                            date_updated: self.now,
                        };
                        self.tx.put(&user).await?;
                        user.sid
                    }
                },
            ),
            None => None,
        };
        let open = address.is_some() && proxy.is_some() && conversation.state != "closed";
        let written = self
            .settle(at, what, f, e, |stamps| ParticipantRow {
                seq: stamps.seq,
                sid: sid.to_owned(),
                conversation_sid: conversation.sid.clone(),
                service_sid: service.sid.clone(),
                account_sid: service.account_sid.clone(),
                identity: identity.clone(),
                user_sid: user_sid.clone(),
                address: address.clone(),
                proxy_address: proxy.clone(),
                projected_address: projected.clone(),
                binding_type: kind.map(str::to_owned),
                binding_open: open,
                attributes: attributes.clone(),
                role_sid: role_sid.clone(),
                last_read_message_index: or_stored(
                    &f.last_read_message_index,
                    e.map(|e| &e.last_read_message_index),
                ),
                last_read_timestamp: or_stored(
                    &f.last_read_timestamp,
                    e.map(|e| &e.last_read_timestamp),
                ),
                notification_level: notification_level.clone(),
                date_created: stamps.created,
                date_updated: stamps.updated,
            })
            .await;
        clash(
            written,
            at,
            what,
            "Participant already exists (50433), or its address/proxy pair is bound in another open conversation (50416)",
        )
        .map(|_| ())
    }

    async fn message(
        &mut self,
        entry: &Entry<SeedMessage>,
        conversation: &ConversationRow,
        index: i64,
    ) -> Step {
        let (at, what, sid, existing) = self.open(entry, &conversation.sid).await?;
        let (f, what) = (&entry.value, &what);
        let e = existing.as_ref();
        let author = f
            .author
            .clone()
            .or_else(|| e.map(|e| e.author.clone()))
            .unwrap_or_else(|| "system".to_owned());
        check_chars(Some(&author), "Author", 256).at(at, what)?;
        let body = or_stored(&f.body, e.map(|e| &e.body));
        if body.as_deref().is_some_and(|b| b.chars().count() > 1600) {
            return refuse(at, what, "Message body parameter is too long (50504)");
        }
        let media = match (&f.media, e) {
            (Some(Value::Null), _) | (None, None) => None,
            (Some(value), _) => Some(value.to_string()),
            (None, Some(e)) => e.media.clone(),
        };
        let content_sid = or_stored(&f.content_sid, e.map(|e| &e.content_sid));
        if body.is_none() && media.is_none() && content_sid.is_none() {
            return refuse(
                at,
                what,
                "Message body not provided (50503): give body, media or content_sid",
            );
        }
        if content_sid
            .as_deref()
            .is_some_and(|c| !matches_pattern(c, "HX"))
        {
            return refuse(at, what, "content_sid must match ^HX[0-9a-fA-F]{32}$");
        }
        let attributes = json_text(&f.attributes, e.map(|e| &e.attributes), "{}");
        check_json(Some(&attributes), "Attributes", 4 * 1024).at(at, what)?;
        let subject = or_stored(&f.subject, e.map(|e| &e.subject));
        check_chars(subject.as_deref(), "Subject", 256).at(at, what)?;
        let participant_sid = or_stored(&f.participant_sid, e.map(|e| &e.participant_sid));
        let written = self
            .settle(at, what, f, e, |stamps| MessageRow {
                seq: stamps.seq,
                sid: sid.to_owned(),
                conversation_sid: conversation.sid.clone(),
                service_sid: conversation.service_sid.clone(),
                account_sid: conversation.account_sid.clone(),
                message_index: index,
                author: author.clone(),
                body: body.clone(),
                media: media.clone(),
                attributes: attributes.clone(),
                participant_sid: participant_sid.clone(),
                content_sid: content_sid.clone(),
                subject: subject.clone(),
                date_created: stamps.created,
                date_updated: stamps.updated,
            })
            .await;
        clash(
            written,
            at,
            what,
            "two messages of the conversation have one index",
        )
        .map(|_| ())
    }

    async fn scoped_webhook(
        &mut self,
        entry: &Entry<SeedScopedWebhook>,
        conversation: &ConversationRow,
    ) -> Step {
        let (at, what, sid, existing) = self.open(entry, &conversation.sid).await?;
        let (f, what) = (&entry.value, &what);
        let e = existing.as_ref();
        let target = match (&f.target, e) {
            (Some(t), Some(e)) if *t != e.target => {
                return refuse(at, what, "a webhook's target cannot change");
            }
            (Some(t), _) => t.clone(),
            (None, Some(e)) => e.target.clone(),
            (None, None) => return missing(at, what, "target"),
        };
        let url = or_stored(&f.url, e.map(|e| &e.url));
        let method = or_stored(&f.method, e.map(|e| &e.method)).map(|m| m.to_ascii_lowercase());
        let flow_sid = or_stored(&f.flow_sid, e.map(|e| &e.flow_sid));
        match target.as_str() {
            "webhook" | "trigger" => {
                if url
                    .as_deref()
                    .is_none_or(|u| u.len() > 512 || reqwest::Url::parse(u).is_err())
                {
                    return refuse(
                        at,
                        what,
                        "url must be an absolute URL of at most 512 characters",
                    );
                }
                if !matches!(method.as_deref(), None | Some("get" | "post")) {
                    return refuse(at, what, "method must be GET or POST");
                }
            }
            "studio" => {
                if flow_sid
                    .as_deref()
                    .is_none_or(|f| !matches_pattern(f, "FW"))
                {
                    return refuse(at, what, "flow_sid must match ^FW[0-9a-fA-F]{32}$ (50367)");
                }
            }
            _ => return refuse(at, what, "target must be webhook, trigger or studio"),
        }
        let list = |given: &Option<Vec<String>>, stored: Option<&String>| match given {
            Some(values) => Value::from(values.clone()).to_string(),
            None => stored.cloned().unwrap_or_else(|| "[]".to_owned()),
        };
        let filters = list(&f.filters, e.map(|e| &e.filters));
        let triggers = list(&f.triggers, e.map(|e| &e.triggers));
        if target == "trigger" && triggers == "[]" {
            return refuse(at, what, "a trigger webhook needs triggers (50371)");
        }
        self.settle(at, what, f, e, |stamps| ScopedWebhookRow {
            seq: stamps.seq,
            sid: sid.to_owned(),
            conversation_sid: conversation.sid.clone(),
            service_sid: conversation.service_sid.clone(),
            account_sid: conversation.account_sid.clone(),
            target: target.clone(),
            url: url.clone(),
            method: method
                .clone()
                .or_else(|| (target != "studio").then(|| "post".to_owned())),
            filters: filters.clone(),
            triggers: triggers.clone(),
            flow_sid: flow_sid.clone(),
            replay_after: or_stored(&f.replay_after, e.map(|e| &e.replay_after)),
            date_created: stamps.created,
            date_updated: stamps.updated,
        })
        .await
        .map(|_| ())
    }
}
