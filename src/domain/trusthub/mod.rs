//! TrustHub v1 (seed page 003, spec `twilio_trusthub_v1.json`, DESIGN.md "TrustHub"), one file
//! per resource: `end_users` and the read-only `end_user_types` catalog (`end_users` imports
//! `end_user_types`, never the reverse).

pub mod end_user_types;
pub mod end_users;
