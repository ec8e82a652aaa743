//! The seed file format: every kind of entry, as `seed FILE` reads it and `export` writes it
//! (README "Fixtures" documents it). A field left out of a file is `None` (or empty); `export`
//! leaves such fields out again.

use serde_json::Value;

use super::entry::{Dated, Entry, Owned, seed_entry};
use crate::store::{
    conversations::{
        ConversationRow, MessageRow, ParticipantRow, RoleRow, ScopedWebhookRow, ServiceRow, UserRow,
    },
    seed::{FlowRecord, KeyRecord},
    trusthub::{
        bundles::BundleRow, channel_endpoint_assignments::ChannelEndpointAssignmentRow,
        end_users::EndUserRow, entity_assignments::EntityAssignmentRow,
        supporting_documents::SupportingDocumentRow,
    },
};

/// The format version written by `export`; a file with another version is refused.
pub const FORMAT_VERSION: u32 = 1;

fn format_version() -> u32 {
    FORMAT_VERSION
}

seed_entry! {
    pub struct SeedFile {
        #[serde(default = "format_version")]
        pub localtwilio_fixture: u32,
        pub accounts: Vec<Entry<SeedAccount>>,
    }
}

seed_entry! {
    /// A main account (top level) or a subaccount (in its parent's `subaccounts`).
    pub struct SeedAccount {
        pub sid: String,
        pub friendly_name: Option<String>,
        pub status: Option<String>,
        pub r#type: Option<String>,
        /// 32 hex digits. Left out of a new account: one is generated and printed once.
        pub auth_token: Option<String>,
        pub date_created: Option<String>,
        pub date_updated: Option<String>,
        pub keys: Vec<Entry<SeedKey>>,
        pub flows: Vec<Entry<SeedFlow>>,
        pub conversation_services: Vec<Entry<SeedService>>,
        /// `/v1/Configuration` (its default service is the one marked `default`).
        pub conversation_configuration: Option<Entry<SeedConfiguration>>,
        /// `/v1/Configuration/Webhooks`.
        pub conversation_webhooks: Option<Entry<SeedWebhooks>>,
        pub end_users: Vec<Entry<SeedEndUser>>,
        pub supporting_documents: Vec<Entry<SeedSupportingDocument>>,
        /// Applied before `trust_products` (which may hold them) and before `subaccounts` (whose
        /// secondary profiles may hold this account's primary one).
        pub customer_profiles: Vec<Entry<SeedBundle>>,
        pub trust_products: Vec<Entry<SeedBundle>>,
        pub subaccounts: Vec<Entry<SeedAccount>>,
    }
}

seed_entry! {
    pub struct SeedKey {
        pub sid: String,
        pub friendly_name: Option<String>,
        /// The secret itself (32 letters and digits)…
        pub secret: Option<String>,
        /// …or its argon2 hash, as `export --secrets` writes it (the secret itself is never stored).
        pub secret_hash: Option<String>,
        pub date_created: Option<String>,
        pub date_updated: Option<String>,
    }
}

seed_entry! {
    /// A flow's latest revision, its earlier ones and its test users.
    pub struct SeedFlow {
        pub sid: String,
        pub friendly_name: Option<String>,
        pub status: Option<String>,
        pub definition: Option<Value>,
        pub commit_message: Option<String>,
        /// Pins the latest revision's number (export writes it). Left out, a changed flow gets a
        /// new revision as an API update would.
        pub revision: Option<i64>,
        pub previous_revisions: Vec<Entry<SeedRevision>>,
        pub test_users: Option<Vec<Entry<String>>>,
        pub date_created: Option<String>,
        pub date_updated: Option<String>,
    }
}

seed_entry! {
    pub struct SeedRevision {
        pub revision: i64,
        pub friendly_name: String,
        pub status: String,
        pub definition: Value,
        pub commit_message: Option<String>,
        pub date_created: Option<String>,
    }
}

seed_entry! {
    pub struct SeedService {
        pub sid: String,
        pub friendly_name: Option<String>,
        /// The account's default service (`/v1/Users`, `/v1/Configuration`).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        pub default: bool,
        pub default_chat_service_role_sid: Option<String>,
        pub default_conversation_role_sid: Option<String>,
        pub default_conversation_creator_role_sid: Option<String>,
        pub reachability_enabled: Option<bool>,
        pub date_created: Option<String>,
        pub date_updated: Option<String>,
        /// `/v1/Services/{IS…}/Configuration/Webhooks` (no `target`).
        pub webhooks: Option<Entry<SeedWebhooks>>,
        pub roles: Vec<Entry<SeedRole>>,
        pub users: Vec<Entry<SeedUser>>,
        pub conversations: Vec<Entry<SeedConversation>>,
    }
}

