//! The SupportingDocumentTypes catalog (`trusthub.v1.supporting_document_type`): read-only data
//! shipped in migration `0011_trusthub_bundles.sql`, with fixed `OY` SIDs *(ours)*. Its entries
//! have the shape of EndUserTypes, so they are read as `EndUserType` values. A supporting
//! document's `Type` must be one of its `machine_name`s.

use super::end_user_types::EndUserType;
use crate::{
    domain::{
        Core, found_value,
        paging::{Page, PageRequest},
    },
    error::{Error, Result},
};

/// An entry of the catalog (the same fields as an EndUserType).
pub type SupportingDocumentType = EndUserType;

/// By `OY` SID or `machine_name` (the form Policy requirements link to).
pub async fn fetch(core: &Core, sid_or_name: &str) -> Result<SupportingDocumentType> {
    found_value(
        core.store
            .fetch_supporting_document_type(sid_or_name)
            .await?,
    )
}

pub async fn list(core: &Core, request: PageRequest) -> Result<Page<SupportingDocumentType>> {
    let rows = core
        .store
        .list_supporting_document_types(request.keyset())
        .await?;
    Page::from_rows(request, rows, |r| r.seq).try_map(SupportingDocumentType::try_from)
}

/// `Type` must be a `machine_name` of the catalog: 400 20001 otherwise *(ours)*.
pub(crate) async fn require_known_type(core: &Core, kind: &str) -> Result<SupportingDocumentType> {
    match core.store.fetch_supporting_document_type(kind).await? {
        Some(row) if row.machine_name == kind => SupportingDocumentType::try_from(row),
        _ => Err(Error::invalid(format!(
            "Invalid parameter Type: '{kind}' is not a SupportingDocumentType machine_name (see GET /v1/SupportingDocumentTypes)"
        ))),
    }
}
