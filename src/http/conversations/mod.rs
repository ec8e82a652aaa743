//! Conversations v1 (API.md §2.2), one file per resource: services, configuration, roles,
//! users, conversations (and ConversationWithParticipants), participants, messages (and their
//! receipts), conversation-scoped webhooks, user conversations, participant conversations and
//! webhook targets. Everything below a service answers on both path families —
//! `/v1/Users…` (the account's default service) and `/v1/Services/{IS}/Users…` — with one
//! handler each; `extract` tells the families apart by the route's `ServiceSid`, and
//! `url`/`links` follow the family used, always with SIDs.

pub mod configuration;
pub mod conversation_with_participants;
// The Conversation resource of the Conversations product: files are named after their resource.
#[allow(clippy::module_inception)]
pub mod conversations;
pub mod extract;
pub mod messages;
pub mod participant_conversations;
pub mod participants;
pub mod receipts;
pub mod roles;
pub mod scoped_webhooks;
pub mod services;
pub mod user_conversations;
pub mod users;
pub mod webhooks;

use axum::Router;

use super::{routing::merged, state::AppState};

pub fn routes() -> Router<AppState> {
    merged([
        configuration::routes(),
        services::routes(),
        roles::routes(),
        users::routes(),
        user_conversations::routes(),
        participant_conversations::routes(),
        conversations::routes(),
        conversation_with_participants::routes(),
        participants::routes(),
        messages::routes(),
        receipts::routes(),
        scoped_webhooks::routes(),
        webhooks::routes(),
    ])
}