seed_entry! {
    /// A conversation of the service, with what is under it.
    pub struct SeedConversation {
        pub sid: String,
        pub friendly_name: Option<String>,
        pub unique_name: Option<String>,
        /// A JSON string is the attributes text itself; any other JSON value is written compactly.
        pub attributes: Option<Value>,
        pub messaging_service_sid: Option<String>,
        /// `active` (default), `inactive` or `closed`.
        pub state: Option<String>,
        /// The timers as ISO 8601 durations, and when each fires next.
        pub timer_inactive: Option<String>,
        pub timer_closed: Option<String>,
        pub date_inactive: Option<String>,
        pub date_closed: Option<String>,
        pub email_address: Option<String>,
        pub email_name: Option<String>,
        pub date_created: Option<String>,
        pub date_updated: Option<String>,
        pub participants: Vec<Entry<SeedParticipant>>,
        pub messages: Vec<Entry<SeedMessage>>,
        pub webhooks: Vec<Entry<SeedScopedWebhook>>,
    }
}

seed_entry! {
    /// A participant: `identity` (chat; its user is created when the service has none), or a
    /// `messaging_binding` with `address` and `proxy_address` (non-chat).
    pub struct SeedParticipant {
        pub sid: String,
        pub identity: Option<String>,
        pub messaging_binding: Option<SeedBinding>,
        pub attributes: Option<Value>,
        pub role_sid: Option<String>,
        pub last_read_message_index: Option<i64>,
        pub last_read_timestamp: Option<String>,
        pub notification_level: Option<String>,
        pub date_created: Option<String>,
        pub date_updated: Option<String>,
    }
}

seed_entry! {
    pub struct SeedBinding {
        pub address: Option<String>,
        pub proxy_address: Option<String>,
        pub projected_address: Option<String>,
    }
}

seed_entry! {
    /// A message; without `index`, the conversation's next one.
    pub struct SeedMessage {
        pub sid: String,
        pub index: Option<i64>,
        pub author: Option<String>,
        pub body: Option<String>,
        /// The media array, as the API answers it.
        pub media: Option<Value>,
        pub attributes: Option<Value>,
        pub participant_sid: Option<String>,
        pub content_sid: Option<String>,
        pub subject: Option<String>,
        pub date_created: Option<String>,
        pub date_updated: Option<String>,
    }
}

seed_entry! {
    /// A conversation-scoped webhook, as `…/Conversations/{CH}/Webhooks` takes it.
    pub struct SeedScopedWebhook {
        pub sid: String,
        pub target: Option<String>,
        pub url: Option<String>,
        pub method: Option<String>,
        pub filters: Option<Vec<String>>,
        pub triggers: Option<Vec<String>>,
        pub flow_sid: Option<String>,
        pub replay_after: Option<i64>,
        pub date_created: Option<String>,
        pub date_updated: Option<String>,
    }
}

seed_entry! {
    pub struct SeedConfiguration {
        pub default_messaging_service_sid: Option<String>,
        pub default_inactive_timer: Option<String>,
        pub default_closed_timer: Option<String>,
    }
}

seed_entry! {
    /// A webhook target, as its configuration endpoint takes it.
    pub struct SeedWebhooks {
        pub method: Option<String>,
        pub filters: Option<Vec<String>>,
        pub pre_webhook_url: Option<String>,
        pub post_webhook_url: Option<String>,
        /// Account webhooks only: `webhook` or `flex`.
        pub target: Option<String>,
    }
}

seed_entry! {
    pub struct SeedRole {
        pub sid: String,
        pub friendly_name: Option<String>,
        pub r#type: Option<String>,
        pub permissions: Option<Vec<String>>,
        pub date_created: Option<String>,
        pub date_updated: Option<String>,
    }
}

seed_entry! {
    pub struct SeedUser {
        pub sid: String,
        pub identity: Option<String>,
        pub friendly_name: Option<String>,
        /// A JSON string is taken as the attributes text itself (what the API stores and returns);
        /// any other JSON value is written out compactly.
        pub attributes: Option<Value>,
        pub role_sid: Option<String>,
        pub date_created: Option<String>,
        pub date_updated: Option<String>,
    }
}

