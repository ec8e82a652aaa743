//! `POST /_localtwilio/TrustHub/Bundles/{BU}/Review` (not a Twilio endpoint; the account's own
//! credentials): decides the simulated review of one of the caller's bundles at once.
//! `Decision` = `in-review` (from `pending-review`), `approve` or `reject` (from either),
//! `ErrorCodes` (with `reject`; comma-separated, 18601–18609; default 18601). Answers the bundle
//! as its fetch would.

use axum::{Json, routing::post};
use serde::Deserialize;

use super::bundles::BundleResource;
use crate::{
    domain::{
        required,
        sid::BundleSid,
        trusthub::review::{self, Decision},
    },
    error::{Error, Result},
    http::{call::ApiCall, routing::routes},
};

routes! {
    "/_localtwilio/TrustHub/Bundles/{Sid}/Review" => post(decide_review),
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ReviewForm {
    decision: Option<String>,
    error_codes: Option<String>,
}

async fn decide_review(call: ApiCall<BundleSid, ReviewForm>) -> Result<Json<BundleResource>> {
    let (call, form) = call.split_form();
    let decision = match required(form.decision, "Decision")?.as_str() {
        "in-review" => Decision::InReview,
        "approve" => Decision::Approve,
        "reject" => Decision::Reject(match form.error_codes.as_deref() {
            None | Some("") => vec![18601],
            Some(codes) => review::parse_codes(codes).ok_or_else(|| {
                Error::invalid(
                    "Invalid parameter ErrorCodes: comma-separated codes from 18601 to 18609",
                )
            })?,
        }),
        _ => {
            return Err(Error::invalid(
                "Invalid parameter Decision: must be in-review, approve or reject",
            ));
        }
    };
    let bundle = review::decide(&call.core, &call.principal, &call.path, decision).await?;
    Ok(Json(BundleResource::new(bundle, &call.base)))
}
