//! TrustHub v1 (seed page 003, spec `twilio_trusthub_v1.json`, DESIGN.md "TrustHub",
//! ../shared/reference/trusthub-bundles.md), one file per resource: `end_users`,
//! `supporting_documents`, `bundles` (Customer Profiles and Trust Products),
//! `entity_assignments`, `channel_endpoint_assignments`, `evaluations`, `review` (submission,
//! the simulated review and its status callbacks) and the read-only catalogs
//! `end_user_types`, `supporting_document_types` and `policies`. Imports point one way:
//! catalogs ← objects ← `bundles` ← assignments and `evaluations` ← `review`.

pub mod bundles;
pub mod channel_endpoint_assignments;
pub mod end_user_types;
pub mod end_users;
pub mod entity_assignments;
pub mod evaluations;
pub mod policies;
pub mod review;
pub mod supporting_document_types;
pub mod supporting_documents;
