//! `/v1/Policies[/{Sid}]`: `trusthub.v1.policies`, the read-only catalog (list key `results`).

use axum::{Json, routing::get};
use serde::Serialize;
use serde_json::Value;

use crate::{
    domain::{
        sid::PolicySid,
        trusthub::policies::{self, Policy},
    },
    error::Result,
    http::{
        call::{ApiCall, Listed},
        paging::Paging,
        routing::routes,
    },
};

routes! {
    "/v1/Policies" => get(list_policies),
    "/v1/Policies/{Sid}" => get(fetch_policy),
}

/// `trusthub.v1.policies`; fields in sorted order.
#[derive(Serialize)]
struct PolicyResource {
    friendly_name: String,
    requirements: Value,
    sid: PolicySid,
    url: String,
}

impl PolicyResource {
    fn new(policy: Policy, base: &str) -> Self {
        Self {
            url: format!("{base}/v1/Policies/{}", policy.sid),
            friendly_name: policy.friendly_name,
            requirements: policy.requirements,
            sid: policy.sid,
        }
    }
}

async fn list_policies(call: ApiCall, Paging(request): Paging) -> Result<Listed<PolicyResource>> {
    let page = policies::list(&call.core, request).await?;
    call.v1_list("results", "/v1/Policies", page, PolicyResource::new)
}

async fn fetch_policy(call: ApiCall<PolicySid>) -> Result<Json<PolicyResource>> {
    let policy = policies::fetch(&call.core, &call.path).await?;
    Ok(Json(PolicyResource::new(policy, &call.base)))
}
