//! Rows of the webhook tables: targets, the delivery queue and the attempt log.

use sqlx::FromRow;

use super::{
    Conn, Store, StoreResult,
    db::sql,
    query::{Columns, Table, fetch_all, fetch_optional, row, sole_table},
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

#[derive(Debug, Clone, FromRow, serde::Deserialize)]
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
        response_body: Option<String>,
    }
}

/// The attempt log, read by account (newest first, by `id`: see `recent_attempts`).
const ATTEMPTS: Table = Table::owned("webhook_attempts", AttemptRow::COLUMNS, "account_sid");

row! {
    /// A delivery as the console's log shows it.
    #[derive(Debug, Clone)]
    pub struct DeliveryLogRow {
        id: i64,
        account_sid: String,
        event_type: String,
        url: String,
        method: String,
        params: String,
        status: String,
        attempts: i64,
        next_attempt_at: i64,
        created_at: i64,
        replay_of: Option<i64>,
    }
}

/// The delivery queue, read by account (newest first, by `id`).
const DELIVERIES: Table =
    Table::owned("webhook_deliveries", DeliveryLogRow::COLUMNS, "account_sid");

/// Which deliveries the log shows: each `Some` narrows it.
#[derive(Debug, Clone, Default)]
pub struct DeliveryFilter {
    /// `pending`, `delivered` or `failed`.
    pub status: Option<String>,
    pub event_type: Option<String>,
    /// A part of the URL (matched literally).
    pub url_contains: Option<String>,
    /// Only deliveries older than this one (the next page).
    pub before_id: Option<i64>,
    /// Only deliveries whose request parameters contain this text (a SID, matched
    /// literally): a message's status callbacks name its `MessageSid`.
    pub params_contain: Option<String>,
}

/// The outcome of one attempt.
pub struct Attempt<'a> {
    pub status_code: Option<i64>,
    pub latency_ms: i64,
    pub error: Option<&'a str>,
    /// The start of what the receiver answered (see `delivery::RESPONSE_KEPT`).
    pub response_body: Option<&'a str>,
    /// `Some(at)` to try again at `at` (ms), `None` when final.
    pub retry_at: Option<i64>,
    pub delivered: bool,
}

/// Queues deliveries on an open transaction, due now.
pub(crate) async fn enqueue(
    conn: &mut Conn<'_>,
    deliveries: &[NewDelivery],
    now_ms: i64,
) -> StoreResult<()> {
    for d in deliveries {
        insert_delivery(conn, d, now_ms, None, now_ms).await?;
    }
    Ok(())
}

/// Queues deliveries about one subject (a message's status callbacks), each due at its own
/// time, on an open transaction; `withdraw_pending` takes back those not yet sent.
pub(crate) async fn enqueue_due(
    conn: &mut Conn<'_>,
    subject_sid: &str,
    deliveries: &[(i64, NewDelivery)],
    now_ms: i64,
) -> StoreResult<()> {
    for (due_ms, d) in deliveries {
        insert_delivery(conn, d, *due_ms, Some(subject_sid), now_ms).await?;
    }
    Ok(())
}

