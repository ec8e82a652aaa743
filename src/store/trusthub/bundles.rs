//! Rows of `trust_bundles`: Customer Profiles and Trust Products (both `BU` bundles; `kind`
//! tells them apart), and `TrustTx`, the write transaction every change of a bundle or of what
//! is assigned to it runs in: it holds SQLite's write lock from its start, so a check (the
//! bundle's status, an evaluation of what is assigned) and the write it allows cannot be
//! separated by another writer, and the status callbacks a change fires are queued in it.

use crate::store::{
    Keyset, Store, StoreResult, Tx, dialect,
    query::{fetch_all, fetch_optional, owned_table, row},
    sql,
    webhooks::{NewDelivery, enqueue},
};

row! {
    #[derive(Debug, Clone, PartialEq)]
    pub struct BundleRow {
        seq: i64,
        sid: String,
        account_sid: String,
        kind: String,
        policy_sid: String,
        friendly_name: String,
        email: String,
        status_callback: Option<String>,
        status: String,
        valid_until: Option<i64>,
        errors: Option<String>,
        date_created: i64,
        date_updated: i64,
        review_due_at: Option<i64>,
    }
}
owned_table!(BUNDLES: BundleRow = "trust_bundles" by "account_sid");

/// The list filters of `GET /v1/CustomerProfiles` and `/v1/TrustProducts`.
#[derive(Debug, Clone, Default)]
pub struct BundleFilter<'a> {
    pub status: Option<&'a str>,
    pub friendly_name: Option<&'a str>,
    pub policy_sid: Option<&'a str>,
}

/// A bundle's review state, written whole (a transition sets every field).
#[derive(Debug, Clone)]
pub struct ReviewState<'a> {
    pub status: &'a str,
    pub valid_until: Option<i64>,
    pub errors: Option<&'a str>,
    pub review_due_at: Option<i64>,
}

/// The properties a client edits.
#[derive(Debug, Clone, Default)]
pub struct BundleEdit<'a> {
    pub friendly_name: Option<&'a str>,
    pub email: Option<&'a str>,
    pub status_callback: Option<&'a str>,
}

impl Store {
    /// One keyset page of the account's bundles of `kind`, filtered.
    pub async fn list_bundles(
        &self,
        account_sid: &str,
        kind: &str,
        filter: &BundleFilter<'_>,
        keyset: Keyset,
    ) -> StoreResult<Vec<BundleRow>> {
        let mut qb = BUNDLES.select_owned(account_sid);
        qb.push(" and kind = ").push_bind(kind);
        for (column, value) in [
            ("status", filter.status),
            ("friendly_name", filter.friendly_name),
            ("policy_sid", filter.policy_sid),
        ] {
            if let Some(value) = value {
                qb.push(" and ").push(column).push(" = ").push_bind(value);
            }
        }
        keyset.push(&mut qb, "seq");
        fetch_all(qb, self).await
    }

    pub async fn insert_bundle(&self, row: &BundleRow) -> StoreResult<BundleRow> {
        Ok(BUNDLES.insert(row).fetch_one::<BundleRow>(self).await?)
    }

    /// The SIDs of bundles whose simulated review is due at `now_ms`, soonest first.
    pub async fn due_reviews(&self, now_ms: i64, limit: i64) -> StoreResult<Vec<String>> {
        Ok(
            sql("select sid from trust_bundles where review_due_at <= $1 \
             order by review_due_at, seq limit $2")
            .bind(now_ms)
            .bind(limit)
            .fetch_all_scalar::<String>(self)
            .await?,
        )
    }

    /// When the next scheduled review step is due (epoch ms), if any.
    pub async fn next_review_due(&self) -> StoreResult<Option<i64>> {
        Ok(sql("select min(review_due_at) from trust_bundles")
            .fetch_scalar::<Option<i64>>(self)
            .await?)
    }

    /// A write transaction for a bundle change (see the module's comment).
    pub async fn trust_tx(&self) -> StoreResult<TrustTx> {
        Ok(TrustTx {
            tx: self.begin_write().await?,
        })
    }
}

/// One bundle change's transaction; dropped without `commit`, nothing of it is written.
pub struct TrustTx {
    pub(crate) tx: Tx,
}

impl TrustTx {
    pub async fn commit(self) -> StoreResult<()> {
        self.tx.commit().await
    }

    /// A bundle by SID, whatever its account (callers check the owner: an ISV's subaccount
    /// may hold its parent's primary profile).
    pub async fn bundle(&mut self, sid: &str) -> StoreResult<Option<BundleRow>> {
        fetch_optional(BUNDLES.select_where("sid", sid), &mut self.tx).await
    }

    /// [`TrustTx::bundle`], locked until the transaction ends: the bundle a change is about
    /// (on PostgreSQL `select … for update`, so two instances cannot both pass a status check;
    /// on SQLite the transaction already holds the write lock).
    pub async fn bundle_for_change(&mut self, sid: &str) -> StoreResult<Option<BundleRow>> {
        dialect::lock_parent(&mut self.tx, "trust_bundles", "sid", sid).await?;
        self.bundle(sid).await
    }

    pub async fn edit_bundle(
        &mut self,
        sid: &str,
        edit: &BundleEdit<'_>,
        now: i64,
    ) -> StoreResult<Option<BundleRow>> {
        let change = BUNDLES
            .assign()
            .keep_unless("friendly_name", edit.friendly_name)
            .keep_unless("email", edit.email)
            .keep_unless("status_callback", edit.status_callback)
            .set("date_updated", now);
        fetch_optional(BUNDLES.update_where(change, "sid", sid), &mut self.tx).await
    }

    pub async fn set_review_state(
        &mut self,
        sid: &str,
        state: &ReviewState<'_>,
        now: i64,
    ) -> StoreResult<Option<BundleRow>> {
        let change = BUNDLES
            .assign()
            .set("status", state.status)
            .set("valid_until", state.valid_until)
            .set("errors", state.errors)
            .set("review_due_at", state.review_due_at)
            .set("date_updated", now);
        fetch_optional(BUNDLES.update_where(change, "sid", sid), &mut self.tx).await
    }

    /// Deletes the bundle (its assignments and evaluations go by cascade).
    pub async fn delete_bundle(&mut self, sid: &str) -> StoreResult<bool> {
        let deleted = sql("delete from trust_bundles where sid = $1")
            .bind(sid)
            .execute(&mut self.tx)
            .await?;
        Ok(deleted > 0)
    }

    /// Sets the status of every supporting document assigned to the bundle.
    pub async fn set_assigned_documents_status(
        &mut self,
        bundle_sid: &str,
        status: &str,
        now: i64,
    ) -> StoreResult<()> {
        sql(
            "update supporting_documents set status = $1, date_updated = $2 where sid in \
             (select object_sid from trust_bundle_entities where bundle_sid = $3)",
        )
        .bind(status)
        .bind(now)
        .bind(bundle_sid)
        .execute(&mut self.tx)
        .await?;
        Ok(())
    }

    /// Queues status callbacks, sent after commit.
    pub async fn enqueue(&mut self, deliveries: &[NewDelivery], now_ms: i64) -> StoreResult<()> {
        enqueue(&mut self.tx.conn(), deliveries, now_ms).await
    }
}
