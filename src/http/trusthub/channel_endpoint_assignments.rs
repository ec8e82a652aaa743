//! `/v1/{CustomerProfiles,TrustProducts}/{BU}/ChannelEndpointAssignments[/{Sid}]`:
//! `…_channel_endpoint_assignment` (list key `results`; no update).

use axum::{Json, http::StatusCode, routing::get};
use serde::{Deserialize, Serialize};

use super::bundles::{CustomerProfiles, Family, TrustProducts, bundle_path, holder_fields};
use crate::{
    domain::{
        required,
        sid::{AccountSid, BundleSid, ChannelEndpointAssignmentSid},
        time::iso8601,
        trusthub::channel_endpoint_assignments::{self, ChannelEndpointAssignment},
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
    "/v1/CustomerProfiles/{CustomerProfileSid}/ChannelEndpointAssignments" =>
        get(list_endpoints::<CustomerProfiles>).post(create_endpoint::<CustomerProfiles>),
    "/v1/CustomerProfiles/{CustomerProfileSid}/ChannelEndpointAssignments/{Sid}" =>
        get(fetch_endpoint::<CustomerProfiles>).delete(delete_endpoint::<CustomerProfiles>),
    "/v1/TrustProducts/{TrustProductSid}/ChannelEndpointAssignments" =>
        get(list_endpoints::<TrustProducts>).post(create_endpoint::<TrustProducts>),
    "/v1/TrustProducts/{TrustProductSid}/ChannelEndpointAssignments/{Sid}" =>
        get(fetch_endpoint::<TrustProducts>).delete(delete_endpoint::<TrustProducts>),
}

/// `…_channel_endpoint_assignment`; the holder as in an entity assignment. Sorted fields.
#[derive(Serialize)]
struct ChannelEndpointAssignmentResource {
    account_sid: AccountSid,
    channel_endpoint_sid: String,
    channel_endpoint_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    customer_profile_sid: Option<BundleSid>,
    date_created: String,
    sid: ChannelEndpointAssignmentSid,
    #[serde(skip_serializing_if = "Option::is_none")]
    trust_product_sid: Option<BundleSid>,
    url: String,
}

fn resource<F: Family>(
    assignment: ChannelEndpointAssignment,
    base: &str,
) -> ChannelEndpointAssignmentResource {
    let list = format!(
        "{base}{}/ChannelEndpointAssignments",
        bundle_path(F::KIND, &assignment.bundle_sid)
    );
    let (customer_profile_sid, trust_product_sid) = holder_fields(F::KIND, assignment.bundle_sid);
    ChannelEndpointAssignmentResource {
        url: format!("{list}/{}", assignment.sid),
        account_sid: assignment.account_sid,
        channel_endpoint_sid: assignment.channel_endpoint_sid,
        channel_endpoint_type: assignment.channel_endpoint_type,
        customer_profile_sid,
        date_created: iso8601(assignment.date_created),
        sid: assignment.sid,
        trust_product_sid,
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct EndpointForm {
    channel_endpoint_type: Option<String>,
    channel_endpoint_sid: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct EndpointQuery {
    channel_endpoint_sid: Option<String>,
    channel_endpoint_sids: Option<String>,
}

async fn create_endpoint<F: Family>(
    call: ApiCall<BundleSid, EndpointForm>,
) -> Result<Created<ChannelEndpointAssignmentResource>> {
    let (call, form) = call.split_form();
    let endpoint_type = required(form.channel_endpoint_type, "ChannelEndpointType")?;
    let endpoint_sid = required(form.channel_endpoint_sid, "ChannelEndpointSid")?;
    let assignment = channel_endpoint_assignments::create(
        &call.core,
        &call.principal,
        F::KIND,
        &call.path,
        &endpoint_type,
        &endpoint_sid,
    )
    .await?;
    created(resource::<F>(assignment, &call.base))
}

async fn list_endpoints<F: Family>(
    call: ApiCall<BundleSid>,
    Paging(request): Paging,
    TwilioQuery(query): TwilioQuery<EndpointQuery>,
) -> Result<Listed<ChannelEndpointAssignmentResource>> {
    let sids: Vec<String> = query
        .channel_endpoint_sid
        .iter()
        .chain(query.channel_endpoint_sids.iter())
        .flat_map(|list| list.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    let page = channel_endpoint_assignments::list(
        &call.core,
        &call.principal,
        F::KIND,
        &call.path,
        &sids,
        request,
    )
    .await?;
    let path = format!(
        "{}/ChannelEndpointAssignments",
        bundle_path(F::KIND, &call.path)
    );
    let filters: Vec<(&str, &str)> = [
        ("ChannelEndpointSid", &query.channel_endpoint_sid),
        ("ChannelEndpointSids", &query.channel_endpoint_sids),
    ]
    .into_iter()
    .filter_map(|(name, value)| value.as_deref().map(|v| (name, v)))
    .collect();
    call.v1_filtered_list("results", &path, &filters, page, resource::<F>)
}

async fn fetch_endpoint<F: Family>(
    call: ApiCall<(BundleSid, ChannelEndpointAssignmentSid)>,
) -> Result<Json<ChannelEndpointAssignmentResource>> {
    let (bundle, sid) = &call.path;
    let assignment =
        channel_endpoint_assignments::fetch(&call.core, &call.principal, F::KIND, bundle, sid)
            .await?;
    Ok(Json(resource::<F>(assignment, &call.base)))
}

async fn delete_endpoint<F: Family>(
    call: ApiCall<(BundleSid, ChannelEndpointAssignmentSid)>,
) -> Result<StatusCode> {
    let (bundle, sid) = &call.path;
    channel_endpoint_assignments::delete(&call.core, &call.principal, F::KIND, bundle, sid).await?;
    Ok(StatusCode::NO_CONTENT)
}
