//! `account_clocks`: how far each account's clock runs ahead of the machine's (seconds).

use crate::store::{Store, StoreResult, db::sql};

impl Store {
    /// The account's clock offset in seconds (0 when it was never advanced).
    pub async fn clock_offset(&self, account_sid: &str) -> StoreResult<i64> {
        Ok(
            sql("select offset_secs from account_clocks where account_sid = $1")
                .bind(account_sid)
                .fetch_optional_scalar::<i64>(self)
                .await?
                .unwrap_or(0),
        )
    }

    /// Moves the account's clock `secs` further ahead (one upsert, so concurrent advances add
    /// up); returns the new offset.
    pub async fn advance_clock(&self, account_sid: &str, secs: i64, now: i64) -> StoreResult<i64> {
        let account_sid = account_sid.to_owned();
        self.write(move |mut conn| {
            let account_sid = account_sid.clone();
            Box::pin(async move {
                Ok(sql(
                    "insert into account_clocks (account_sid, offset_secs, date_updated) \
                     values ($1, $2, $3) on conflict (account_sid) do update set \
                     offset_secs = account_clocks.offset_secs + excluded.offset_secs, \
                     date_updated = excluded.date_updated returning offset_secs",
                )
                .bind(&account_sid)
                .bind(secs)
                .bind(now)
                .fetch_scalar::<i64>(&mut conn)
                .await?)
            })
        })
        .await
    }
}
