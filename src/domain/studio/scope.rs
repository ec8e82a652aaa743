//! The flow a request is about. Every path below `/v2/Flows/{Sid}` belongs to a flow of the
//! caller's account (an API key's account); another account's flow, or none, is 404 for the
//! flow and everything under it.

use crate::{
    domain::{Core, auth::Principal, found, sid::FlowSid},
    error::Result,
};

/// Fails with 404 unless the flow is the caller's.
pub async fn require_flow(core: &Core, principal: &Principal, sid: &FlowSid) -> Result<()> {
    found(
        core.store
            .flow_exists(principal.account_sid.as_str(), sid.as_str())
            .await?,
    )
}
