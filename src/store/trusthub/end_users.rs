//! Rows of `end_users` (TrustHub EndUsers, one account's each).

use sqlx::{FromRow, QueryBuilder, Sqlite};

use crate::store::{Keyset, Store, StoreResult};

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

const END_USER_COLUMNS: &str =
    "seq, sid, account_sid, friendly_name, type, attributes, date_created, date_updated";

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

    pub async fn fetch_end_user(
        &self,
        account_sid: &str,
        sid: &str,
    ) -> StoreResult<Option<EndUserRow>> {
        let mut qb = QueryBuilder::<Sqlite>::new("select ");
        qb.push(END_USER_COLUMNS)
            .push(" from end_users where account_sid = ")
            .push_bind(account_sid)
            .push(" and sid = ")
            .push_bind(sid);
        Ok(qb
            .build_query_as::<EndUserRow>()
            .fetch_optional(&self.pool)
            .await?)
    }

    pub async fn list_end_users(
        &self,
        account_sid: &str,
        keyset: Keyset,
    ) -> StoreResult<Vec<EndUserRow>> {
        self.page_of(
            END_USER_COLUMNS,
            " from end_users where account_sid = ",
            account_sid,
            "seq",
            keyset,
        )
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
        let mut qb = QueryBuilder::<Sqlite>::new("update end_users set friendly_name = coalesce(");
        qb.push_bind(friendly_name)
            .push(", friendly_name), attributes = coalesce(")
            .push_bind(attributes)
            .push(", attributes), date_updated = ")
            .push_bind(now)
            .push(" where account_sid = ")
            .push_bind(account_sid)
            .push(" and sid = ")
            .push_bind(sid)
            .push(" returning ")
            .push(END_USER_COLUMNS);
        Ok(qb
            .build_query_as::<EndUserRow>()
            .fetch_optional(&self.pool)
            .await?)
    }

    pub async fn delete_end_user(&self, account_sid: &str, sid: &str) -> StoreResult<bool> {
        let done = sqlx::query("delete from end_users where account_sid = $1 and sid = $2")
            .bind(account_sid)
            .bind(sid)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }
}
