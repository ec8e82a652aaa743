//! `/v1/CustomerProfiles[/{Sid}]` and `/v1/TrustProducts[/{Sid}]`: `trusthub.v1.customer_profile`
//! and `trusthub.v1.trust_product` (the same fields; list key `results`). Each handler is
//! written once for both path families (`Family`); the sub-resource files use the same families.

use std::collections::BTreeMap;

use axum::{Json, http::StatusCode, routing::get};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{
    domain::{
        required,
        sid::{AccountSid, BundleSid, PolicySid},
        time::iso8601,
        trusthub::{
            bundles::{self, Bundle, BundleInput, BundleKind, ListFilter},
            review,
        },
    },
    error::Result,
    http::{
        call::{ApiCall, Created, Listed, created},
        extract::TwilioQuery,
        paging::Paging,
        routing::routes,
    },
};

/// A bundle path family: where its bundles live and what their links are called.
pub(super) trait Family: Send + Sync + 'static {
    const KIND: BundleKind;
}

pub(super) struct CustomerProfiles;
pub(super) struct TrustProducts;

impl Family for CustomerProfiles {
    const KIND: BundleKind = BundleKind::CustomerProfile;
}

impl Family for TrustProducts {
    const KIND: BundleKind = BundleKind::TrustProduct;
}

/// `/v1/CustomerProfiles` or `/v1/TrustProducts`.
pub(super) fn list_path(kind: BundleKind) -> &'static str {
    match kind {
        BundleKind::CustomerProfile => "/v1/CustomerProfiles",
        BundleKind::TrustProduct => "/v1/TrustProducts",
    }
}

/// The bundle's own path, e.g. `/v1/CustomerProfiles/BU…`.
pub(super) fn bundle_path(kind: BundleKind, sid: &BundleSid) -> String {
    format!("{}/{sid}", list_path(kind))
}

/// The holder's SID under the field its kind names (`customer_profile_sid` or
/// `trust_product_sid`): (customer profile, trust product).
pub(super) fn holder_fields(
    kind: BundleKind,
    sid: BundleSid,
) -> (Option<BundleSid>, Option<BundleSid>) {
    match kind {
        BundleKind::CustomerProfile => (Some(sid), None),
        BundleKind::TrustProduct => (None, Some(sid)),
    }
}

routes! {
    "/v1/CustomerProfiles" => get(list_bundles::<CustomerProfiles>).post(create_bundle::<CustomerProfiles>),
    "/v1/CustomerProfiles/{Sid}" => get(fetch_bundle::<CustomerProfiles>)
        .post(update_bundle::<CustomerProfiles>)
        .delete(delete_bundle::<CustomerProfiles>),
    "/v1/TrustProducts" => get(list_bundles::<TrustProducts>).post(create_bundle::<TrustProducts>),
    "/v1/TrustProducts/{Sid}" => get(fetch_bundle::<TrustProducts>)
        .post(update_bundle::<TrustProducts>)
        .delete(delete_bundle::<TrustProducts>),
}

/// `trusthub.v1.customer_profile` / `trusthub.v1.trust_product`; fields in sorted order.
#[derive(Serialize)]
pub(super) struct BundleResource {
    account_sid: AccountSid,
    date_created: String,
    date_updated: String,
    email: String,
    errors: Option<Value>,
    friendly_name: String,
    links: BTreeMap<String, String>,
    policy_sid: PolicySid,
    sid: BundleSid,
    status: String,
    status_callback: Option<String>,
    url: String,
    valid_until: Option<String>,
}

