//! Flows (`studio.v2.flow`): create, fetch, list, update, delete. A flow shows its latest
//! revision (see `revisions`); an update that changes none of name, status and definition (a
//! `CommitMessage` alone included) adds no revision *(ours)*.

use serde_json::Value;
use tracing::instrument;

use super::revisions::{Content, content};
use crate::{
    domain::{
        Core,
        auth::Principal,
        fetch_owned, found, list_owned,
        paging::{Page, PageRequest},
        read_back,
        sid::{AccountSid, FlowSid},
        time,
    },
    error::{Error, Result},
    store::studio::{
        flows::{FlowRow, FlowUpdate},
        revisions::RevisionContent,
    },
};

#[derive(Debug, Clone)]
pub struct Flow {
    pub sid: FlowSid,
    pub account_sid: AccountSid,
    /// The latest revision's number.
    pub revision: i64,
    /// The latest revision's content.
    pub content: Content,
    pub date_created: i64,
    /// `None` until the first update, as in the spec's example.
    pub date_updated: Option<i64>,
}

read_back!(|row: FlowRow| -> Flow {
    parsed: sid, account_sid;
    computed: content = Content::try_from(row.content)?;
    copied: revision, date_created, date_updated;
});

/// What create (and Validate) receive, past the required-parameter checks.
pub struct NewFlow {
    pub friendly_name: String,
    pub status: &'static str,
    pub definition: Value,
    pub commit_message: Option<String>,
}

/// What an update receives: `Status` is required, the rest keep the latest revision's value
/// when absent.
pub struct FlowChanges {
    pub friendly_name: Option<String>,
    pub status: &'static str,
    pub definition: Option<Value>,
    pub commit_message: Option<String>,
}

#[instrument(skip_all)]
pub async fn create(core: &Core, principal: &Principal, new: NewFlow) -> Result<Flow> {
    let content = content(
        new.friendly_name,
        new.status,
        &new.definition,
        new.commit_message,
    )?;
    let sid = FlowSid::new();
    let row = core
        .store
        .create_flow(
            sid.as_str(),
            principal.account_sid.as_str(),
            content,
            time::now(),
        )
        .await?;
    // The definition was parsed from the form: answer with it rather than parse the text just
    // written back again.
    Ok(Flow {
        sid,
        account_sid: principal.account_sid.clone(),
        revision: row.revision,
        content: Content::written(row.content, new.definition)?,
        date_created: row.date_created,
        date_updated: row.date_updated,
    })
}

pub async fn fetch(core: &Core, principal: &Principal, sid: &FlowSid) -> Result<Flow> {
    fetch_owned::<FlowRow, _>(core, &principal.account_sid, sid).await
}

pub async fn list(core: &Core, principal: &Principal, request: PageRequest) -> Result<Page<Flow>> {
    list_owned::<FlowRow, _>(core, &principal.account_sid, request).await
}

#[instrument(skip_all)]
pub async fn update(
    core: &Core,
    principal: &Principal,
    sid: &FlowSid,
    changes: FlowChanges,
) -> Result<Flow> {
    let mut refused = None;
    let outcome = core
        .store
        .update_flow(
            principal.account_sid.as_str(),
            sid.as_str(),
            time::now(),
            |current| match next_revision(current, changes) {
                Ok(next) => next,
                Err(e) => {
                    refused = Some(e);
                    None
                }
            },
        )
        .await?;
    if let Some(error) = refused {
        return Err(error);
    }
    match outcome {
        FlowUpdate::Updated(row) | FlowUpdate::Unchanged(row) => Flow::try_from(row),
        FlowUpdate::NotFound => Err(Error::NotFound),
    }
}

/// The revision `changes` make of the latest one; `None` when they change nothing.
fn next_revision(current: &FlowRow, changes: FlowChanges) -> Result<Option<RevisionContent>> {
    let latest = Content::try_from(current.content.clone())?;
    let name = changes
        .friendly_name
        .unwrap_or_else(|| latest.friendly_name.clone());
    let definition = changes
        .definition
        .unwrap_or_else(|| latest.definition.clone());
    let unchanged = name == latest.friendly_name
        && changes.status == latest.status
        && definition == latest.definition;
    if unchanged {
        return Ok(None);
    }
    content(name, changes.status, &definition, changes.commit_message).map(Some)
}

#[instrument(skip_all)]
pub async fn delete(core: &Core, principal: &Principal, sid: &FlowSid) -> Result<()> {
    found(
        core.store
            .delete_flow(principal.account_sid.as_str(), sid.as_str())
            .await?,
    )
}
