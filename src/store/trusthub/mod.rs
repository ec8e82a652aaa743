//! TrustHub's tables, one file per resource: `end_users`, `supporting_documents`, `bundles`
//! (Customer Profiles and Trust Products, and `TrustTx`, the transaction their changes run in),
//! `entity_assignments`, `channel_endpoint_assignments`, `evaluations`, and the read-only
//! catalogs `end_user_types`, `supporting_document_types` and `policies`.

pub mod bundles;
pub mod channel_endpoint_assignments;
pub mod end_user_types;
pub mod end_users;
pub mod entity_assignments;
pub mod evaluations;
pub mod policies;
pub mod supporting_document_types;
pub mod supporting_documents;
