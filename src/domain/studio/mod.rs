//! Studio v2 (seed page 000, spec `twilio_studio_v2.json`, DESIGN.md "Studio"), one file per
//! resource: `flows`, `revisions`, `test_users`, `executions`; `validate` holds the content
//! checks they (and `POST /v2/Flows/Validate`) share, `scope` the "this flow is the caller's"
//! check everything under a flow starts with.
//!
//! Imports point one way: `flows` → `revisions` → `validate`; `revisions`, `test_users` and
//! `executions` → `scope`.

pub mod conditions;
pub mod engine;
pub mod executions;
pub mod flows;
pub mod liquid;
pub mod outbound;
pub mod revisions;
pub mod scope;
pub mod steps;
pub mod test_users;
pub mod validate;
