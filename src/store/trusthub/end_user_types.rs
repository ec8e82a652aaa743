//! The read-only `end_user_types` catalog (TrustHub EndUserTypes), shipped as data in migration
//! `0003_trusthub.sql`.

use sqlx::FromRow;

use crate::store::{
    Keyset, Sql, Store, StoreResult,
    query::{fetch_all, fetch_optional},
};

#[derive(Debug, Clone, FromRow)]
pub struct EndUserTypeRow {
    pub seq: i64,
    pub sid: String,
    pub machine_name: String,
    pub friendly_name: String,
    /// JSON array of the type's fields.
    pub fields: String,
}

const END_USER_TYPES: &str =
    "select seq, sid, machine_name, friendly_name, fields from end_user_types";

impl Store {
    /// A catalog entry by its `OY` SID or its `machine_name`.
    pub async fn fetch_end_user_type(
        &self,
        sid_or_name: &str,
    ) -> StoreResult<Option<EndUserTypeRow>> {
        let mut qb = Sql::new(END_USER_TYPES);
        qb.push(" where sid = ")
            .push_bind(sid_or_name)
            .push(" or machine_name = ")
            .push_bind(sid_or_name);
        fetch_optional(qb, self).await
    }

    pub async fn list_end_user_types(&self, keyset: Keyset) -> StoreResult<Vec<EndUserTypeRow>> {
        let mut qb = Sql::new(END_USER_TYPES);
        qb.push(" where 1 = 1");
        keyset.push(&mut qb, "seq");
        fetch_all(qb, self).await
    }
}
