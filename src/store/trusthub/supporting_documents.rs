//! Rows of `supporting_documents` (TrustHub SupportingDocuments, one account's each). Deleting
//! one goes through `Store::delete_unassigned` (an assigned document stays).

use crate::store::{
    Store, StoreResult,
    query::{owned_table, row},
};

row! {
    #[derive(Debug, Clone, PartialEq)]
    pub struct SupportingDocumentRow {
        seq: i64,
        sid: String,
        account_sid: String,
        friendly_name: String,
        r#type: String,
        attributes: String,
        status: String,
        date_created: i64,
        date_updated: i64,
    }
}
owned_table!(SUPPORTING_DOCUMENTS: SupportingDocumentRow = "supporting_documents" by "account_sid");

impl Store {
    pub async fn insert_supporting_document(
        &self,
        row: &SupportingDocumentRow,
    ) -> StoreResult<SupportingDocumentRow> {
        Ok(SUPPORTING_DOCUMENTS
            .insert(row)
            .fetch_one::<SupportingDocumentRow>(self)
            .await?)
    }
}
