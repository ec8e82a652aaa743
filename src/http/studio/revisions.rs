//! `/v2/Flows/{Sid}/Revisions[/{Revision}]`: `studio.v2.flow.flow_revision`.

use axum::{Json, routing::get};
use serde::Serialize;
use serde_json::Value;

use crate::{
    domain::{
        sid::{AccountSid, FlowSid},
        studio::revisions::{self, Revision, RevisionSelector},
        time::iso8601,
    },
    error::Result,
    http::{
        call::{ApiCall, Listed},
        paging::Paging,
        routing::routes,
    },
};

routes! {
    "/v2/Flows/{Sid}/Revisions" => get(list_revisions),
    "/v2/Flows/{Sid}/Revisions/{Revision}" => get(fetch_revision),
}

/// `studio.v2.flow.flow_revision`; fields in sorted order (see `http::paging::V1Page`).
#[derive(Serialize)]
struct RevisionResource {
    account_sid: AccountSid,
    /// API-made revisions have no console user (API.md: author_sid null).
    author_sid: Option<String>,
    commit_message: Option<String>,
    date_created: String,
    /// A revision is never updated once written.
    date_updated: Option<String>,
    definition: Option<Value>,
    errors: Option<Vec<Value>>,
    friendly_name: String,
    revision: i64,
    sid: FlowSid,
    status: String,
    url: String,
    valid: Option<bool>,
}

impl RevisionResource {
    /// What fetch answers.
    fn new(revision: Revision, base: &str) -> Self {
        let valid = revision.content.valid();
        Self {
            url: format!(
                "{base}/v2/Flows/{}/Revisions/{}",
                revision.flow_sid, revision.revision
            ),
            account_sid: revision.account_sid,
            author_sid: None,
            commit_message: revision.content.commit_message,
            date_created: iso8601(revision.date_created),
            date_updated: None,
            definition: Some(revision.content.definition),
            errors: Some(revision.content.errors),
            friendly_name: revision.content.friendly_name,
            revision: revision.revision,
            sid: revision.flow_sid,
            status: revision.content.status,
            valid: Some(valid),
        }
    }

    /// A list item: `null` for definition, valid and errors, as in the spec's list example
    /// (`GET /v2/Flows/{Sid}/Revisions`, `twilio_studio_v2.json`); fetch the revision for them.
    /// The commit message stays: the spec's examples show it `null` in fetch and list alike.
    fn list_item(revision: Revision, base: &str) -> Self {
        Self {
            definition: None,
            errors: None,
            valid: None,
            ..Self::new(revision, base)
        }
    }
}

async fn list_revisions(
    call: ApiCall<FlowSid>,
    Paging(request): Paging,
) -> Result<Listed<RevisionResource>> {
    let page = revisions::list(&call.core, &call.principal, &call.path, request).await?;
    let list_path = format!("/v2/Flows/{}/Revisions", call.path);
    call.v1_list("revisions", &list_path, page, RevisionResource::list_item)
}

async fn fetch_revision(
    call: ApiCall<(FlowSid, RevisionSelector)>,
) -> Result<Json<RevisionResource>> {
    let (sid, selector) = call.path;
    let revision = revisions::fetch(&call.core, &call.principal, &sid, selector).await?;
    Ok(Json(RevisionResource::new(revision, &call.base)))
}
