//! `/v1/{CustomerProfiles,TrustProducts}/{BU}/EntityAssignments[/{Sid}]`:
//! `…_entity_assignment` (list key `results`; no update).

use axum::{Json, http::StatusCode, routing::get};
use serde::{Deserialize, Serialize};

use super::bundles::{CustomerProfiles, Family, TrustProducts, bundle_path, holder_fields};
use crate::{
    domain::{
        required,
        sid::{AccountSid, BundleSid, EntityAssignmentSid},
        time::iso8601,
        trusthub::entity_assignments::{self, EntityAssignment},
    },
    error::Result,
    http::{
        call::{ApiCall, Created, Listed, created},
        extract::TwilioQuery,
        paging::Paging,
        routing::routes,
    },
};

routes! {
    "/v1/CustomerProfiles/{CustomerProfileSid}/EntityAssignments" =>
        get(list_assignments::<CustomerProfiles>).post(create_assignment::<CustomerProfiles>),
    "/v1/CustomerProfiles/{CustomerProfileSid}/EntityAssignments/{Sid}" =>
        get(fetch_assignment::<CustomerProfiles>).delete(delete_assignment::<CustomerProfiles>),
    "/v1/TrustProducts/{TrustProductSid}/EntityAssignments" =>
        get(list_assignments::<TrustProducts>).post(create_assignment::<TrustProducts>),
    "/v1/TrustProducts/{TrustProductSid}/EntityAssignments/{Sid}" =>
        get(fetch_assignment::<TrustProducts>).delete(delete_assignment::<TrustProducts>),
}

/// `…_entity_assignment`: the holder under `customer_profile_sid` or `trust_product_sid` (the
/// other is left out). Fields in sorted order.
#[derive(Serialize)]
struct EntityAssignmentResource {
    account_sid: AccountSid,
    #[serde(skip_serializing_if = "Option::is_none")]
    customer_profile_sid: Option<BundleSid>,
    date_created: String,
    object_sid: String,
    sid: EntityAssignmentSid,
    #[serde(skip_serializing_if = "Option::is_none")]
    trust_product_sid: Option<BundleSid>,
    url: String,
}

fn resource<F: Family>(assignment: EntityAssignment, base: &str) -> EntityAssignmentResource {
    let list = format!(
        "{base}{}/EntityAssignments",
        bundle_path(F::KIND, &assignment.bundle_sid)
    );
    let (customer_profile_sid, trust_product_sid) = holder_fields(F::KIND, assignment.bundle_sid);
    EntityAssignmentResource {
        url: format!("{list}/{}", assignment.sid),
        account_sid: assignment.account_sid,
        customer_profile_sid,
        date_created: iso8601(assignment.date_created),
        object_sid: assignment.object_sid,
        sid: assignment.sid,
        trust_product_sid,
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AssignmentForm {
    object_sid: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AssignmentQuery {
    object_type: Option<String>,
}

async fn create_assignment<F: Family>(
    call: ApiCall<BundleSid, AssignmentForm>,
) -> Result<Created<EntityAssignmentResource>> {
    let (call, form) = call.split_form();
    let object_sid = required(form.object_sid, "ObjectSid")?;
    let assignment = entity_assignments::create(
        &call.core,
        &call.principal,
        F::KIND,
        &call.path,
        &object_sid,
    )
    .await?;
    created(resource::<F>(assignment, &call.base))
}

async fn list_assignments<F: Family>(
    call: ApiCall<BundleSid>,
    Paging(request): Paging,
    TwilioQuery(query): TwilioQuery<AssignmentQuery>,
) -> Result<Listed<EntityAssignmentResource>> {
    let object_type = query.object_type.filter(|t| !t.is_empty());
    let page = entity_assignments::list(
        &call.core,
        &call.principal,
        F::KIND,
        &call.path,
        object_type.as_deref(),
        request,
    )
    .await?;
    let path = format!("{}/EntityAssignments", bundle_path(F::KIND, &call.path));
    let filters: Vec<(&str, &str)> = object_type
        .iter()
        .map(|t| ("ObjectType", t.as_str()))
        .collect();
    call.v1_filtered_list("results", &path, &filters, page, resource::<F>)
}

async fn fetch_assignment<F: Family>(
    call: ApiCall<(BundleSid, EntityAssignmentSid)>,
) -> Result<Json<EntityAssignmentResource>> {
    let (bundle, sid) = &call.path;
    let assignment =
        entity_assignments::fetch(&call.core, &call.principal, F::KIND, bundle, sid).await?;
    Ok(Json(resource::<F>(assignment, &call.base)))
}

async fn delete_assignment<F: Family>(
    call: ApiCall<(BundleSid, EntityAssignmentSid)>,
) -> Result<StatusCode> {
    let (bundle, sid) = &call.path;
    entity_assignments::delete(&call.core, &call.principal, F::KIND, bundle, sid).await?;
    Ok(StatusCode::NO_CONTENT)
}
