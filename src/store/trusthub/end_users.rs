//! Rows of `end_users` (TrustHub EndUsers, one account's each). Deleting one goes through
//! `Store::delete_unassigned` (an end user assigned to a bundle stays).

use crate::store::{
    Store, StoreResult,
    query::{Owned, owned_table, row},
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
owned_table!(END_USERS: EndUserRow = "end_users" by "account_sid");

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
            let row = row.clone();
            Box::pin(async move {
                Ok(END_USERS
                    .insert(&row)
                    .fetch_one::<EndUserRow>(&mut conn)
                    .await?)
            })
        })
        .await
    }

    /// Renames and/or re-attributes an owned object with a name and attributes (an end user, a
    /// supporting document); an absent value leaves its column as it is.
    pub async fn update_named<R: Owned>(
        &self,
        account_sid: &str,
        sid: &str,
        friendly_name: Option<&str>,
        attributes: Option<&str>,
        now: i64,
    ) -> StoreResult<Option<R>> {
        let change = R::TABLE
            .assign()
            .keep_unless("friendly_name", friendly_name)
            .keep_unless("attributes", attributes)
            .set("date_updated", now);
        R::TABLE.update(self, account_sid, sid, change).await
    }
}
