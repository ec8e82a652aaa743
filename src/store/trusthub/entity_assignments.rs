//! Rows of `trust_bundle_entities`: the end users (IT), supporting documents (RD) and bundles
//! (BU) assigned to a bundle, unique per bundle; and the delete of an assignable object, which
//! refuses while the object is assigned anywhere.

use super::{bundles::TrustTx, end_users::EndUserRow, supporting_documents::SupportingDocumentRow};
use crate::store::{
    Keyset, Sql, Store, StoreResult, dialect,
    error::classify,
    query::{Owned, fetch_all, fetch_optional, owned_table, row},
    sql,
};

row! {
    #[derive(Debug, Clone, PartialEq)]
    pub struct EntityAssignmentRow {
        seq: i64,
        sid: String,
        bundle_sid: String,
        account_sid: String,
        object_sid: String,
        date_created: i64,
    }
}
owned_table!(ENTITY_ASSIGNMENTS: EntityAssignmentRow = "trust_bundle_entities" by "bundle_sid");

/// An object a bundle can hold, deleted only while no bundle holds it
/// (`Store::delete_unassigned`).
pub trait Assignable: Owned {}
impl Assignable for EndUserRow {}
impl Assignable for SupportingDocumentRow {}

/// What deleting an assignable object did.
#[derive(Debug, PartialEq, Eq)]
pub enum Unassigned {
    Deleted,
    Missing,
    /// Assigned to a bundle: nothing was deleted.
    Assigned,
}

impl Store {
    /// One keyset page of the bundle's assignments; `object_type` keeps those whose end user or
    /// supporting document has that type.
    pub async fn list_entity_assignments(
        &self,
        bundle_sid: &str,
        object_type: Option<&str>,
        keyset: Keyset,
    ) -> StoreResult<Vec<EntityAssignmentRow>> {
        let mut qb = ENTITY_ASSIGNMENTS.select_owned(bundle_sid);
        if let Some(kind) = object_type {
            qb.push(" and object_sid in (select sid from end_users where type = ")
                .push_bind(kind)
                .push(" union all select sid from supporting_documents where type = ")
                .push_bind(kind)
                .push(")");
        }
        keyset.push(&mut qb, "seq");
        fetch_all(qb, self).await
    }

    /// Deletes the owner's object unless a bundle holds it, in one transaction.
    pub async fn delete_unassigned<R: Assignable>(
        &self,
        owner: &str,
        sid: &str,
    ) -> StoreResult<Unassigned> {
        let mut tx = self.trust_tx().await?;
        // Locked first, so an assignment of it on another instance waits (see `owned_or_any`).
        dialect::lock_parent(&mut tx.tx, R::TABLE.from, "sid", sid).await?;
        if !R::TABLE.exists(&mut tx.tx, owner, sid).await? {
            return Ok(Unassigned::Missing);
        }
        if tx.is_assigned(sid).await? {
            return Ok(Unassigned::Assigned);
        }
        R::TABLE.delete(&mut tx.tx, owner, sid).await?;
        tx.commit().await?;
        Ok(Unassigned::Deleted)
    }
}

impl TrustTx {
    /// Every assignment of the bundle, in creation order.
    pub async fn entity_assignments(
        &mut self,
        bundle_sid: &str,
    ) -> StoreResult<Vec<EntityAssignmentRow>> {
        let mut qb = ENTITY_ASSIGNMENTS.select_owned(bundle_sid);
        qb.push(" order by seq");
        fetch_all(qb, &mut self.tx).await
    }

    /// Whether any bundle holds `object_sid`.
    pub async fn is_assigned(&mut self, object_sid: &str) -> StoreResult<bool> {
        Ok(
            sql("select 1 from trust_bundle_entities where object_sid = $1 limit 1")
                .bind(object_sid)
                .exists(&mut self.tx)
                .await?,
        )
    }

    /// Inserts an assignment; the object already in the bundle is `StoreError::Conflict`.
    pub async fn insert_entity_assignment(
        &mut self,
        row: &EntityAssignmentRow,
    ) -> StoreResult<EntityAssignmentRow> {
        ENTITY_ASSIGNMENTS
            .insert(row)
            .fetch_one::<EntityAssignmentRow>(&mut self.tx)
            .await
            .map_err(classify)
    }

    pub async fn entity_assignment_exists(
        &mut self,
        bundle_sid: &str,
        sid: &str,
    ) -> StoreResult<bool> {
        ENTITY_ASSIGNMENTS
            .exists(&mut self.tx, bundle_sid, sid)
            .await
    }

    pub async fn delete_entity_assignment(
        &mut self,
        bundle_sid: &str,
        sid: &str,
    ) -> StoreResult<bool> {
        ENTITY_ASSIGNMENTS
            .delete(&mut self.tx, bundle_sid, sid)
            .await
    }

    /// The owner's end user (`owner` None: any account's, for an assigned one), locked until
    /// the transaction ends (see `owned_or_any`).
    pub async fn end_user(
        &mut self,
        owner: Option<&str>,
        sid: &str,
    ) -> StoreResult<Option<EndUserRow>> {
        self.owned_or_any::<EndUserRow>(owner, sid).await
    }

    pub async fn supporting_document(
        &mut self,
        owner: Option<&str>,
        sid: &str,
    ) -> StoreResult<Option<SupportingDocumentRow>> {
        self.owned_or_any::<SupportingDocumentRow>(owner, sid).await
    }

    /// An object a bundle is to hold (or holds), locked first: its delete (which locks it too,
    /// see `Store::delete_unassigned`) then waits for this transaction and sees its assignment,
    /// so two instances cannot assign and delete it at once (on SQLite the transaction holds the
    /// write lock already).
    async fn owned_or_any<R: Owned>(
        &mut self,
        owner: Option<&str>,
        sid: &str,
    ) -> StoreResult<Option<R>> {
        dialect::lock_parent(&mut self.tx, R::TABLE.from, "sid", sid).await?;
        let qb: Sql = match owner {
            Some(owner) => R::TABLE.select_one(owner, sid),
            None => R::TABLE.select_where(R::TABLE.sid, sid),
        };
        fetch_optional(qb, &mut self.tx).await
    }
}