seed_entry! {
    pub struct SeedEndUser {
        pub sid: String,
        pub friendly_name: Option<String>,
        pub r#type: Option<String>,
        /// An object (or its JSON text).
        pub attributes: Option<Value>,
        pub date_created: Option<String>,
        pub date_updated: Option<String>,
    }
}

seed_entry! {
    pub struct SeedSupportingDocument {
        pub sid: String,
        pub friendly_name: Option<String>,
        pub r#type: Option<String>,
        /// An object (or its JSON text).
        pub attributes: Option<Value>,
        /// Upper-case, as the API shows it (`DRAFT`, `APPROVED` …).
        pub status: Option<String>,
        pub date_created: Option<String>,
        pub date_updated: Option<String>,
    }
}

seed_entry! {
    /// A Customer Profile or a Trust Product (which list it is in says which).
    pub struct SeedBundle {
        pub sid: String,
        pub friendly_name: Option<String>,
        pub email: Option<String>,
        pub policy_sid: Option<String>,
        /// `draft`, `twilio-approved` … (a fixture may start a bundle in any status).
        pub status: Option<String>,
        pub status_callback: Option<String>,
        pub valid_until: Option<String>,
        /// `[{"code": 18601}]` after a rejection.
        pub errors: Option<Value>,
        pub date_created: Option<String>,
        pub date_updated: Option<String>,
        pub entity_assignments: Vec<Entry<SeedEntityAssignment>>,
        pub channel_endpoint_assignments: Vec<Entry<SeedChannelEndpointAssignment>>,
    }
}

seed_entry! {
    pub struct SeedEntityAssignment {
        pub sid: String,
        pub object_sid: Option<String>,
        pub date_created: Option<String>,
    }
}

seed_entry! {
    pub struct SeedChannelEndpointAssignment {
        pub sid: String,
        pub channel_endpoint_type: Option<String>,
        pub channel_endpoint_sid: Option<String>,
        pub date_created: Option<String>,
    }
}

/// Which stored row each kind of entry becomes, and what owns it.
macro_rules! owned {
    ($($entry:ty => $row:ty, $prefix:literal, $name:literal, $owner:ident of $whose:literal;)+) => {
        $(impl Owned for $entry {
            type Row = $row;
            const PREFIX: &'static str = $prefix;
            const NAME: &'static str = $name;
            const OWNER: &'static str = $whose;
            fn sid(&self) -> &str {
                &self.sid
            }
            fn owner_of(row: &$row) -> &str {
                &row.$owner
            }
        })+
    };
}

owned! {
    SeedKey => KeyRecord, "SK", "key", account_sid of "account";
    SeedFlow => FlowRecord, "FW", "flow", account_sid of "account";
    SeedService => ServiceRow, "IS", "conversation service", account_sid of "account";
    SeedRole => RoleRow, "RL", "role", service_sid of "service";
    SeedUser => UserRow, "US", "user", service_sid of "service";
    SeedEndUser => EndUserRow, "IT", "end user", account_sid of "account";
    SeedSupportingDocument => SupportingDocumentRow, "RD", "supporting document", account_sid of "account";
    SeedBundle => BundleRow, "BU", "bundle", account_sid of "account";
    SeedEntityAssignment => EntityAssignmentRow, "BV", "entity assignment", bundle_sid of "bundle";
    SeedChannelEndpointAssignment => ChannelEndpointAssignmentRow, "RA", "channel endpoint assignment", bundle_sid of "bundle";
    SeedConversation => ConversationRow, "CH", "conversation", service_sid of "service";
    SeedParticipant => ParticipantRow, "MB", "participant", conversation_sid of "conversation";
    SeedMessage => MessageRow, "IM", "message", conversation_sid of "conversation";
    SeedScopedWebhook => ScopedWebhookRow, "WH", "conversation webhook", conversation_sid of "conversation";
}

macro_rules! dated {
    ($($entry:ty),+) => {
        $(impl Dated for $entry {
            fn dates(&self) -> (&Option<String>, &Option<String>) {
                (&self.date_created, &self.date_updated)
            }
        })+
    };
}

dated!(
    SeedAccount,
    SeedKey,
    SeedService,
    SeedRole,
    SeedUser,
    SeedEndUser,
    SeedSupportingDocument,
    SeedBundle,
    SeedConversation,
    SeedParticipant,
    SeedMessage,
    SeedScopedWebhook
);
