//! What Conversations handlers read off a request besides the form: the path (which family,
//! which service, which resource) and `X-Twilio-Webhook-Enabled`. At the bottom of
//! `http::conversations`: resource files import it, it imports none of them.
//!
//! Both path families reach the same handlers: `/v1/Users…` and `/v1/Roles…` act on the
//! account's default service, `/v1/Services/{ServiceSid}/…` on the one named. The only
//! difference is whether the route has a `ServiceSid`, which `url`/`links` then follow.

use axum::{Router, extract::FromRequestParts, http::request::Parts, routing::MethodRouter};
use serde::Deserialize;

use crate::{
    domain::{
        conversations::{
            Role, Scope, User, conversations::Conversation, participants::Participant,
            scoped_webhooks::ScopedWebhook,
        },
        paging::Page,
        sid::ServiceSid,
    },
    error::{Error, Result},
    http::{
        call::{ApiCall, Listed},
        extract::true_or_false,
        state::AppState,
    },
};

/// Spec maximum `PageSize` of Roles, Users and User Conversations (Services: 100).
pub const MAX_PAGE: u32 = 50;

/// Each `(tail, methods)` on both families: at `/v1{tail}` and
/// `/v1/Services/{ServiceSid}{tail}` (see `http::routing::routes!`).
pub fn on_both_families(routes: Vec<(&str, MethodRouter<AppState>)>) -> Router<AppState> {
    let mut router = Router::new();
    for family in ["/v1", "/v1/Services/{ServiceSid}"] {
        for (tail, methods) in &routes {
            router = router.route(&format!("{family}{tail}"), methods.clone());
        }
    }
    router
}

/// A list route's path: the `ServiceSid` of the `/v1/Services/{IS}/…` family, none on the
/// default family.
#[derive(Debug, Deserialize)]
pub struct ListPath {
    #[serde(rename = "ServiceSid", default)]
    pub service: Option<ServiceSid>,
}

/// An instance route's path: the family's `ServiceSid` as in `ListPath`, and the resource's
/// `{Sid}` — a typed SID, or a `String` where it may be an identity (users).
#[derive(Debug, Deserialize)]
pub struct InstancePath<K> {
    #[serde(rename = "ServiceSid", default)]
    pub service: Option<ServiceSid>,
    #[serde(rename = "Sid")]
    pub sid: K,
}

/// The path family a request used.
pub trait Family {
    fn service(&self) -> Option<&ServiceSid>;

    fn scope(&self) -> Scope<'_> {
        Scope::from(self.service())
    }

    /// `/v1` for the default family, `/v1/Services/{IS}` for the explicit one (with the
    /// resolved service's SID).
    fn family_path(&self, service_sid: &ServiceSid) -> String {
        match self.service() {
            Some(_) => format!("/v1/Services/{service_sid}"),
            None => "/v1".to_owned(),
        }
    }
}

