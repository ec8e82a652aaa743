//! Rows of the webhook tables: targets, the delivery queue and the attempt log.

use sqlx::FromRow;

use super::{
    Conn, Store, StoreResult,
    db::sql,
    query::{Columns, Table, fetch_all, row, sole_table},
};

row! {
    #[derive(Debug, Clone, PartialEq)]
    pub struct AccountWebhookRow {
        account_sid: String,
        method: String,
        filters: String,
        pre_webhook_url: Option<String>,
        post_webhook_url: Option<String>,
        target: String,
    }
}
sole_table!(AccountWebhookRow = "account_webhooks" by "account_sid");

row! {
    #[derive(Debug, Clone, PartialEq)]
    pub struct ServiceWebhookRow {
        service_sid: String,
        account_sid: String,
        method: String,
        filters: String,
        pre_webhook_url: Option<String>,
        post_webhook_url: Option<String>,
    }
}
sole_table!(ServiceWebhookRow = "service_webhooks" by "service_sid");

/// A request to send, queued with the change that fired it.
#[derive(Debug, Clone)]
pub struct NewDelivery {
    pub account_sid: String,
    pub event_type: String,
    pub url: String,
    pub method: String,
    pub params: String,
}

#[derive(Debug, Clone, FromRow)]
pub struct DeliveryRow {
    pub id: i64,
    pub account_sid: String,
    pub event_type: String,
    pub url: String,
    pub method: String,
    pub params: String,
    pub attempts: i64,
    /// When this attempt was due (Unix ms).
    pub next_attempt_at: i64,
}

row! {
    #[derive(Debug, Clone)]
    pub struct AttemptRow {
        id: i64,
        delivery_id: i64,
        attempted_at: i64,
        url: String,
        event_type: String,
        status_code: Option<i64>,
        latency_ms: i64,
        error: Option<String>,
    }
}

/// The attempt log, read by account (newest first, by `id`: see `recent_attempts`).
const ATTEMPTS: Table = Table::owned("webhook_attempts", AttemptRow::COLUMNS, "account_sid");

/// The outcome of one attempt.
pub struct Attempt<'a> {
    pub status_code: Option<i64>,
    pub latency_ms: i64,
    pub error: Option<&'a str>,
    /// `Some(at)` to try again at `at` (ms), `None` when final.
    pub retry_at: Option<i64>,
    pub delivered: bool,
}

