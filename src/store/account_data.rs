//! Every table that holds an account's *data* — not its credentials (`accounts`, `api_keys`) —
//! declared once in [`ACCOUNT_DATA`]. The console's operator actions are built on this one list:
//! counting an account's rows (Overview), resetting an account (its rows deleted), and taking
//! and restoring a snapshot (its rows copied out as JSON, and back). **A new table that holds
//! account data is one line here**: `direct("table")` when it has an `account_sid` column,
//! `via("table", "parent_column", "parent_table")` when it reaches its account through a parent
//! row; placed before the tables it references (deletes run top to bottom, restores bottom to
//! top). `tests/api/console.rs` fails when a table with an `account_sid` column is missing here.

use serde_json::{Map, Value};

use super::{
    Arg, Conn, Sql, Store, StoreError, StoreResult,
    conversations::{NewService, insert_default_service},
    db::JsonRows,
    shared::bump_cache_epoch,
    sql,
};

/// One table of account data and how its rows name their account.
pub struct AccountTable {
    /// The table's name.
    pub name: &'static str,
    /// The product it belongs to, for the Overview's counts.
    pub product: &'static str,
    /// How a row names its account.
    owner: Owner,
}

enum Owner {
    /// The row has an `account_sid` column.
    Direct,
    /// The row's `column` names a row of `parent`, which has an `account_sid` (`sid` = `column`).
    Via {
        column: &'static str,
        parent: &'static str,
    },
}

impl AccountTable {
    const fn direct(product: &'static str, name: &'static str) -> Self {
        Self {
            name,
            product,
            owner: Owner::Direct,
        }
    }

    const fn via(
        product: &'static str,
        name: &'static str,
        column: &'static str,
        parent: &'static str,
    ) -> Self {
        Self {
            name,
            product,
            owner: Owner::Via { column, parent },
        }
    }

    /// `{statement} {table} where …` for the account's rows (names are this file's constants).
    fn rows_of(&self, statement: &'static str, account_sid: &str) -> Sql {
        let mut qb = Sql::new(statement);
        qb.push(" ").push(self.name);
        match self.owner {
            Owner::Direct => qb.push(" where account_sid = "),
            Owner::Via { column, parent } => qb
                .push(" where ")
                .push(column)
                .push(" in (select sid from ")
                .push(parent)
                .push(" where account_sid = "),
        };
        qb.push_bind(account_sid.to_owned());
        if matches!(self.owner, Owner::Via { .. }) {
            qb.push(")");
        }
        qb
    }
}

/// Every table of account data, children before the tables they reference. One line per table.
pub const ACCOUNT_DATA: &[AccountTable] = &[
    AccountTable::direct("Webhooks", "webhook_attempts"),
    AccountTable::direct("Webhooks", "webhook_deliveries"),
    AccountTable::direct("Webhooks", "service_webhooks"),
    AccountTable::direct("Webhooks", "account_webhooks"),
    AccountTable::direct("Conversations", "conversation_webhooks"),
    AccountTable::direct("Conversations", "conversation_message_receipts"),
    AccountTable::direct("Conversations", "conversation_messages"),
    AccountTable::direct("Conversations", "conversation_participants"),
    AccountTable::direct("Conversations", "conversations"),
    AccountTable::direct("Conversations", "conversation_configurations"),
    AccountTable::direct("Conversations", "conversation_users"),
    AccountTable::direct("Conversations", "conversation_roles"),
    AccountTable::direct("Conversations", "conversation_services"),
    AccountTable::via(
        "Studio",
        "studio_execution_steps",
        "execution_sid",
        "studio_executions",
    ),
    AccountTable::direct("Studio", "studio_executions"),
    AccountTable::via("Studio", "studio_contacts", "flow_sid", "flows"),
    AccountTable::direct("Emulator", "emulator_numbers"),
    AccountTable::via("Studio", "flow_test_users", "flow_sid", "flows"),
    AccountTable::via("Studio", "flow_revisions", "flow_sid", "flows"),
    AccountTable::direct("Studio", "flows"),
    AccountTable::direct("Messages", "message_media"),
    AccountTable::direct("Messages", "messages"),
    AccountTable::direct("TrustHub", "trust_bundle_evaluations"),
    AccountTable::direct("TrustHub", "trust_bundle_channel_endpoints"),
    AccountTable::direct("TrustHub", "trust_bundle_entities"),
    AccountTable::direct("TrustHub", "trust_bundles"),
    AccountTable::direct("TrustHub", "supporting_documents"),
    AccountTable::direct("TrustHub", "end_users"),
    AccountTable::direct("Emulator", "account_clocks"),
];

