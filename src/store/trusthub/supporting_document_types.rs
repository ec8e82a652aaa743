//! The read-only `supporting_document_types` catalog, shipped as data in migration
//! `0011_trusthub_bundles.sql`; read through the type-catalog statements of `end_user_types`.

use super::end_user_types::{Catalog, EndUserTypeRow};
use crate::store::{Keyset, Store, StoreResult};

const SUPPORTING_DOCUMENT_TYPES: Catalog = "supporting_document_types";

/// A row of the catalog: the same columns as an EndUserType's.
pub type SupportingDocumentTypeRow = EndUserTypeRow;

impl Store {
    /// A SupportingDocumentType by its `OY` SID or its `machine_name`.
    pub async fn fetch_supporting_document_type(
        &self,
        sid_or_name: &str,
    ) -> StoreResult<Option<SupportingDocumentTypeRow>> {
        self.fetch_catalog_type(SUPPORTING_DOCUMENT_TYPES, sid_or_name)
            .await
    }

    pub async fn list_supporting_document_types(
        &self,
        keyset: Keyset,
    ) -> StoreResult<Vec<SupportingDocumentTypeRow>> {
        self.list_catalog_types(SUPPORTING_DOCUMENT_TYPES, keyset)
            .await
    }
}
