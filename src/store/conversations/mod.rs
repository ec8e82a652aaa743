//! Rows of the Conversations tables, one file per resource: services (with their default
//! roles), configuration, roles, users, conversations, participants (and the
//! UserConversations and ParticipantConversations read from them), messages and
//! conversation-scoped webhooks. The webhook target rows live with the delivery queue in
//! `store::webhooks`.

pub mod configuration;
pub mod conversation_with_participants;
// The Conversation resource of the Conversations product: files are named after their resource.
#[allow(clippy::module_inception)]
pub mod conversations;
pub mod messages;
pub mod participant_conversations;
pub mod participants;
pub mod roles;
pub mod scoped_webhooks;
pub mod services;
pub mod user_conversations;
pub mod users;

pub use configuration::{ConfigChange, ConfigurationRow};
pub use conversation_with_participants::{CreateRefused, Created};
pub use conversations::{
    Changed, ConversationChange, ConversationFilter, ConversationRefused, ConversationRow, Fire,
};
pub use messages::{
    Delivered, MessageChange, MessageRefused, MessageRow, Posted, ReceiptRow, ToPost,
};
pub use participants::{
    NewParticipant, NewUser, ParticipantChange, ParticipantRefused, ParticipantRow,
};
pub use roles::{NewRole, RoleDelete, RoleRow};
pub use scoped_webhooks::{HookRow, ScopedWebhookRefused, ScopedWebhookRow};
pub use services::{NewService, ServiceConfigChange, ServiceRow};
pub use user_conversations::Participation;
pub use users::{UserRow, UserWrite};

pub(crate) use services::insert_default_service;

/// True when SQLite refused a row because a row it references is gone (a foreign key), e.g. a
/// user whose service was deleted between the lookup and the insert.
pub(crate) fn is_foreign_key_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.is_foreign_key_violation())
}
