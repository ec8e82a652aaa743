//! `emulator_numbers`: the account's numbers attached to a Studio flow (an inbound message to
//! one that nothing else takes starts an execution). One flow per number and account: the
//! unique index decides, an attach replaces the flow.

use crate::store::{
    Store, StoreResult,
    db::sql,
    query::{fetch_all, fetch_optional, row},
};

row! {
    #[derive(Debug, Clone)]
    pub struct NumberRow {
        seq: i64,
        account_sid: String,
        phone_number: String,
        flow_sid: String,
        date_created: i64,
        date_updated: i64,
    }
}

const SELECT: &str = "select seq, account_sid, phone_number, flow_sid, date_created, \
                      date_updated from emulator_numbers";

impl Store {
    /// Attaches `phone_number` to `flow_sid` (the account's flow, checked in the same write);
    /// `None` when the flow is not the account's.
    pub async fn attach_number(
        &self,
        account_sid: &str,
        phone_number: &str,
        flow_sid: &str,
        now: i64,
    ) -> StoreResult<Option<NumberRow>> {
        let (account_sid, phone_number, flow_sid) = (
            account_sid.to_owned(),
            phone_number.to_owned(),
            flow_sid.to_owned(),
        );
        self.write(move |mut conn| {
            let (account_sid, phone_number, flow_sid) =
                (account_sid.clone(), phone_number.clone(), flow_sid.clone());
            Box::pin(async move {
                let owned = sql("select 1 from flows where sid = $1 and account_sid = $2")
                    .bind(&flow_sid)
                    .bind(&account_sid)
                    .exists(&mut conn)
                    .await?;
                if !owned {
                    return Ok(None);
                }
                let mut qb = crate::store::Sql::new(
                    "insert into emulator_numbers (account_sid, phone_number, flow_sid, \
                     date_created, date_updated) values (",
                );
                qb.push_bind(account_sid)
                    .push(", ")
                    .push_bind(phone_number)
                    .push(", ")
                    .push_bind(flow_sid)
                    .push(", ")
                    .push_bind(now)
                    .push(", ")
                    .push_bind(now)
                    .push(
                        ") on conflict (account_sid, phone_number) do update set \
                         flow_sid = excluded.flow_sid, date_updated = excluded.date_updated \
                         returning seq, account_sid, phone_number, flow_sid, date_created, \
                         date_updated",
                    );
                Ok(Some(qb.fetch_one::<NumberRow>(&mut conn).await?))
            })
        })
        .await
    }

    /// The account's number, if attached.
    pub async fn fetch_number(
        &self,
        account_sid: &str,
        phone_number: &str,
    ) -> StoreResult<Option<NumberRow>> {
        let mut qb = crate::store::Sql::new(SELECT);
        qb.push(" where account_sid = ")
            .push_bind(account_sid.to_owned())
            .push(" and phone_number = ")
            .push_bind(phone_number.to_owned());
        fetch_optional(qb, self).await
    }

    /// Every number the account attached, in the order they were first attached.
    pub async fn list_numbers(&self, account_sid: &str) -> StoreResult<Vec<NumberRow>> {
        let mut qb = crate::store::Sql::new(SELECT);
        qb.push(" where account_sid = ")
            .push_bind(account_sid.to_owned())
            .push(" order by seq");
        fetch_all(qb, self).await
    }

    /// Detaches the account's number; `false` when it was not attached.
    pub async fn detach_number(&self, account_sid: &str, phone_number: &str) -> StoreResult<bool> {
        let (account_sid, phone_number) = (account_sid.to_owned(), phone_number.to_owned());
        self.write(move |mut conn| {
            let (account_sid, phone_number) = (account_sid.clone(), phone_number.clone());
            Box::pin(async move {
                Ok(
                    sql(
                        "delete from emulator_numbers where account_sid = $1 and phone_number = $2",
                    )
                    .bind(&account_sid)
                    .bind(&phone_number)
                    .execute(&mut conn)
                    .await?
                        > 0,
                )
            })
        })
        .await
    }
}