impl BundleResource {
    pub(super) fn new(bundle: Bundle, base: &str) -> Self {
        let url = format!("{base}{}", bundle_path(bundle.kind, &bundle.sid));
        let prefix = match bundle.kind {
            BundleKind::CustomerProfile => "customer_profiles",
            BundleKind::TrustProduct => "trust_products",
        };
        // The spec's link names: the channel endpoint one is singular.
        let links = [
            ("entity_assignments", "EntityAssignments"),
            ("evaluations", "Evaluations"),
            ("channel_endpoint_assignment", "ChannelEndpointAssignments"),
        ]
        .into_iter()
        .map(|(name, path)| (format!("{prefix}_{name}"), format!("{url}/{path}")))
        .collect();
        Self {
            url,
            links,
            account_sid: bundle.account_sid,
            date_created: iso8601(bundle.date_created),
            date_updated: iso8601(bundle.date_updated),
            email: bundle.email,
            errors: bundle.errors,
            friendly_name: bundle.friendly_name,
            policy_sid: bundle.policy_sid,
            sid: bundle.sid,
            status: bundle.status,
            status_callback: bundle.status_callback,
            valid_until: bundle.valid_until.map(iso8601),
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct BundleForm {
    friendly_name: Option<String>,
    email: Option<String>,
    policy_sid: Option<String>,
    status_callback: Option<String>,
    status: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct BundleListQuery {
    status: Option<String>,
    friendly_name: Option<String>,
    policy_sid: Option<String>,
}

async fn create_bundle<F: Family>(
    call: ApiCall<(), BundleForm>,
) -> Result<Created<BundleResource>> {
    let form = call.form;
    let friendly_name = required(form.friendly_name, "FriendlyName")?;
    let email = required(form.email, "Email")?;
    let policy_sid = required(form.policy_sid, "PolicySid")?;
    let input = BundleInput {
        friendly_name: Some(friendly_name),
        email: Some(email),
        status_callback: form.status_callback,
    };
    let bundle = bundles::create(&call.core, &call.principal, F::KIND, &policy_sid, input).await?;
    created(BundleResource::new(bundle, &call.base))
}

async fn list_bundles<F: Family>(
    call: ApiCall,
    Paging(request): Paging,
    TwilioQuery(query): TwilioQuery<BundleListQuery>,
) -> Result<Listed<BundleResource>> {
    let filter = ListFilter {
        status: query.status,
        friendly_name: query.friendly_name,
        policy_sid: query.policy_sid,
    };
    let page = bundles::list(&call.core, &call.principal, F::KIND, &filter, request).await?;
    let filters: Vec<(&str, &str)> = [
        ("Status", &filter.status),
        ("FriendlyName", &filter.friendly_name),
        ("PolicySid", &filter.policy_sid),
    ]
    .into_iter()
    .filter_map(|(name, value)| value.as_deref().map(|v| (name, v)))
    .collect();
    call.v1_filtered_list(
        "results",
        list_path(F::KIND),
        &filters,
        page,
        BundleResource::new,
    )
}

async fn fetch_bundle<F: Family>(call: ApiCall<BundleSid>) -> Result<Json<BundleResource>> {
    let bundle = bundles::fetch(&call.core, &call.principal, F::KIND, &call.path).await?;
    Ok(Json(BundleResource::new(bundle, &call.base)))
}

/// `Status=pending-review` submits the bundle (and must come alone); the other properties
/// edit it.
async fn update_bundle<F: Family>(
    call: ApiCall<BundleSid, BundleForm>,
) -> Result<Json<BundleResource>> {
    let (call, form) = call.split_form();
    bundles::fetch(&call.core, &call.principal, F::KIND, &call.path).await?;
    let bundle = match form.status {
        Some(status) => {
            let with_properties = form.friendly_name.is_some()
                || form.email.is_some()
                || form.status_callback.is_some();
            review::require_submission(&status, with_properties)?;
            review::submit(&call.core, &call.principal, F::KIND, &call.path).await?
        }
        None => {
            let input = BundleInput {
                friendly_name: form.friendly_name,
                email: form.email,
                status_callback: form.status_callback,
            };
            bundles::edit(&call.core, &call.principal, F::KIND, &call.path, input).await?
        }
    };
    Ok(Json(BundleResource::new(bundle, &call.base)))
}

async fn delete_bundle<F: Family>(call: ApiCall<BundleSid>) -> Result<StatusCode> {
    bundles::delete(&call.core, &call.principal, F::KIND, &call.path).await?;
    Ok(StatusCode::NO_CONTENT)
}
