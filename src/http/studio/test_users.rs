//! `/v2/Flows/{Sid}/TestUsers`: `studio.v2.flow.test_user`.

use axum::{Json, Router, extract::State, routing::get};
use serde::{Deserialize, Serialize};

use crate::{
    domain::{sid::FlowSid, studio::test_users},
    error::Result,
    http::{
        extract::{Authed, TwilioForm, TwilioPath},
        state::AppState,
        urls::BaseUrl,
    },
};

pub(super) fn routes() -> Router<AppState> {
    Router::new().route(
        "/v2/Flows/{Sid}/TestUsers",
        get(fetch_test_users).post(update_test_users),
    )
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

async fn fetch_test_users(
    State(state): State<AppState>,
    Authed(principal): Authed,
    BaseUrl(base): BaseUrl,
    TwilioPath(sid): TwilioPath<FlowSid>,
) -> Result<Json<TestUsersResource>> {
    let users = test_users::fetch(&state.core, &principal, &sid).await?;
    Ok(Json(TestUsersResource::new(sid, users, &base)))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TestUsersForm {
    #[serde(default)]
    test_users: Vec<String>,
}

async fn update_test_users(
    State(state): State<AppState>,
    Authed(principal): Authed,
    BaseUrl(base): BaseUrl,
    TwilioPath(sid): TwilioPath<FlowSid>,
    TwilioForm(form): TwilioForm<TestUsersForm>,
) -> Result<Json<TestUsersResource>> {
    let users = test_users::replace(&state.core, &principal, &sid, form.test_users).await?;
    Ok(Json(TestUsersResource::new(sid, users, &base)))
}
