//! Rows of `trust_bundle_channel_endpoints`: the channel endpoints (phone numbers) assigned to a
//! bundle, unique per bundle.

use super::bundles::TrustTx;
use crate::store::{
    Keyset, Store, StoreResult,
    error::classify,
    query::{fetch_all, owned_table, row},
    sql,
};

row! {
    #[derive(Debug, Clone, PartialEq)]
    pub struct ChannelEndpointAssignmentRow {
        seq: i64,
        sid: String,
        bundle_sid: String,
        account_sid: String,
        channel_endpoint_type: String,
        channel_endpoint_sid: String,
        date_created: i64,
    }
}
owned_table!(CHANNEL_ENDPOINTS: ChannelEndpointAssignmentRow = "trust_bundle_channel_endpoints" by "bundle_sid");

impl Store {
    /// One keyset page of the bundle's channel endpoints; `endpoint_sids` (non-empty) keeps
    /// those naming one of them.
    pub async fn list_channel_endpoint_assignments(
        &self,
        bundle_sid: &str,
        endpoint_sids: &[String],
        keyset: Keyset,
    ) -> StoreResult<Vec<ChannelEndpointAssignmentRow>> {
        let mut qb = CHANNEL_ENDPOINTS.select_owned(bundle_sid);
        if !endpoint_sids.is_empty() {
            qb.push(" and channel_endpoint_sid in (");
            let mut list = qb.separated(", ");
            for sid in endpoint_sids {
                list.push_bind(sid);
            }
            qb.push(")");
        }
        keyset.push(&mut qb, "seq");
        fetch_all(qb, self).await
    }
}

impl TrustTx {
    /// Inserts an assignment; the endpoint already in the bundle is `StoreError::Conflict`.
    pub async fn insert_channel_endpoint_assignment(
        &mut self,
        row: &ChannelEndpointAssignmentRow,
    ) -> StoreResult<ChannelEndpointAssignmentRow> {
        CHANNEL_ENDPOINTS
            .insert(row)
            .fetch_one::<ChannelEndpointAssignmentRow>(&mut self.tx)
            .await
            .map_err(classify)
    }

    pub async fn delete_channel_endpoint_assignment(
        &mut self,
        bundle_sid: &str,
        sid: &str,
    ) -> StoreResult<bool> {
        CHANNEL_ENDPOINTS
            .delete(&mut self.tx, bundle_sid, sid)
            .await
    }

    /// Whether `endpoint_sid` is assigned to one of the customer profiles `bundle_sid` holds.
    pub async fn endpoint_on_held_profile(
        &mut self,
        bundle_sid: &str,
        endpoint_sid: &str,
    ) -> StoreResult<bool> {
        Ok(sql("select 1 from trust_bundle_channel_endpoints c \
             join trust_bundle_entities e on e.object_sid = c.bundle_sid \
             where e.bundle_sid = $1 and c.channel_endpoint_sid = $2 limit 1")
        .bind(bundle_sid)
        .bind(endpoint_sid)
        .exists(&mut self.tx)
        .await?)
    }
}
