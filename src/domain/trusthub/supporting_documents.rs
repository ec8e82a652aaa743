//! SupportingDocuments (`trusthub.v1.supporting_document`): create, fetch, list, update, delete.
//!
//! - `Type` must be a `machine_name` of the SupportingDocumentTypes catalog; it cannot change.
//! - `Attributes` is JSON text of an object (`{"address_sids": "AD…"}`), `{}` when omitted,
//!   parsed like an end user's.
//! - TrustHub's form has no `File`: uploads are Regulatory v2's, so `mime_type` stays null.
//! - `status` is upper-case (spec enum): `DRAFT` at creation; the simulated review sets the
//!   documents of a bundle it decides `APPROVED` or `REJECTED` *(ours)*.
//! - A document assigned to a bundle cannot be deleted (400 21644, as an end user).

use serde_json::Value;
use tracing::instrument;

use super::{
    end_users::{check_friendly_name, parse_attributes, unassigned, update_named},
    supporting_document_types::require_known_type,
};
use crate::{
    domain::{
        Core,
        auth::Principal,
        fetch_owned, list_owned,
        paging::{Page, PageRequest},
        read_back,
        sid::{AccountSid, SupportingDocumentSid},
        time,
    },
    error::Result,
    store::trusthub::supporting_documents::SupportingDocumentRow,
};

/// `status` of a new document (spec enum `supporting_document_enum_status`).
pub const DRAFT: &str = "DRAFT";

#[derive(Debug, Clone)]
pub struct SupportingDocument {
    pub sid: SupportingDocumentSid,
    pub account_sid: AccountSid,
    pub friendly_name: String,
    pub kind: String,
    pub attributes: Value,
    pub status: String,
    pub date_created: i64,
    pub date_updated: i64,
}

read_back!(|row: SupportingDocumentRow| -> SupportingDocument {
    parsed: sid, account_sid;
    json: attributes;
    computed: kind = row.r#type;
    copied: friendly_name, status, date_created, date_updated;
});

#[instrument(skip_all)]
pub async fn create(
    core: &Core,
    principal: &Principal,
    friendly_name: &str,
    kind: &str,
    attributes: Option<&str>,
) -> Result<SupportingDocument> {
    check_friendly_name(Some(friendly_name))?;
    require_known_type(core, kind).await?;
    let attributes = match attributes {
        Some(text) => parse_attributes(text)?,
        None => "{}".to_owned(),
    };
    let now = time::now();
    let row = core
        .store
        .insert_supporting_document(&SupportingDocumentRow {
            seq: 0,
            sid: SupportingDocumentSid::new().to_string(),
            account_sid: principal.account_sid.to_string(),
            friendly_name: friendly_name.to_owned(),
            r#type: kind.to_owned(),
            attributes,
            status: DRAFT.to_owned(),
            date_created: now,
            date_updated: now,
        })
        .await?;
    SupportingDocument::try_from(row)
}

pub async fn fetch(
    core: &Core,
    principal: &Principal,
    sid: &SupportingDocumentSid,
) -> Result<SupportingDocument> {
    fetch_owned::<SupportingDocumentRow, _>(core, &principal.account_sid, sid).await
}

pub async fn list(
    core: &Core,
    principal: &Principal,
    request: PageRequest,
) -> Result<Page<SupportingDocument>> {
    list_owned::<SupportingDocumentRow, _>(core, &principal.account_sid, request).await
}

#[instrument(skip_all)]
pub async fn update(
    core: &Core,
    principal: &Principal,
    sid: &SupportingDocumentSid,
    friendly_name: Option<&str>,
    attributes: Option<&str>,
) -> Result<SupportingDocument> {
    update_named::<SupportingDocumentRow, _>(core, principal, sid, friendly_name, attributes).await
}

#[instrument(skip_all)]
pub async fn delete(core: &Core, principal: &Principal, sid: &SupportingDocumentSid) -> Result<()> {
    let outcome = core
        .store
        .delete_unassigned::<SupportingDocumentRow>(principal.account_sid.as_str(), sid.as_str())
        .await?;
    unassigned(outcome, "Supporting Document")
}
