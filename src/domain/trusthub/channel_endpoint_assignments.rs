//! ChannelEndpointAssignments of a bundle (`…_channel_endpoint_assignment`, `RA`): the phone
//! numbers a bundle covers. Create, list, fetch, delete (no update).
//!
//! - `ChannelEndpointType` ("eg: phone-number") and `ChannelEndpointSid` (any two letters and 32
//!   hex digits, the spec pattern) are required. Phone numbers are not modelled here, so the SID
//!   is stored as given.
//! - Allowed in any status (numbers can be assigned "before or after submitting", D11).
//! - A Trust Product takes only a number already assigned to one of the Customer Profiles it
//!   holds (D5: "Only … phone numbers which are already assigned to your Business Profile are
//!   eligible"); 400 20001 otherwise *(ours: the code)*.
//! - The same endpoint twice in one bundle is 400 20001 *(ours)*, decided by the unique index.

use tracing::instrument;

use super::bundles::{self, BundleKind};
use crate::{
    domain::{
        Core,
        auth::Principal,
        found,
        paging::{Page, PageRequest},
        read_back,
        sid::{AccountSid, BundleSid, ChannelEndpointAssignmentSid},
        time,
    },
    error::{Error, Result},
    store::{StoreError, trusthub::channel_endpoint_assignments::ChannelEndpointAssignmentRow},
};

#[derive(Debug, Clone)]
pub struct ChannelEndpointAssignment {
    pub sid: ChannelEndpointAssignmentSid,
    pub bundle_sid: BundleSid,
    pub account_sid: AccountSid,
    pub channel_endpoint_type: String,
    pub channel_endpoint_sid: String,
    pub date_created: i64,
}

read_back!(|row: ChannelEndpointAssignmentRow| -> ChannelEndpointAssignment {
    parsed: sid, bundle_sid, account_sid;
    copied: channel_endpoint_type, channel_endpoint_sid, date_created;
});

/// The spec's `ChannelEndpointSid` pattern: `^[a-zA-Z]{2}[0-9a-fA-F]{32}$`.
pub fn is_endpoint_sid(sid: &str) -> bool {
    sid.len() == 34
        && sid.as_bytes()[..2].iter().all(u8::is_ascii_alphabetic)
        && sid.as_bytes()[2..].iter().all(u8::is_ascii_hexdigit)
}

/// `ChannelEndpointType`: lower-case words joined by `-` (`phone-number`), at most 64
/// characters *(ours: Twilio documents only the example)*.
fn check_type(kind: &str) -> Result<()> {
    let ok = kind.len() <= 64
        && kind
            .split('-')
            .all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase()));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            "Invalid parameter ChannelEndpointType: expected a type such as phone-number",
        ))
    }
}

#[instrument(skip_all)]
pub async fn create(
    core: &Core,
    principal: &Principal,
    kind: BundleKind,
    bundle_sid: &BundleSid,
    endpoint_type: &str,
    endpoint_sid: &str,
) -> Result<ChannelEndpointAssignment> {
    check_type(endpoint_type)?;
    if !is_endpoint_sid(endpoint_sid) {
        return Err(Error::invalid(
            "Invalid parameter ChannelEndpointSid: expected two letters and 32 hex digits",
        ));
    }
    let mut tx = core.store.trust_tx().await?;
    let bundle = bundles::fetch_in(&mut tx, principal, kind, bundle_sid).await?;
    if kind == BundleKind::TrustProduct
        && endpoint_type == "phone-number"
        && !tx
            .endpoint_on_held_profile(bundle_sid.as_str(), endpoint_sid)
            .await?
    {
        return Err(Error::invalid(format!(
            "Invalid parameter ChannelEndpointSid: {endpoint_sid} is not assigned to a Customer Profile of this Trust Product; assign it to the Customer Profile first"
        )));
    }
    let inserted = tx
        .insert_channel_endpoint_assignment(&ChannelEndpointAssignmentRow {
            seq: 0,
            sid: ChannelEndpointAssignmentSid::new().to_string(),
            bundle_sid: bundle.sid.to_string(),
            account_sid: bundle.account_sid.to_string(),
            channel_endpoint_type: endpoint_type.to_owned(),
            channel_endpoint_sid: endpoint_sid.to_owned(),
            date_created: time::now(),
        })
        .await;
    let row = match inserted {
        Ok(row) => row,
        Err(StoreError::Conflict(_)) => {
            return Err(Error::invalid(format!(
                "Invalid parameter ChannelEndpointSid: {endpoint_sid} is already assigned to this {}",
                kind.noun()
            )));
        }
        Err(e) => return Err(e.into()),
    };
    tx.commit().await?;
    ChannelEndpointAssignment::try_from(row)
}

/// `endpoint_sids`: the `ChannelEndpointSid` and `ChannelEndpointSids` (comma-separated)
/// filters together; empty keeps every assignment.
pub async fn list(
    core: &Core,
    principal: &Principal,
    kind: BundleKind,
    bundle_sid: &BundleSid,
    endpoint_sids: &[String],
    request: PageRequest,
) -> Result<Page<ChannelEndpointAssignment>> {
    bundles::fetch(core, principal, kind, bundle_sid).await?;
    let rows = core
        .store
        .list_channel_endpoint_assignments(bundle_sid.as_str(), endpoint_sids, request.keyset())
        .await?;
    Page::from_rows(request, rows, |r| r.seq).try_map(ChannelEndpointAssignment::try_from)
}

pub async fn fetch(
    core: &Core,
    principal: &Principal,
    kind: BundleKind,
    bundle_sid: &BundleSid,
    sid: &ChannelEndpointAssignmentSid,
) -> Result<ChannelEndpointAssignment> {
    bundles::fetch_held::<ChannelEndpointAssignmentRow, _>(core, principal, kind, bundle_sid, sid)
        .await
}

#[instrument(skip_all)]
pub async fn delete(
    core: &Core,
    principal: &Principal,
    kind: BundleKind,
    bundle_sid: &BundleSid,
    sid: &ChannelEndpointAssignmentSid,
) -> Result<()> {
    let mut tx = core.store.trust_tx().await?;
    bundles::fetch_in(&mut tx, principal, kind, bundle_sid).await?;
    found(
        tx.delete_channel_endpoint_assignment(bundle_sid.as_str(), sid.as_str())
            .await?,
    )?;
    tx.commit().await?;
    Ok(())
}
