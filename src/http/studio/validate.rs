//! `POST /v2/Flows/Validate`: `studio.v2.flow_validate`.

use axum::{Json, routing::post};
use serde::Serialize;

use super::flows::FlowForm;
use crate::{
    domain::studio::validate::validate,
    error::Result,
    http::{call::ApiCall, routing::routes},
};

routes! {
    "/v2/Flows/Validate" => post(validate_flow),
}

/// `studio.v2.flow_validate`: only ever `{"valid": true}`; an invalid flow is an error (81022).
#[derive(Serialize)]
struct ValidateResource {
    valid: bool,
}

/// The parameters create takes, checked as create checks them, without storing anything.
async fn validate_flow(call: ApiCall<(), FlowForm>) -> Result<Json<ValidateResource>> {
    let flow = call.form.complete()?;
    validate(
        &flow.friendly_name,
        &flow.definition,
        flow.commit_message.as_deref(),
    )?;
    Ok(Json(ValidateResource { valid: true }))
}
