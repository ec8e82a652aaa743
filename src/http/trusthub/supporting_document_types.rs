//! `/v1/SupportingDocumentTypes[/{Sid}]`: `trusthub.v1.supporting_document_type`, the
//! read-only catalog (list key `supporting_document_types`). Same shape as an EndUserType.

use axum::{Json, routing::get};

use super::end_user_types::EndUserTypeResource;
use crate::{
    domain::trusthub::supporting_document_types,
    error::Result,
    http::{
        call::{ApiCall, Listed},
        paging::Paging,
        routing::routes,
    },
};

const PATH: &str = "/v1/SupportingDocumentTypes";

routes! {
    "/v1/SupportingDocumentTypes" => get(list_types),
    "/v1/SupportingDocumentTypes/{Sid}" => get(fetch_type),
}

async fn list_types(call: ApiCall, Paging(request): Paging) -> Result<Listed<EndUserTypeResource>> {
    let page = supporting_document_types::list(&call.core, request).await?;
    call.v1_list("supporting_document_types", PATH, page, |kind, base| {
        EndUserTypeResource::under(kind, base, PATH)
    })
}

/// `{Sid}` is the `OY` SID or the `machine_name` (the form Policy requirements link to).
async fn fetch_type(call: ApiCall<String>) -> Result<Json<EndUserTypeResource>> {
    let kind = supporting_document_types::fetch(&call.core, &call.path).await?;
    Ok(Json(EndUserTypeResource::under(kind, &call.base, PATH)))
}
