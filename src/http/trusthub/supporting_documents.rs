//! `/v1/SupportingDocuments[/{Sid}]`: `trusthub.v1.supporting_document` (list key `results`).

use axum::{Json, http::StatusCode, routing::get};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{
    domain::{
        required,
        sid::{AccountSid, SupportingDocumentSid},
        time::iso8601,
        trusthub::supporting_documents::{self, SupportingDocument},
    },
    error::{Error, Result},
    http::{
        call::{ApiCall, Created, Listed, created},
        paging::Paging,
        routing::routes,
    },
};

routes! {
    "/v1/SupportingDocuments" => get(list_documents).post(create_document),
    "/v1/SupportingDocuments/{Sid}" => get(fetch_document).post(update_document).delete(delete_document),
}

/// `trusthub.v1.supporting_document`: `attributes` is a JSON object; `mime_type` is null (no
/// uploads). Fields in sorted order.
#[derive(Serialize)]
struct SupportingDocumentResource {
    account_sid: AccountSid,
    attributes: Value,
    date_created: String,
    date_updated: String,
    friendly_name: String,
    mime_type: Option<String>,
    sid: SupportingDocumentSid,
    status: String,
    r#type: String,
    url: String,
}

impl SupportingDocumentResource {
    fn new(document: SupportingDocument, base: &str) -> Self {
        Self {
            url: format!("{base}/v1/SupportingDocuments/{}", document.sid),
            account_sid: document.account_sid,
            attributes: document.attributes,
            date_created: iso8601(document.date_created),
            date_updated: iso8601(document.date_updated),
            friendly_name: document.friendly_name,
            mime_type: None,
            sid: document.sid,
            status: document.status,
            r#type: document.kind,
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SupportingDocumentForm {
    friendly_name: Option<String>,
    r#type: Option<String>,
    attributes: Option<String>,
}

async fn create_document(
    call: ApiCall<(), SupportingDocumentForm>,
) -> Result<Created<SupportingDocumentResource>> {
    let friendly_name = required(call.form.friendly_name, "FriendlyName")?;
    let kind = required(call.form.r#type, "Type")?;
    let document = supporting_documents::create(
        &call.core,
        &call.principal,
        &friendly_name,
        &kind,
        call.form.attributes.as_deref(),
    )
    .await?;
    created(SupportingDocumentResource::new(document, &call.base))
}

async fn list_documents(
    call: ApiCall,
    Paging(request): Paging,
) -> Result<Listed<SupportingDocumentResource>> {
    let page = supporting_documents::list(&call.core, &call.principal, request).await?;
    call.v1_list(
        "results",
        "/v1/SupportingDocuments",
        page,
        SupportingDocumentResource::new,
    )
}

async fn fetch_document(
    call: ApiCall<SupportingDocumentSid>,
) -> Result<Json<SupportingDocumentResource>> {
    let document = supporting_documents::fetch(&call.core, &call.principal, &call.path).await?;
    Ok(Json(SupportingDocumentResource::new(document, &call.base)))
}

async fn update_document(
    call: ApiCall<SupportingDocumentSid, SupportingDocumentForm>,
) -> Result<Json<SupportingDocumentResource>> {
    supporting_documents::fetch(&call.core, &call.principal, &call.path).await?;
    // UpdateSupportingDocument takes only FriendlyName and Attributes.
    if call.form.r#type.is_some() {
        return Err(Error::invalid(
            "Invalid parameter Type: a supporting document's type cannot be changed",
        ));
    }
    let friendly_name = call.form.friendly_name.filter(|n| !n.is_empty());
    let document = supporting_documents::update(
        &call.core,
        &call.principal,
        &call.path,
        friendly_name.as_deref(),
        call.form.attributes.as_deref(),
    )
    .await?;
    Ok(Json(SupportingDocumentResource::new(document, &call.base)))
}

async fn delete_document(call: ApiCall<SupportingDocumentSid>) -> Result<StatusCode> {
    supporting_documents::delete(&call.core, &call.principal, &call.path).await?;
    Ok(StatusCode::NO_CONTENT)
}
