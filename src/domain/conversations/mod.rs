//! Conversations v1 (seed pages 001/002, spec `twilio_conversations_v1.json`, DESIGN.md
//! "Conversations"), one file per resource:
//!
//! - `scope`: which service a path family means (the account's default, or `/v1/Services/{IS}`)
//!   and the cache of resolved services. At the bottom: every other file imports it, it imports
//!   none of them.
//! - `services`, `configuration`, `roles`, `users`: each resource's rules and its domain value.
//! - `conversations`, `participants`, `messages`, `scoped_webhooks`, `user_conversations`,
//!   `participant_conversations`: the conversations core (issue 17);
//!   `timers`: the background task that fires conversation timers.
//! - `webhooks`: the webhook target resources; `events`: which targets an event reaches. The
//!   events themselves are declared by their resource (`users::USER_ADDED` …) on the generic
//!   `domain::webhooks` machinery.
//!
//! Every account has a default service, created with the account, named by
//! `GET /v1/Configuration`; `/v1/Users` and `/v1/Roles` act on it.

pub mod configuration;
pub mod conversation_with_participants;
// The Conversation resource of the Conversations product: files are named after their resource.
#[allow(clippy::module_inception)]
pub mod conversations;
pub mod events;
pub mod messages;
pub mod participant_conversations;
pub mod participants;
pub mod receipts;
pub mod roles;
pub mod scope;
pub mod scoped_webhooks;
pub mod services;
pub mod timers;
pub mod user_conversations;
pub mod users;
pub mod webhooks;

pub use configuration::{ConfigInput, Configuration, ServiceConfigInput};
pub use roles::{Role, RoleInput, parse_role_type};
pub use scope::{Scope, Service, ServiceCache};
pub use services::{DEFAULT_SERVICE_NAME, default_service, new_service};
pub use users::{User, UserInput, check_attributes, check_identity};

// The checks `seed FILE` shares with the API (`domain::seed`).
pub(crate) use configuration::check_timer;
pub(crate) use roles::{check_permissions, check_role_name};
pub(crate) use services::check_service_name;
pub(crate) use users::check_user_name;