async fn insert_delivery(
    conn: &mut Conn<'_>,
    d: &NewDelivery,
    due_ms: i64,
    subject_sid: Option<&str>,
    now_ms: i64,
) -> StoreResult<()> {
    sql(
        "insert into webhook_deliveries (account_sid, event_type, url, method, params, status, \
         next_attempt_at, created_at, subject_sid) values ($1, $2, $3, $4, $5, 'pending', $6, $7, $8)",
    )
    .bind(&d.account_sid)
    .bind(&d.event_type)
    .bind(&d.url)
    .bind(&d.method)
    .bind(&d.params)
    .bind(due_ms)
    .bind(now_ms)
    .bind(subject_sid)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Removes the subject's deliveries that are pending and not being attempted (a canceled
/// scheduled message's callbacks), on an open transaction.
pub(crate) async fn withdraw_pending(
    conn: &mut Conn<'_>,
    account_sid: &str,
    subject_sid: &str,
) -> StoreResult<u64> {
    let done = sql(
        "delete from webhook_deliveries where subject_sid = $1 and account_sid = $2 \
         and status = 'pending' and claimed_until is null",
    )
    .bind(subject_sid)
    .bind(account_sid)
    .execute(&mut *conn)
    .await?;
    Ok(done)
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
             update webhook_deliveries set claimed_until = $2, claimed_by = $6 \
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
        .bind(self.instance.as_ref())
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
            "update webhook_deliveries set claimed_until = null, claimed_by = null \
             where claimed_until is not null",
        )
        .execute(self)
        .await?)
    }

    /// Releases the claims this store's process holds (a server stopping: what it was sending
    /// goes out again at once, from another instance or after a restart).
    pub async fn release_own_claims(&self) -> StoreResult<u64> {
        Ok(sql(
            "update webhook_deliveries set claimed_until = null, claimed_by = null \
             where claimed_by = $1 and status = 'pending'",
        )
        .bind(self.instance.as_ref())
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
             status_code, latency_ms, error, response_body) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(delivery.id)
        .bind(&delivery.account_sid)
        .bind(now_ms)
        .bind(&delivery.url)
        .bind(&delivery.event_type)
        .bind(attempt.status_code)
        .bind(attempt.latency_ms)
        .bind(attempt.error)
        .bind(attempt.response_body)
        .execute(&mut tx)
        .await?;
        let status = match (attempt.delivered, attempt.retry_at) {
            (true, _) => "delivered",
            (false, Some(_)) => "pending",
            (false, None) => "failed",
        };
        sql(
            "update webhook_deliveries set status = $1, attempts = attempts + 1, \
             next_attempt_at = coalesce($2, next_attempt_at), claimed_until = null, claimed_by = null \
             where id = $3",
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

    /// The account's deliveries that pass `filter`, newest first, at most `limit`.
    pub async fn delivery_log(
        &self,
        account_sid: &str,
        filter: &DeliveryFilter,
        limit: i64,
    ) -> StoreResult<Vec<DeliveryLogRow>> {
        let mut qb = DELIVERIES.select_owned(account_sid);
        if let Some(status) = &filter.status {
            qb.push(" and status = ").push_bind(status.clone());
        }
        if let Some(event) = &filter.event_type {
            qb.push(" and event_type = ").push_bind(event.clone());
        }
        if let Some(part) = &filter.url_contains {
            qb.push(" and url like ")
                .push_bind(contains_pattern(part))
                .push(" escape '\\'");
        }
        if let Some(part) = &filter.params_contain {
            qb.push(" and params like ")
                .push_bind(contains_pattern(part))
                .push(" escape '\\'");
        }
        if let Some(before) = filter.before_id {
            qb.push(" and id < ").push_bind(before);
        }
        qb.push(" order by id desc limit ").push_bind(limit);
        fetch_all(qb, self).await
    }

    /// One of the account's deliveries.
    pub async fn delivery(
        &self,
        account_sid: &str,
        id: i64,
    ) -> StoreResult<Option<DeliveryLogRow>> {
        let mut qb = DELIVERIES.select_owned(account_sid);
        qb.push(" and id = ").push_bind(id);
        fetch_optional(qb, self).await
    }

    /// The attempts of one of the account's deliveries, oldest first.
    pub async fn delivery_attempts(
        &self,
        account_sid: &str,
        delivery_id: i64,
    ) -> StoreResult<Vec<AttemptRow>> {
        let mut qb = ATTEMPTS.select_owned(account_sid);
        qb.push(" and delivery_id = ").push_bind(delivery_id);
        qb.push(" order by id");
        fetch_all(qb, self).await
    }

    /// Queues a new delivery repeating one of the account's (same URL, method and parameters,
    /// due now; signed when sent, with the account's current token). The new delivery's id, or
    /// `None` when the account has no such delivery.
    pub async fn replay_delivery(
        &self,
        account_sid: &str,
        id: i64,
        now_ms: i64,
    ) -> StoreResult<Option<i64>> {
        Ok(sql(
            "insert into webhook_deliveries (account_sid, event_type, url, method, params, status, \
             next_attempt_at, created_at, replay_of) \
             select account_sid, event_type, url, method, params, 'pending', $3, $3, id \
             from webhook_deliveries where account_sid = $1 and id = $2 returning id",
        )
        .bind(account_sid)
        .bind(id)
        .bind(now_ms)
        .fetch_optional_scalar(self)
        .await?)
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

/// A `like` pattern (with `escape '\'`) matching any text that contains `part` literally.
fn contains_pattern(part: &str) -> String {
    let escaped = part
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
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