impl<P: Family, F> ApiCall<P, F> {
    /// The service the request's path names, or the account's default one.
    pub fn scope(&self) -> Scope<'_> {
        self.path.scope()
    }

    /// The absolute URL of the family the request used, for the service `service_sid`: what a
    /// resource's `url` and `links` start with.
    pub fn family_url(&self, service_sid: &ServiceSid) -> String {
        format!("{}{}", self.base, self.path.family_path(service_sid))
    }

    /// `item`'s wire struct, built by `wire` from the family URL of the item's service: what
    /// create, fetch and update answer.
    pub fn family_resource<T: InService, W>(&self, item: T, wire: impl FnOnce(&str, T) -> W) -> W {
        wire(&self.family_url(item.service_sid()), item)
    }

    /// The list at `{family}{tail}` in the family the request used, each item turned into its
    /// wire struct by `wire` from the family URL (see `family_url`) and the item.
    pub fn family_list<T, W>(
        &self,
        key: &'static str,
        service_sid: &ServiceSid,
        tail: &str,
        page: Page<T>,
        wire: impl Fn(&str, T) -> W,
    ) -> Result<Listed<W>> {
        self.family_list_filtered(key, service_sid, tail, &[], page, wire)
    }

    /// `family_list` of a list read with `filters`, which its paging URLs repeat.
    pub fn family_list_filtered<T, W>(
        &self,
        key: &'static str,
        service_sid: &ServiceSid,
        tail: &str,
        filters: &[(&str, &str)],
        page: Page<T>,
        wire: impl Fn(&str, T) -> W,
    ) -> Result<Listed<W>> {
        let family_url = self.family_url(service_sid);
        let list_path = format!("{}{tail}", self.path.family_path(service_sid));
        self.v1_filtered_list(key, &list_path, filters, page, |item, _| {
            wire(&family_url, item)
        })
    }

    /// The `chat_service_sid` of a resource under a conversation: only the service family's
    /// schemas (participants, messages, scoped webhooks) have the field.
    pub fn family_service(&self, service_sid: &ServiceSid) -> Option<ServiceSid> {
        self.path.service().map(|_| service_sid.clone())
    }
}

/// A resource that lives in one service (a role, a user): its URLs follow the family.
pub trait InService {
    fn service_sid(&self) -> &ServiceSid;
}

impl InService for Role {
    fn service_sid(&self) -> &ServiceSid {
        &self.service_sid
    }
}

impl InService for User {
    fn service_sid(&self) -> &ServiceSid {
        &self.service_sid
    }
}

impl InService for Conversation {
    fn service_sid(&self) -> &ServiceSid {
        &self.service_sid
    }
}

impl InService for Participant {
    fn service_sid(&self) -> &ServiceSid {
        &self.service_sid
    }
}

impl InService for ScopedWebhook {
    fn service_sid(&self) -> &ServiceSid {
        &self.service_sid
    }
}

/// A route under one conversation (`…/Conversations/{ConversationSid}[/…]`): the family's
/// `ServiceSid` and the conversation's `CH` SID or unique name.
#[derive(Debug, Deserialize)]
pub struct ConversationPath {
    #[serde(rename = "ServiceSid", default)]
    pub service: Option<ServiceSid>,
    #[serde(rename = "ConversationSid")]
    pub conversation: String,
}

/// An instance route under one conversation: `ConversationPath` and the item's `{Sid}`.
#[derive(Debug, Deserialize)]
pub struct ConversationItemPath<K> {
    #[serde(rename = "ServiceSid", default)]
    pub service: Option<ServiceSid>,
    #[serde(rename = "ConversationSid")]
    pub conversation: String,
    #[serde(rename = "Sid")]
    pub sid: K,
}

impl Family for ConversationPath {
    fn service(&self) -> Option<&ServiceSid> {
        self.service.as_ref()
    }
}

impl<K> Family for ConversationItemPath<K> {
    fn service(&self) -> Option<&ServiceSid> {
        self.service.as_ref()
    }
}

impl Family for ListPath {
    fn service(&self) -> Option<&ServiceSid> {
        self.service.as_ref()
    }
}

impl<K> Family for InstancePath<K> {
    fn service(&self) -> Option<&ServiceSid> {
        self.service.as_ref()
    }
}

/// `X-Twilio-Webhook-Enabled`: absent = false; `true`/`false` (the spec enum); anything else is
/// 400 20001 *(ours)*.
pub struct WebhookEnabled(pub bool);

impl<S: Send + Sync> FromRequestParts<S> for WebhookEnabled {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self> {
        // A value that is not visible ASCII is neither `true` nor `false`: refused.
        let value = parts
            .headers
            .get("x-twilio-webhook-enabled")
            .map(|v| v.to_str().unwrap_or_default());
        let enabled = true_or_false(value, "header X-Twilio-Webhook-Enabled")?;
        Ok(WebhookEnabled(enabled.unwrap_or(false)))
    }
}
