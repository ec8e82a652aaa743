//! Rows of `studio_execution_steps`: one per widget run, in the order they ran (`seq`); they
//! go with their execution.

use crate::store::{
    Keyset, Store, StoreResult,
    query::{fetch_all, fetch_optional, owned_table, row},
};

row! {
    /// One step. `context` is JSON text.
    #[derive(Debug, Clone)]
    pub struct StepRow {
        seq: i64,
        sid: String,
        execution_sid: String,
        parent_step_sid: Option<String>,
        name: String,
        r#type: String,
        transitioned_from: String,
        transitioned_to: String,
        context: String,
        date_created: i64,
    }
}
owned_table!(STEPS: StepRow = "studio_execution_steps" by "execution_sid");

impl Store {
    /// A page of the execution's steps in the order they ran (the execution's ownership is
    /// the caller's check).
    pub async fn list_steps(
        &self,
        execution_sid: &str,
        keyset: Keyset,
    ) -> StoreResult<Vec<StepRow>> {
        let mut qb = STEPS.select_owned(execution_sid);
        keyset.push(&mut qb, STEPS.seq);
        fetch_all(qb, self).await
    }

    pub async fn fetch_step(&self, execution_sid: &str, sid: &str) -> StoreResult<Option<StepRow>> {
        fetch_optional(STEPS.select_one(execution_sid, sid), self).await
    }
}
