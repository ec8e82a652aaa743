//! `/v1/{CustomerProfiles,TrustProducts}/{BU}/Evaluations[/{Sid}]`: `…_evaluation` (list key
//! `results`; create, list, fetch).

use axum::{Json, routing::get};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::bundles::{CustomerProfiles, Family, TrustProducts, bundle_path, holder_fields};
use crate::{
    domain::{
        required,
        sid::{AccountSid, BundleSid, EvaluationSid, PolicySid},
        time::iso8601,
        trusthub::evaluations::{self, Evaluation},
    },
    error::Result,
    http::{
        call::{ApiCall, Created, Listed, created},
        paging::Paging,
        routing::routes,
    },
};

routes! {
    "/v1/CustomerProfiles/{CustomerProfileSid}/Evaluations" =>
        get(list_evaluations::<CustomerProfiles>).post(create_evaluation::<CustomerProfiles>),
    "/v1/CustomerProfiles/{CustomerProfileSid}/Evaluations/{Sid}" =>
        get(fetch_evaluation::<CustomerProfiles>),
    "/v1/TrustProducts/{TrustProductSid}/Evaluations" =>
        get(list_evaluations::<TrustProducts>).post(create_evaluation::<TrustProducts>),
    "/v1/TrustProducts/{TrustProductSid}/Evaluations/{Sid}" =>
        get(fetch_evaluation::<TrustProducts>),
}

/// `…_evaluation`: `results` as the spec's examples show them. Sorted fields.
#[derive(Serialize)]
struct EvaluationResource {
    account_sid: AccountSid,
    #[serde(skip_serializing_if = "Option::is_none")]
    customer_profile_sid: Option<BundleSid>,
    date_created: String,
    policy_sid: PolicySid,
    results: Value,
    sid: EvaluationSid,
    status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    trust_product_sid: Option<BundleSid>,
    url: String,
}

fn resource<F: Family>(evaluation: Evaluation, base: &str) -> EvaluationResource {
    let list = format!(
        "{base}{}/Evaluations",
        bundle_path(F::KIND, &evaluation.bundle_sid)
    );
    let (customer_profile_sid, trust_product_sid) = holder_fields(F::KIND, evaluation.bundle_sid);
    EvaluationResource {
        url: format!("{list}/{}", evaluation.sid),
        account_sid: evaluation.account_sid,
        customer_profile_sid,
        date_created: iso8601(evaluation.date_created),
        policy_sid: evaluation.policy_sid,
        results: evaluation.results,
        sid: evaluation.sid,
        status: evaluation.status,
        trust_product_sid,
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct EvaluationForm {
    policy_sid: Option<String>,
}

async fn create_evaluation<F: Family>(
    call: ApiCall<BundleSid, EvaluationForm>,
) -> Result<Created<EvaluationResource>> {
    let (call, form) = call.split_form();
    let policy_sid = required(form.policy_sid, "PolicySid")?;
    let evaluation = evaluations::create(
        &call.core,
        &call.principal,
        F::KIND,
        &call.path,
        &policy_sid,
    )
    .await?;
    created(resource::<F>(evaluation, &call.base))
}

async fn list_evaluations<F: Family>(
    call: ApiCall<BundleSid>,
    Paging(request): Paging,
) -> Result<Listed<EvaluationResource>> {
    let page = evaluations::list(&call.core, &call.principal, F::KIND, &call.path, request).await?;
    let path = format!("{}/Evaluations", bundle_path(F::KIND, &call.path));
    call.v1_list("results", &path, page, resource::<F>)
}

async fn fetch_evaluation<F: Family>(
    call: ApiCall<(BundleSid, EvaluationSid)>,
) -> Result<Json<EvaluationResource>> {
    let (bundle, sid) = &call.path;
    let evaluation = evaluations::fetch(&call.core, &call.principal, F::KIND, bundle, sid).await?;
    Ok(Json(resource::<F>(evaluation, &call.base)))
}
