//! EntityAssignments of a bundle (`…_entity_assignment`, `BV`): the end users, supporting
//! documents and customer profiles it holds. Create, list, fetch, delete (no update).
//!
//! - `ObjectSid` must name an end user (IT), a supporting document (RD) or a Customer Profile
//!   (BU) of the bundle's account; for an ISV's subaccount also the parent account's
//!   `twilio-approved` Primary Customer Profile (D2: the primary lives in the parent account).
//!   Anything else (malformed, unknown, another account's) is 400 22205 (Twilio's "invalid
//!   ObjectSid" code, reused).
//! - A Trust Product may hold a Customer Profile; nothing holds a Trust Product, and a bundle
//!   does not hold itself (400 20001 *(ours)*).
//! - Changes only in `draft`/`twilio-rejected` (60711); the same object twice is 400 20001
//!   *(ours)*, decided by the unique index.

use tracing::instrument;

use super::{
    bundles::{self, APPROVED, Bundle, BundleKind},
    policies::PRIMARY_PROFILE_TYPE,
};
use crate::{
    domain::{
        Core,
        auth::Principal,
        found,
        paging::{Page, PageRequest},
        read_back,
        sid::{AccountSid, BundleSid, EndUserSid, EntityAssignmentSid, SupportingDocumentSid},
        time,
    },
    error::{Error, Result},
    store::{
        StoreError,
        trusthub::{bundles::TrustTx, entity_assignments::EntityAssignmentRow},
    },
};

/// Twilio's 22205: the ObjectSid names nothing the bundle may hold.
pub const INVALID_OBJECT: u32 = 22205;

#[derive(Debug, Clone)]
pub struct EntityAssignment {
    pub sid: EntityAssignmentSid,
    pub bundle_sid: BundleSid,
    pub account_sid: AccountSid,
    pub object_sid: String,
    pub date_created: i64,
}

read_back!(|row: EntityAssignmentRow| -> EntityAssignment {
    parsed: sid, bundle_sid, account_sid;
    copied: object_sid, date_created;
});

fn invalid_object(sid: &str) -> Error {
    Error::invalid_code(
        INVALID_OBJECT,
        format!(
            "Invalid parameter ObjectSid: {sid} is not an end user, supporting document or customer profile this bundle can hold"
        ),
    )
}

/// Whether `object` may go into `holder`, for the caller.
async fn check_object(
    core: &Core,
    tx: &mut TrustTx,
    principal: &Principal,
    holder: &Bundle,
    object_sid: &str,
) -> Result<()> {
    let account = principal.account_sid.as_str();
    if EndUserSid::parse(object_sid).is_some() {
        return match tx.end_user(Some(account), object_sid).await? {
            Some(_) => Ok(()),
            None => Err(invalid_object(object_sid)),
        };
    }
    if SupportingDocumentSid::parse(object_sid).is_some() {
        return match tx.supporting_document(Some(account), object_sid).await? {
            Some(_) => Ok(()),
            None => Err(invalid_object(object_sid)),
        };
    }
    if BundleSid::parse(object_sid).is_none() {
        return Err(invalid_object(object_sid));
    }
    if object_sid == holder.sid.as_str() {
        return Err(Error::invalid(
            "Invalid parameter ObjectSid: a bundle cannot be assigned to itself",
        ));
    }
    let Some(row) = tx.bundle(object_sid).await? else {
        return Err(invalid_object(object_sid));
    };
    let own = row.account_sid == account;
    let parents_primary = !principal.is_main_account()
        && row.account_sid == principal.owner_account_sid.as_str()
        && row.status == APPROVED
        && core
            .store
            .fetch_policy(&row.policy_sid)
            .await?
            .and_then(|p| p.supports)
            .as_deref()
            == Some(PRIMARY_PROFILE_TYPE);
    if !own && !parents_primary {
        return Err(invalid_object(object_sid));
    }
    if row.kind != BundleKind::CustomerProfile.as_str() {
        return Err(Error::invalid(
            "Invalid parameter ObjectSid: a Trust Product cannot be assigned to a bundle (a Trust Product holds Customer Profiles, not the reverse)",
        ));
    }
    Ok(())
}

#[instrument(skip_all)]
pub async fn create(
    core: &Core,
    principal: &Principal,
    kind: BundleKind,
    bundle_sid: &BundleSid,
    object_sid: &str,
) -> Result<EntityAssignment> {
    let mut tx = core.store.trust_tx().await?;
    let bundle = bundles::fetch_in(&mut tx, principal, kind, bundle_sid).await?;
    bundle.require_editable()?;
    check_object(core, &mut tx, principal, &bundle, object_sid).await?;
    let inserted = tx
        .insert_entity_assignment(&EntityAssignmentRow {
            seq: 0,
            sid: EntityAssignmentSid::new().to_string(),
            bundle_sid: bundle.sid.to_string(),
            account_sid: bundle.account_sid.to_string(),
            object_sid: object_sid.to_owned(),
            date_created: time::now(),
        })
        .await;
    let row = match inserted {
        Ok(row) => row,
        Err(StoreError::Conflict(_)) => {
            return Err(Error::invalid(format!(
                "Invalid parameter ObjectSid: {object_sid} is already assigned to this {}",
                kind.noun()
            )));
        }
        Err(e) => return Err(e.into()),
    };
    tx.commit().await?;
    EntityAssignment::try_from(row)
}

pub async fn list(
    core: &Core,
    principal: &Principal,
    kind: BundleKind,
    bundle_sid: &BundleSid,
    object_type: Option<&str>,
    request: PageRequest,
) -> Result<Page<EntityAssignment>> {
    bundles::fetch(core, principal, kind, bundle_sid).await?;
    let rows = core
        .store
        .list_entity_assignments(bundle_sid.as_str(), object_type, request.keyset())
        .await?;
    Page::from_rows(request, rows, |r| r.seq).try_map(EntityAssignment::try_from)
}

pub async fn fetch(
    core: &Core,
    principal: &Principal,
    kind: BundleKind,
    bundle_sid: &BundleSid,
    sid: &EntityAssignmentSid,
) -> Result<EntityAssignment> {
    bundles::fetch_held::<EntityAssignmentRow, _>(core, principal, kind, bundle_sid, sid).await
}

#[instrument(skip_all)]
pub async fn delete(
    core: &Core,
    principal: &Principal,
    kind: BundleKind,
    bundle_sid: &BundleSid,
    sid: &EntityAssignmentSid,
) -> Result<()> {
    let mut tx = core.store.trust_tx().await?;
    let bundle = bundles::fetch_in(&mut tx, principal, kind, bundle_sid).await?;
    found(
        tx.entity_assignment_exists(bundle_sid.as_str(), sid.as_str())
            .await?,
    )?;
    bundle.require_editable()?;
    tx.delete_entity_assignment(bundle_sid.as_str(), sid.as_str())
        .await?;
    tx.commit().await?;
    Ok(())
}