/// The version of the snapshot format below.
const SNAPSHOT_FORMAT: i64 = 1;

/// A stored snapshot, without its body.
#[derive(Debug, Clone, sqlx::FromRow, serde::Deserialize)]
pub struct SnapshotRow {
    pub id: i64,
    pub account_sid: String,
    pub name: String,
    pub rows: i64,
    pub created_at: i64,
}

/// Why a restore was refused.
#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    #[error("no such snapshot")]
    NotFound,
    #[error("the snapshot cannot be restored: {0}")]
    Unusable(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for RestoreError {
    fn from(e: sqlx::Error) -> Self {
        Self::Store(e.into())
    }
}

/// Deletes the account's rows, and tells every instance's service cache (the services go).
async fn delete_account_rows(conn: &mut Conn<'_>, account_sid: &str) -> StoreResult<()> {
    bump_cache_epoch(&mut *conn).await?;
    for table in ACCOUNT_DATA {
        table
            .rows_of("delete from", account_sid)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

impl Store {
    /// How many rows of each table of [`ACCOUNT_DATA`] the account has, in its order.
    pub async fn account_counts(
        &self,
        account_sid: &str,
    ) -> StoreResult<Vec<(&'static AccountTable, i64)>> {
        let mut out = Vec::with_capacity(ACCOUNT_DATA.len());
        for table in ACCOUNT_DATA {
            let n: i64 = table
                .rows_of("select count(*) from", account_sid)
                .fetch_scalar(self)
                .await?;
            out.push((table, n));
        }
        Ok(out)
    }

    /// Deletes every row of the account's data and gives it a fresh default Conversations
    /// service, in one transaction; its credentials (account row, keys) and snapshots stay.
    pub async fn reset_account(
        &self,
        account_sid: &str,
        default_service: &NewService,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        delete_account_rows(&mut tx.conn(), account_sid).await?;
        insert_default_service(&mut tx.conn(), default_service).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Copies every row of the account's data into a stored snapshot named `name`, read from
    /// one snapshot of the database (so the copy is consistent), and returns it.
    pub async fn take_snapshot(
        &self,
        account_sid: &str,
        name: &str,
        now: i64,
    ) -> StoreResult<SnapshotRow> {
        let mut read = self.begin_read().await?;
        let mut tables = Map::new();
        let mut count = 0i64;
        for table in ACCOUNT_DATA {
            let JsonRows {
                columns,
                types,
                rows,
            } = table
                .rows_of("select * from", account_sid)
                .fetch_all_json(&mut read)
                .await?;
            if rows.is_empty() {
                continue;
            }
            count += rows.len() as i64;
            tables.insert(
                table.name.to_owned(),
                serde_json::json!({"columns": columns, "types": types, "rows": rows}),
            );
        }
        read.commit().await?;
        let body = serde_json::json!({"format": SNAPSHOT_FORMAT, "tables": tables}).to_string();
        Ok(sql(
            "insert into console_snapshots (account_sid, name, body, row_count, created_at) \
             values ($1, $2, $3, $4, $5) \
             returning id, account_sid, name, row_count as rows, created_at",
        )
        .bind(account_sid)
        .bind(name)
        .bind(body)
        .bind(count)
        .bind(now)
        .fetch_one::<SnapshotRow>(self)
        .await?)
    }

    /// The account's snapshots, newest first.
    pub async fn snapshots(&self, account_sid: &str) -> StoreResult<Vec<SnapshotRow>> {
        Ok(sql(
            "select id, account_sid, name, row_count as rows, created_at from console_snapshots \
             where account_sid = $1 order by id desc",
        )
        .bind(account_sid)
        .fetch_all::<SnapshotRow>(self)
        .await?)
    }

    /// The stored JSON of one of the account's snapshots.
    pub async fn snapshot_body(&self, account_sid: &str, id: i64) -> StoreResult<Option<String>> {
        select_body(self, account_sid, id).await
    }

    /// Makes the account's data exactly what snapshot `id` holds: every row deleted, then the
    /// snapshot's rows inserted (parents first), in one transaction — a snapshot that does not
    /// fit the tables changes nothing.
    pub async fn restore_snapshot(&self, account_sid: &str, id: i64) -> Result<(), RestoreError> {
        let mut tx = self.begin_write().await?;
        let body = select_body(&mut tx, account_sid, id)
            .await?
            .ok_or(RestoreError::NotFound)?;
        let snapshot: Value = serde_json::from_str(&body)
            .map_err(|e| RestoreError::Unusable(format!("not JSON: {e}")))?;
        let tables = snapshot
            .get("tables")
            .and_then(Value::as_object)
            .ok_or_else(|| RestoreError::Unusable("no tables".to_owned()))?;
        if let Some(unknown) = tables
            .keys()
            .find(|name| !ACCOUNT_DATA.iter().any(|t| t.name == name.as_str()))
        {
            return Err(RestoreError::Unusable(format!("unknown table {unknown}")));
        }
        delete_account_rows(&mut tx.conn(), account_sid).await?;
        for table in ACCOUNT_DATA.iter().rev() {
            let Some(content) = tables.get(table.name) else {
                continue;
            };
            insert_rows(&mut tx.conn(), table.name, content).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

/// One of the account's snapshots' JSON.
async fn select_body<'c>(
    db: impl Into<super::On<'c>>,
    account_sid: &str,
    id: i64,
) -> StoreResult<Option<String>> {
    Ok(
        sql("select body from console_snapshots where account_sid = $1 and id = $2")
            .bind(account_sid)
            .bind(id)
            .fetch_optional_scalar(db)
            .await?,
    )
}

/// A NULL of the column's declared type (PostgreSQL does not cast an untyped text NULL).
fn null_of(declared: &str) -> Arg {
    match declared {
        "INTEGER" | "BIGINT" | "INT8" | "INT4" | "INT2" | "INT" => Arg::Int(None),
        "BOOL" | "BOOLEAN" => Arg::Bool(None),
        "BLOB" | "BYTEA" => Arg::Bytes(None),
        _ => Arg::Text(None),
    }
}

/// Inserts a snapshot's `{"columns", "types", "rows"}` for `table`.
async fn insert_rows(
    conn: &mut Conn<'_>,
    table: &str,
    content: &Value,
) -> Result<(), RestoreError> {
    let unusable = |what: &str| RestoreError::Unusable(format!("{table}: {what}"));
    let strings = |key: &str| -> Result<Vec<&str>, RestoreError> {
        content
            .get(key)
            .and_then(Value::as_array)
            .ok_or_else(|| unusable(&format!("no {key}")))?
            .iter()
            .map(|c| {
                c.as_str()
                    .ok_or_else(|| unusable(&format!("{key} holds a non-string")))
            })
            .collect()
    };
    let columns = strings("columns")?;
    let types = strings("types")?;
    if types.len() != columns.len() {
        return Err(unusable("columns and types differ in number"));
    }
    // Column names go into the statement: only plain identifiers.
    if let Some(bad) = columns
        .iter()
        .find(|c| c.is_empty() || !c.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '_'))
    {
        return Err(unusable(&format!("bad column name {bad:?}")));
    }
    let rows = content
        .get("rows")
        .and_then(Value::as_array)
        .ok_or_else(|| unusable("no rows"))?;
    for row in rows {
        let values = row
            .as_array()
            .filter(|v| v.len() == columns.len())
            .ok_or_else(|| unusable("a row does not match its columns"))?;
        let mut qb = Sql::new("insert into ");
        qb.push(table)
            .push(" (")
            .push(columns.join(", "))
            .push(") values (");
        let mut list = qb.separated(", ");
        for (value, declared) in values.iter().zip(&types) {
            let arg = match value {
                Value::Null => null_of(declared),
                Value::Bool(b) => Arg::from(*b),
                Value::Number(n) => Arg::from(
                    n.as_i64()
                        .ok_or_else(|| unusable("a number that is no integer"))?,
                ),
                Value::String(s) => Arg::from(s.clone()),
                Value::Object(o) => Arg::from(
                    o.get("hex")
                        .and_then(Value::as_str)
                        .and_then(|h| hex::decode(h).ok())
                        .ok_or_else(|| unusable("a blob is not {\"hex\": …}"))?,
                ),
                Value::Array(_) => return Err(unusable("an array as a value")),
            };
            list.push_bind(arg);
        }
        qb.push(")");
        qb.execute(&mut *conn)
            .await
            .map_err(|e| unusable(&e.to_string()))?;
    }
    Ok(())
}
