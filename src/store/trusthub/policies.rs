//! The read-only `trust_policies` catalog (TrustHub Policies), shipped as data in migration
//! `0011_trusthub_bundles.sql`.

use crate::store::{
    Keyset, Sql, Store, StoreResult,
    query::{Columns, fetch_all, fetch_optional, row},
};

row! {
    #[derive(Debug, Clone)]
    pub struct PolicyRow {
        seq: i64,
        sid: String,
        friendly_name: String,
        bundle_kind: String,
        supports: Option<String>,
        api_creatable: bool,
        requirements: String,
    }
}

fn select() -> Sql {
    let mut qb = Sql::new("select ");
    qb.push(PolicyRow::COLUMNS).push(" from trust_policies");
    qb
}

impl Store {
    pub async fn fetch_policy(&self, sid: &str) -> StoreResult<Option<PolicyRow>> {
        let mut qb = select();
        qb.push(" where sid = ").push_bind(sid);
        fetch_optional(qb, self).await
    }

    pub async fn list_policies(&self, keyset: Keyset) -> StoreResult<Vec<PolicyRow>> {
        let mut qb = select();
        qb.push(" where 1 = 1");
        keyset.push(&mut qb, "seq");
        fetch_all(qb, self).await
    }
}
