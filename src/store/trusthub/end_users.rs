//! Rows of `end_users` (TrustHub EndUsers, one account's each).

use sqlx::FromRow;

use crate::store::{Store, StoreResult, query::owned_table};

#[derive(Debug, Clone, PartialEq, FromRow)]
pub struct EndUserRow {
    pub seq: i64,
    pub sid: String,
    pub account_sid: String,
    pub friendly_name: String,
    pub r#type: String,
    pub attributes: String,
    pub date_created: i64,
    pub date_updated: i64,
}

owned_table! {
    END_USERS: EndUserRow = "end_users" by "account_sid",
    "seq, sid, account_sid, friendly_name, type, attributes, date_created, date_updated",
    Deletable
}

impl Store {
    /// Inserts through the group-commit writer.
    pub async fn insert_end_user(
        &self,
        sid: &str,
        account_sid: &str,
        friendly_name: &str,
        kind: &str,
        attributes: &str,
        now: i64,
    ) -> StoreResult<EndUserRow> {
        let values: [String; 5] =
            [sid, account_sid, friendly_name, kind, attributes].map(str::to_owned);
        self.writer
            .write(move |conn| {
                Box::pin(async move {
                    let [sid, account_sid, friendly_name, kind, attributes] = &values;
                    Ok(sqlx::query_as::<_, EndUserRow>(
                        "insert into end_users (sid, account_sid, friendly_name, type, attributes, \
                         date_created, date_updated) values ($1, $2, $3, $4, $5, $6, $6) \
                         returning seq, sid, account_sid, friendly_name, type, attributes, \
                         date_created, date_updated",
                    )
                    .bind(sid)
                    .bind(account_sid)
                    .bind(friendly_name)
                    .bind(kind)
                    .bind(attributes)
                    .bind(now)
                    .fetch_one(&mut *conn)
                    .await?)
                })
            })
            .await
    }

    pub async fn update_end_user(
        &self,
        account_sid: &str,
        sid: &str,
        friendly_name: Option<&str>,
        attributes: Option<&str>,
        now: i64,
    ) -> StoreResult<Option<EndUserRow>> {
        let change = END_USERS
            .assign()
            .keep_unless("friendly_name", friendly_name)
            .keep_unless("attributes", attributes)
            .set("date_updated", now);
        END_USERS.update(&self.pool, account_sid, sid, change).await
    }
}
