//! TrustHub's tables, one file per resource: `end_users` and the read-only `end_user_types`
//! catalog. Neither file imports the other.

pub mod end_user_types;
pub mod end_users;
