//! TrustHub v1 (API.md §2.3, ../shared/reference/trusthub-bundles.md), one file per resource:
//! `end_users`, `supporting_documents`, `bundles` (Customer Profiles and Trust Products, both
//! path families), `entity_assignments`, `channel_endpoint_assignments`, `evaluations`, the
//! catalogs `end_user_types`, `supporting_document_types`, `policies`, and `review` (the
//! operator call deciding a simulated review). Each file brings its own routes; only this file
//! imports them all.

mod bundles;
mod channel_endpoint_assignments;
mod end_user_types;
mod end_users;
mod entity_assignments;
mod evaluations;
mod policies;
mod review;
mod supporting_document_types;
mod supporting_documents;

use axum::Router;

use super::{routing::merged, state::AppState};

pub fn routes() -> Router<AppState> {
    merged([
        end_users::routes(),
        end_user_types::routes(),
        supporting_documents::routes(),
        supporting_document_types::routes(),
        policies::routes(),
        bundles::routes(),
        entity_assignments::routes(),
        channel_endpoint_assignments::routes(),
        evaluations::routes(),
        review::routes(),
    ])
}
