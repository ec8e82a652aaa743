//! The read-only `end_user_types` catalog (TrustHub EndUserTypes), shipped as data in migration
//! `0003_trusthub.sql`. Its rows have the shape of every TrustHub type catalog (`sid`,
//! `machine_name`, `friendly_name`, `fields`), so `supporting_document_types` reads its own
//! table through the same two statements.

use sqlx::FromRow;

use crate::store::{
    Keyset, Sql, Store, StoreResult,
    query::{fetch_all, fetch_optional},
};

#[derive(Debug, Clone, FromRow, serde::Deserialize)]
pub struct EndUserTypeRow {
    pub seq: i64,
    pub sid: String,
    pub machine_name: String,
    pub friendly_name: String,
    /// JSON array of the type's fields.
    pub fields: String,
}

/// A type catalog table: `end_user_types` or `supporting_document_types`.
pub(crate) type Catalog = &'static str;
pub(crate) const END_USER_TYPES: Catalog = "end_user_types";

fn select(catalog: Catalog) -> Sql {
    let mut qb = Sql::new("select seq, sid, machine_name, friendly_name, fields from ");
    qb.push(catalog);
    qb
}

impl Store {
    /// A catalog entry by its `OY` SID or its `machine_name`.
    pub(crate) async fn fetch_catalog_type(
        &self,
        catalog: Catalog,
        sid_or_name: &str,
    ) -> StoreResult<Option<EndUserTypeRow>> {
        let mut qb = select(catalog);
        qb.push(" where sid = ")
            .push_bind(sid_or_name)
            .push(" or machine_name = ")
            .push_bind(sid_or_name);
        fetch_optional(qb, self).await
    }

    pub(crate) async fn list_catalog_types(
        &self,
        catalog: Catalog,
        keyset: Keyset,
    ) -> StoreResult<Vec<EndUserTypeRow>> {
        let mut qb = select(catalog);
        qb.push(" where 1 = 1");
        keyset.push(&mut qb, "seq");
        fetch_all(qb, self).await
    }

    /// An EndUserType by its `OY` SID or its `machine_name`.
    pub async fn fetch_end_user_type(
        &self,
        sid_or_name: &str,
    ) -> StoreResult<Option<EndUserTypeRow>> {
        self.fetch_catalog_type(END_USER_TYPES, sid_or_name).await
    }

    pub async fn list_end_user_types(&self, keyset: Keyset) -> StoreResult<Vec<EndUserTypeRow>> {
        self.list_catalog_types(END_USER_TYPES, keyset).await
    }
}
