//! `/v2/Flows/{Sid}/TestUsers`: `studio.v2.flow.test_user`.

use axum::{Json, routing::get};
use serde::{Deserialize, Serialize};

use crate::{
    domain::{sid::FlowSid, studio::test_users},
    error::Result,
    http::{call::ApiCall, routing::routes},
};

routes! {
    "/v2/Flows/{Sid}/TestUsers" => get(fetch_test_users).post(update_test_users),
}

/// `studio.v2.flow.test_user`: `sid` is the flow's, `url` ends in `/TestUsers`.
#[derive(Serialize)]
struct TestUsersResource {
    sid: FlowSid,
    test_users: Vec<String>,
    url: String,
}

impl TestUsersResource {
    fn new(sid: FlowSid, test_users: Vec<String>, base: &str) -> Self {
        Self {
            url: format!("{base}/v2/Flows/{sid}/TestUsers"),
            sid,
            test_users,
        }
    }
}

async fn fetch_test_users(call: ApiCall<FlowSid>) -> Result<Json<TestUsersResource>> {
    let users = test_users::fetch(&call.core, &call.principal, &call.path).await?;
    Ok(Json(TestUsersResource::new(call.path, users, &call.base)))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TestUsersForm {
    #[serde(default)]
    test_users: Vec<String>,
}

async fn update_test_users(
    call: ApiCall<FlowSid, TestUsersForm>,
) -> Result<Json<TestUsersResource>> {
    let users = test_users::replace(
        &call.core,
        &call.principal,
        &call.path,
        call.form.test_users,
    )
    .await?;
    Ok(Json(TestUsersResource::new(call.path, users, &call.base)))
}
