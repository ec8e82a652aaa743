//! Rows of `end_users` (TrustHub EndUsers, one account's each).

use crate::store::{
    Store, StoreResult,
    query::{owned_table, row},
};

row! {
    #[derive(Debug, Clone, PartialEq)]
    pub struct EndUserRow {
        seq: i64,
        sid: String,
        account_sid: String,
        friendly_name: String,
        r#type: String,
        attributes: String,
        date_created: i64,
        date_updated: i64,
    }
}
owned_table!(END_USERS: EndUserRow = "end_users" by "account_sid", Deletable);

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
        let row = EndUserRow {
            seq: 0,
            sid: sid.to_owned(),
            account_sid: account_sid.to_owned(),
            friendly_name: friendly_name.to_owned(),
            r#type: kind.to_owned(),
            attributes: attributes.to_owned(),
            date_created: now,
            date_updated: now,
        };
        self.write(move |mut conn| {
            Box::pin(async move {
                Ok(END_USERS
                    .insert(&row)
                    .fetch_one::<EndUserRow>(&mut conn)
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
        END_USERS.update(self, account_sid, sid, change).await
    }
}
