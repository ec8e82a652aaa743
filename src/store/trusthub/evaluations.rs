//! Rows of `trust_bundle_evaluations`: immutable evaluations of a bundle.

use super::bundles::TrustTx;
use crate::store::{
    StoreResult,
    query::{owned_table, row},
};

row! {
    #[derive(Debug, Clone, PartialEq)]
    pub struct EvaluationRow {
        seq: i64,
        sid: String,
        bundle_sid: String,
        account_sid: String,
        policy_sid: String,
        status: String,
        results: String,
        date_created: i64,
    }
}
owned_table!(EVALUATIONS: EvaluationRow = "trust_bundle_evaluations" by "bundle_sid");

impl TrustTx {
    pub async fn insert_evaluation(&mut self, row: &EvaluationRow) -> StoreResult<EvaluationRow> {
        Ok(EVALUATIONS
            .insert(row)
            .fetch_one::<EvaluationRow>(&mut self.tx)
            .await?)
    }
}
