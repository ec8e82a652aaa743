//! `/v1/EndUserTypes[/{Sid}]`: `trusthub.v1.end_user_type`, the read-only catalog.

use axum::{Json, routing::get};
use serde::Serialize;
use serde_json::Value;

use crate::{
    domain::{
        sid::EndUserTypeSid,
        trusthub::end_user_types::{self, EndUserType},
    },
    error::Result,
    http::{
        call::{ApiCall, Listed},
        paging::Paging,
        routing::routes,
    },
};

routes! {
    "/v1/EndUserTypes" => get(list_end_user_types),
    "/v1/EndUserTypes/{Sid}" => get(fetch_end_user_type),
}

/// `trusthub.v1.end_user_type` (and `trusthub.v1.supporting_document_type`, the same shape);
/// fields in sorted order (see `http::paging::V1Page`).
#[derive(Serialize)]
pub(super) struct EndUserTypeResource {
    fields: Value,
    friendly_name: String,
    machine_name: String,
    sid: EndUserTypeSid,
    url: String,
}

impl EndUserTypeResource {
    fn new(kind: EndUserType, base: &str) -> Self {
        Self::under(kind, base, "/v1/EndUserTypes")
    }

    /// The entry of the catalog served at `list` (its list path).
    pub(super) fn under(kind: EndUserType, base: &str, list: &str) -> Self {
        Self {
            url: format!("{base}{list}/{}", kind.sid),
            fields: kind.fields,
            friendly_name: kind.friendly_name,
            machine_name: kind.machine_name,
            sid: kind.sid,
        }
    }
}

async fn list_end_user_types(
    call: ApiCall,
    Paging(request): Paging,
) -> Result<Listed<EndUserTypeResource>> {
    let page = end_user_types::list(&call.core, request).await?;
    call.v1_list(
        "end_user_types",
        "/v1/EndUserTypes",
        page,
        EndUserTypeResource::new,
    )
}

/// `{Sid}` is the `OY` SID or the `machine_name` (the form Twilio's Policy requirements link
/// to), so the segment is taken as text.
async fn fetch_end_user_type(call: ApiCall<String>) -> Result<Json<EndUserTypeResource>> {
    let kind = end_user_types::fetch(&call.core, &call.path).await?;
    Ok(Json(EndUserTypeResource::new(kind, &call.base)))
}
