//! Rows of the Conversations tables, one file per resource: services (with their default
//! roles), configuration, roles and users. The webhook target rows live with the delivery queue
//! in `store::webhooks`.

pub mod configuration;
pub mod roles;
pub mod services;
pub mod users;

pub use configuration::{ConfigChange, ConfigurationRow};
pub use roles::{NewRole, RoleDelete, RoleRow};
pub use services::{NewService, ServiceConfigChange, ServiceRow};
pub use users::{UserRow, UserWrite};

pub(crate) use services::insert_default_service;

/// True when SQLite refused a row because a row it references is gone (a foreign key), e.g. a
/// user whose service was deleted between the lookup and the insert.
pub(crate) fn is_foreign_key_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.is_foreign_key_violation())
}