/// Queues deliveries on an open transaction.
pub(crate) async fn enqueue(
    conn: &mut Conn<'_>,
    deliveries: &[NewDelivery],
    now_ms: i64,
) -> StoreResult<()> {
    for d in deliveries {
        sql(
            "insert into webhook_deliveries (account_sid, event_type, url, method, params, status, \
             next_attempt_at, created_at) values ($1, $2, $3, $4, $5, 'pending', $6, $7)",
        )
        .bind(&d.account_sid)
        .bind(&d.event_type)
        .bind(&d.url)
        .bind(&d.method)
        .bind(&d.params)
        .bind(now_ms)
        .bind(now_ms)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

impl Store {
    /// Claims deliveries to attempt now, until `lease_until_ms`: pending ones that are due and
    /// not claimed, at most `per_target` in flight per target (an account's URL) and
    /// `per_account` per account (counting the claims already held), and `limit` in all. Fair:
    /// every account's oldest due delivery comes before any account's second, and within that
    /// every target's before any target's second. One statement, so two claimers never take
    /// the same row.
    ///
    /// The seam for another backend: PostgreSQL would claim with `for update skip locked` on
    /// the candidate rows (window functions cannot be locked, so the ranking moves to a
    /// lateral join per target) and the same lease column.
    pub async fn claim_due_deliveries(
        &self,
        now_ms: i64,
        lease_until_ms: i64,
        per_target: i64,
        per_account: i64,
        limit: i64,
    ) -> StoreResult<Vec<DeliveryRow>> {
        let mut claimed = sql(
            "with ranked as ( \
                 select id, account_sid, next_attempt_at, \
                        coalesce(claimed_until > $1, false) as in_flight, \
                        row_number() over ( \
                            partition by account_sid, url \
                            order by case when claimed_until > $1 then 0 else 1 end, next_attempt_at, id \
                        ) as place \
                 from webhook_deliveries \
                 where status = 'pending' and (next_attempt_at <= $1 or claimed_until > $1) \
             ), \
             within_target as ( \
                 select id, next_attempt_at, in_flight, place, \
                        row_number() over ( \
                            partition by account_sid \
                            order by case when in_flight then 0 else 1 end, next_attempt_at, id \
                        ) as account_place \
                 from ranked where place <= $3 \
             ) \
             update webhook_deliveries set claimed_until = $2 \
             where id in ( \
                 select id from within_target where not in_flight and account_place <= $5 \
                 order by account_place, place, next_attempt_at, id limit $4 \
             ) and status = 'pending' and (claimed_until is null or claimed_until <= $1) \
             returning id, account_sid, event_type, url, method, params, attempts, next_attempt_at",
        )
        .bind(now_ms)
        .bind(lease_until_ms)
        .bind(per_target)
        .bind(limit)
        .bind(per_account)
        .fetch_all::<DeliveryRow>(self)
        .await?;
        claimed.sort_by_key(|d| (d.next_attempt_at, d.id));
        Ok(claimed)
    }

    /// Releases every claim. Only for SQLite, where one server owns the database: a claim
    /// found at start was left by a process that stopped mid-attempt, and its delivery should
    /// go out now, not when the lease runs out.
    pub async fn release_delivery_claims(&self) -> StoreResult<u64> {
        if self.backend() == super::Backend::Postgres {
            // Other instances' claims are live: a dead instance's expire with their lease.
            return Ok(0);
        }
        Ok(sql(
            "update webhook_deliveries set claimed_until = null where claimed_until is not null",
        )
        .execute(self)
        .await?)
    }

    /// When the next pending delivery that is not due yet becomes due, if any.
    pub async fn next_due_after(&self, now_ms: i64) -> StoreResult<Option<i64>> {
        Ok(sql("select min(next_attempt_at) from webhook_deliveries \
             where status = 'pending' and next_attempt_at > $1")
        .bind(now_ms)
        .fetch_scalar(self)
        .await?)
    }

    /// Logs an attempt and moves the delivery on, in one transaction.
    pub async fn record_attempt(
        &self,
        delivery: &DeliveryRow,
        now_ms: i64,
        attempt: &Attempt<'_>,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sql(
            "insert into webhook_attempts (delivery_id, account_sid, attempted_at, url, event_type, \
             status_code, latency_ms, error) values ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(delivery.id)
        .bind(&delivery.account_sid)
        .bind(now_ms)
        .bind(&delivery.url)
        .bind(&delivery.event_type)
        .bind(attempt.status_code)
        .bind(attempt.latency_ms)
        .bind(attempt.error)
        .execute(&mut tx)
        .await?;
        let status = match (attempt.delivered, attempt.retry_at) {
            (true, _) => "delivered",
            (false, Some(_)) => "pending",
            (false, None) => "failed",
        };
        sql(
            "update webhook_deliveries set status = $1, attempts = attempts + 1, \
             next_attempt_at = coalesce($2, next_attempt_at), claimed_until = null where id = $3",
        )
        .bind(status)
        .bind(attempt.retry_at)
        .bind(delivery.id)
        .execute(&mut tx)
        .await?;
        tx.commit().await
    }

    /// The account's most recent attempts, newest first.
    pub async fn recent_attempts(
        &self,
        account_sid: &str,
        limit: i64,
    ) -> StoreResult<Vec<AttemptRow>> {
        let mut qb = ATTEMPTS.select_owned(account_sid);
        qb.push(" order by id desc limit ").push_bind(limit);
        fetch_all(qb, self).await
    }

    /// Forgets finished deliveries (and their attempts) older than `before_ms`.
    pub async fn prune_deliveries(&self, before_ms: i64) -> StoreResult<u64> {
        Ok(
            sql("delete from webhook_deliveries where status != 'pending' and created_at < $1")
                .bind(before_ms)
                .execute(self)
                .await?,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn queue(store: &Store, account: &str, url: &str, n: usize) {
        let deliveries: Vec<NewDelivery> = (0..n)
            .map(|_| NewDelivery {
                account_sid: account.to_owned(),
                event_type: "onUserAdded".to_owned(),
                url: url.to_owned(),
                method: "POST".to_owned(),
                params: "[]".to_owned(),
            })
            .collect();
        let mut tx = store.begin_write().await.unwrap();
        enqueue(&mut tx.conn(), &deliveries, 0).await.unwrap();
        tx.commit().await.unwrap();
    }

    /// Issue 15 F3 and its review: one account with many black-holed targets holds at most its
    /// per-account places (here 6 of 100), each target at most its own (2), and another
    /// account's delivery is claimed in the same round — also while the first account's
    /// claims are still held.
    #[tokio::test]
    async fn claims_are_capped_per_target_and_per_account_and_fair_between_accounts() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_exclusive(&dir.path().join("db"), 0)
            .await
            .unwrap();
        for target in 0..10 {
            queue(&store, "ACa", &format!("http://hole/{target}"), 5).await;
        }
        queue(&store, "ACb", "http://b/", 1).await;
        let first = store
            .claim_due_deliveries(1, 60_000, 2, 6, 100)
            .await
            .unwrap();
        let of = |account: &str, claimed: &[DeliveryRow]| {
            claimed.iter().filter(|d| d.account_sid == account).count()
        };
        assert_eq!(of("ACa", &first), 6, "the per-account cap");
        assert_eq!(of("ACb", &first), 1, "the other account is not crowded out");
        let mut per_target = std::collections::HashMap::<&str, usize>::new();
        for d in &first {
            *per_target.entry(d.url.as_str()).or_default() += 1;
        }
        assert!(per_target.values().all(|n| *n <= 2), "{per_target:?}");
        // A's six are still in flight: nothing more of A, but B's next delivery goes.
        queue(&store, "ACb", "http://b/", 1).await;
        let second = store
            .claim_due_deliveries(2, 60_000, 2, 6, 100)
            .await
            .unwrap();
        assert_eq!(of("ACa", &second), 0);
        assert_eq!(of("ACb", &second), 1);
        store.close().await;
    }
}
