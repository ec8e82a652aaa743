//! The two backends behind one store (issue 16): SQLite (embedded, the default) and PostgreSQL
//! (several instances on one database). Every statement is written **once**, as a [`Sql`]: its
//! text uses `$1…$n` placeholders (both drivers bind them by number), its values are [`Arg`]s,
//! and it runs on whatever [`On`] names — the store's pool, an open transaction ([`Tx`]) or a
//! connection handed to a write ([`Conn`]). Inside, each run is one `match` with an arm per
//! backend (the [`run!`] macro), so each statement is type-checked against both native drivers;
//! rows decode through `#[derive(FromRow, serde::Deserialize)]`, which is generic over the backend.
//!
//! Rejected: `sqlx::Any` (no backend-specific connect options, `?` placeholders in its builder,
//! few types), a trait with two implementations of every query, a generic `Store<DB>` (walls of
//! higher-ranked bounds). See README "PostgreSQL".

use std::fmt::Display;

use serde::de::DeserializeOwned;
use sqlx::{
    Arguments, AssertSqlSafe, Database, Decode, Encode, FromRow, PgConnection, PgPool, Postgres,
    Sqlite, SqliteConnection, SqlitePool, Type, postgres::PgRow, sqlite::SqliteRow,
};

pub use super::arg::Arg;
use super::{
    Store, StoreResult,
    direct::{Columns, Direct, Readers},
    writer::Writer,
};

/// The database a store runs on, with what only that backend has.
pub(crate) enum Db {
    Sqlite {
        pool: SqlitePool,
        /// The group-commit writer for the hot write paths (see `writer`): SQLite only.
        writer: Writer,
        /// How connections are opened (bulk loading opens one of its own).
        options: sqlx::sqlite::SqliteConnectOptions,
        /// Plain reads run here, on the request's thread, when a reader is free (`direct`).
        readers: Readers,
    },
    Postgres {
        pool: PgPool,
        /// The group-commit writer for the hot write paths (see `pg_writer`).
        writer: super::pg_writer::PgWriter,
        /// How connections are opened (bulk loading opens one of its own).
        options: sqlx::postgres::PgConnectOptions,
    },
}

/// Which backend a store runs on (for the few places that differ: `store::dialect`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Db {
    pub(crate) fn backend(&self) -> Backend {
        match self {
            Db::Sqlite { .. } => Backend::Sqlite,
            Db::Postgres { .. } => Backend::Postgres,
        }
    }
}

/// The arguments of one statement for backend `DB`.
fn arguments<DB: Database>(args: Vec<Arg>) -> Result<DB::Arguments, sqlx::Error>
where
    for<'t> Option<String>: Encode<'t, DB> + Type<DB>,
    for<'t> Option<i64>: Encode<'t, DB> + Type<DB>,
    for<'t> Option<bool>: Encode<'t, DB> + Type<DB>,
    for<'t> Option<Vec<u8>>: Encode<'t, DB> + Type<DB>,
{
    let mut out = DB::Arguments::default();
    for arg in args {
        match arg {
            Arg::Text(v) => out.add(v),
            Arg::Int(v) => out.add(v),
            Arg::Bool(v) => out.add(v),
            Arg::Bytes(v) => out.add(v),
        }
        .map_err(sqlx::Error::Encode)?;
    }
    Ok(out)
}

/// A row type read whole by a statement: decodable from both backends' rows (what
/// `#[derive(sqlx::FromRow, serde::Deserialize)]` gives), and from the group-commit writer's (`direct`: serde,
/// fields by column name, what `#[derive(serde::Deserialize)]` beside it gives).
pub trait Row:
    for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + DeserializeOwned + Send + Unpin
{
}
impl<T> Row for T where
    T: for<'r> FromRow<'r, SqliteRow>
        + for<'r> FromRow<'r, PgRow>
        + DeserializeOwned
        + Send
        + Unpin
{
}

/// A single-column value (`count(*)`, a SID) decodable from both backends.
pub trait Scalar:
    for<'r> Decode<'r, Sqlite>
    + Type<Sqlite>
    + for<'r> Decode<'r, Postgres>
    + Type<Postgres>
    + DeserializeOwned
    + Send
    + Unpin
{
}
impl<T> Scalar for T where
    T: for<'r> Decode<'r, Sqlite>
        + Type<Sqlite>
        + for<'r> Decode<'r, Postgres>
        + Type<Postgres>
        + DeserializeOwned
        + Send
        + Unpin
{
}

/// Where a statement runs: a pool (one connection for the statement) or a connection inside a
/// transaction. Made from `&Store`, `&mut Tx` or `&mut Conn`.
pub enum On<'a> {
    SqlitePool(&'a SqlitePool),
    PgPool(&'a PgPool),
    Sqlite(&'a mut SqliteConnection),
    Postgres(&'a mut PgConnection),
    /// A connection inside a PostgreSQL group-commit batch (`pg_writer`): a statement that
    /// fails sets the flag, because PostgreSQL then aborts the whole transaction even when the
    /// write handles the error and goes on (see [`Conn::PgBatch`]).
    PgBatch(&'a mut PgConnection, &'a mut bool),
    /// The SQLite group-commit writer's connection, stepped on its own thread (`direct`).
    SqliteDirect(&'a mut Direct),
    /// The store's SQLite pool, with the readers that take its plain reads when free.
    SqliteRead(&'a SqlitePool, &'a Readers),
}

impl On<'_> {
    /// True where SQLite's statements are stepped on the calling thread (`store::direct`):
    /// the writer's connection, or a read that a direct reader may take.
    pub fn steps_directly(&self) -> bool {
        matches!(self, On::SqliteDirect(_) | On::SqliteRead(..))
    }

    pub fn backend(&self) -> Backend {
        match self {
            On::SqlitePool(_) | On::Sqlite(_) | On::SqliteDirect(_) | On::SqliteRead(..) => {
                Backend::Sqlite
            }
            On::PgPool(_) | On::Postgres(_) | On::PgBatch(..) => Backend::Postgres,
        }
    }
}

impl<'a> From<&'a Store> for On<'a> {
    fn from(store: &'a Store) -> Self {
        match &*store.db {
            Db::Sqlite { pool, readers, .. } => On::SqliteRead(pool, readers),
            Db::Postgres { pool, .. } => On::PgPool(pool),
        }
    }
}

impl<'a> From<&'a mut Conn<'_>> for On<'a> {
    fn from(conn: &'a mut Conn<'_>) -> Self {
        match conn {
            Conn::Sqlite(c) => On::Sqlite(c),
            Conn::Postgres(c) => On::Postgres(c),
            Conn::PgBatch(c, failed) => On::PgBatch(c, failed),
            Conn::SqliteDirect(c) => On::SqliteDirect(c),
        }
    }
}

impl<'a> From<&'a mut Tx> for On<'a> {
    fn from(tx: &'a mut Tx) -> Self {
        match tx {
            Tx::Sqlite(t) => On::Sqlite(t),
            Tx::Postgres(t) => On::Postgres(t),
        }
    }
}

/// One `match` arm per target, `$e` the native executor and `$db` its backend type: the body
/// is compiled once per backend.
macro_rules! run {
    ($on:expr, $e:ident, $db:ident => $body:expr) => {
        match $on {
            On::SqlitePool($e) => {
                type $db = Sqlite;
                $body
            }
            On::PgPool($e) => {
                type $db = Postgres;
                $body
            }
            On::Sqlite($e) => {
                type $db = Sqlite;
                $body
            }
            On::Postgres($e) => {
                type $db = Postgres;
                $body
            }
            On::PgBatch($e, failed) => {
                type $db = Postgres;
                let result = async { $body }.await;
                if result.is_err() {
                    *failed = true;
                }
                result
            }
            On::SqliteRead($e, _) => {
                type $db = Sqlite;
                $body
            }
            // Taken by each method before it gets here (`try_direct`).
            On::SqliteDirect(_) => Err(sqlx::Error::Protocol(
                "the writer's connection runs statements itself".into(),
            )),
        }
    };
}

/// A connection a write runs on: inside the group-commit writer's batch (SQLite) or inside the
/// write's own transaction (PostgreSQL). Helpers that run several statements take `&mut Conn`.
pub enum Conn<'c> {
    Sqlite(&'c mut SqliteConnection),
    /// Inside the SQLite group-commit batch (`writer`, `direct`).
    SqliteDirect(&'c mut Direct),
    Postgres(&'c mut PgConnection),
    /// Inside a PostgreSQL group-commit batch (`pg_writer`), with the flag a failed statement
    /// sets: a write that handles a statement's error (a foreign key it reports as "orphaned")
    /// still leaves PostgreSQL's transaction aborted, which the batch must know to undo only
    /// that write (unlike SQLite, PostgreSQL has no statement-level rollback).
    PgBatch(&'c mut PgConnection, &'c mut bool),
}

impl Conn<'_> {
    pub fn backend(&self) -> Backend {
        match self {
            Conn::Sqlite(_) | Conn::SqliteDirect(_) => Backend::Sqlite,
            Conn::Postgres(_) | Conn::PgBatch(..) => Backend::Postgres,
        }
    }
}

/// An open transaction; dropped without `commit`, it rolls back.
pub enum Tx {
    Sqlite(sqlx::Transaction<'static, Sqlite>),
    Postgres(sqlx::Transaction<'static, Postgres>),
}

impl Tx {
    /// The transaction's connection, for helpers that take `&mut Conn`.
    pub fn conn(&mut self) -> Conn<'_> {
        match self {
            Tx::Sqlite(t) => Conn::Sqlite(t),
            Tx::Postgres(t) => Conn::Postgres(t),
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            Tx::Sqlite(_) => Backend::Sqlite,
            Tx::Postgres(_) => Backend::Postgres,
        }
    }

    /// Commits. On PostgreSQL the COMMIT runs on a task of its own: dropped between sending it
    /// and reading its answer (a request abandoned by its client), sqlx's commit would count
    /// the transaction as still open and send a ROLLBACK for it on the connection's next use
    /// ("there is no transaction in progress"); on a task it completes, answered or not.
    pub async fn commit(self) -> StoreResult<()> {
        match self {
            Tx::Sqlite(t) => t.commit().await?,
            Tx::Postgres(t) => tokio::spawn(t.commit())
                .await
                .map_err(|_| sqlx::Error::WorkerCrashed)??,
        }
        Ok(())
    }
}

/// One SQL statement: its text (`$1…$n` placeholders) and the values bound to them. Built from
/// static text with [`sql`] and [`Sql::bind`], or piece by piece with `push`/`push_bind`
/// (which writes the next `$n`).
#[derive(Debug, Clone, Default)]
pub struct Sql {
    text: String,
    args: Vec<Arg>,
    /// `push_bind` writes `?` instead of `$n` (see [`Sql::anonymous_placeholders`]).
    anonymous: bool,
}

/// A statement from static text: `sql("select … where sid = $1").bind(sid)`.
pub fn sql(text: &'static str) -> Sql {
    Sql::new(text)
}

impl Sql {
    pub fn new(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            args: Vec::new(),
            anonymous: false,
        }
    }

    /// From here on `push_bind` writes anonymous `?` placeholders, bound in order. Only for
    /// SQLite's bulk loads (`store::bulk`, chosen in `dialect::bulk_placeholders`): sqlx-sqlite
    /// binds a `$n` by asking SQLite its name, which SQLite finds by walking the statement's
    /// parameter list, so binding a statement of n `$n` costs n²; an anonymous `?` has no name
    /// and binds in one step.
    pub(crate) fn anonymous_placeholders(mut self) -> Self {
        self.anonymous = true;
        self
    }

    /// Binds the next placeholder of static text (`$1`, then `$2`, …).
    pub fn bind(mut self, value: impl Into<Arg>) -> Self {
        self.args.push(value.into());
        self
    }

    /// Appends SQL text (never a value: values go through `push_bind`).
    pub fn push(&mut self, text: impl Display) -> &mut Self {
        use std::fmt::Write;
        let _ = write!(self.text, "{text}");
        self
    }

    /// Appends the next placeholder (`$n`) and binds `value` to it.
    pub fn push_bind(&mut self, value: impl Into<Arg>) -> &mut Self {
        self.args.push(value.into());
        if self.anonymous {
            return self.push("?");
        }
        let n = self.args.len();
        self.push(format_args!("${n}"))
    }

    /// A list whose items are separated by `separator`.
    pub fn separated(&mut self, separator: &'static str) -> Separated<'_> {
        Separated {
            sql: self,
            separator,
            first: true,
        }
    }

    /// ` values (…), (…)`: one parenthesised tuple per row, `push_row` binding its values.
    pub fn push_values<T>(
        &mut self,
        rows: impl IntoIterator<Item = T>,
        mut push_row: impl FnMut(Separated<'_>, T),
    ) -> &mut Self {
        self.push("values ");
        for (i, row) in rows.into_iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.push("(");
            push_row(self.separated(", "), row);
            self.push(")");
        }
        self
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// This statement inside another: `{before}{this}{after}`, its values bound as they were
    /// (the placeholders keep their numbers; `after` binds nothing).
    pub fn wrapped(self, before: &str, after: &str) -> Sql {
        Sql {
            text: format!("{before}{}{after}", self.text),
            ..self
        }
    }

    /// Runs the statement; the number of rows it changed.
    pub async fn execute<'a>(self, on: impl Into<On<'a>>) -> Result<u64, sqlx::Error> {
        let Sql { text, args, .. } = self;
        let on = match on.into() {
            On::SqliteDirect(d) => return d.run(&text, &args, |_| Ok(true)),
            On::SqliteRead(pool, readers) => match readers.read(&text, &args, |_| Ok(true)) {
                Some(ran) => return ran,
                None => On::SqlitePool(pool),
            },
            on => on,
        };
        run!(on, e, DB => Ok(sqlx::query_with(AssertSqlSafe(text), arguments::<DB>(args)?)
            .execute(e)
            .await?
            .rows_affected()))
    }

    pub async fn fetch_one<'a, R: Row>(self, on: impl Into<On<'a>>) -> Result<R, sqlx::Error> {
        let Sql { text, args, .. } = self;
        let on = match try_direct(on.into(), &text, &args, Some(1), |c| c.row()) {
            Ok(rows) => return rows?.pop().ok_or(sqlx::Error::RowNotFound),
            Err(on) => on,
        };
        run!(on, e, DB => sqlx::query_as_with::<DB, R, _>(AssertSqlSafe(text), arguments::<DB>(args)?)
            .fetch_one(e)
            .await)
    }

    pub async fn fetch_optional<'a, R: Row>(
        self,
        on: impl Into<On<'a>>,
    ) -> Result<Option<R>, sqlx::Error> {
        let Sql { text, args, .. } = self;
        let on = match try_direct(on.into(), &text, &args, Some(1), |c| c.row()) {
            Ok(rows) => return Ok(rows?.pop()),
            Err(on) => on,
        };
        run!(on, e, DB => sqlx::query_as_with::<DB, R, _>(AssertSqlSafe(text), arguments::<DB>(args)?)
            .fetch_optional(e)
            .await)
    }

    pub async fn fetch_all<'a, R: Row>(self, on: impl Into<On<'a>>) -> Result<Vec<R>, sqlx::Error> {
        let Sql { text, args, .. } = self;
        let on = match try_direct(on.into(), &text, &args, None, |c| c.row()) {
            Ok(rows) => return rows,
            Err(on) => on,
        };
        run!(on, e, DB => sqlx::query_as_with::<DB, R, _>(AssertSqlSafe(text), arguments::<DB>(args)?)
            .fetch_all(e)
            .await)
    }

    /// The first column of the one row (`count(*)`).
    pub async fn fetch_scalar<'a, T: Scalar>(
        self,
        on: impl Into<On<'a>>,
    ) -> Result<T, sqlx::Error> {
        let Sql { text, args, .. } = self;
        let on = match try_direct(on.into(), &text, &args, Some(1), |c| c.first()) {
            Ok(rows) => return rows?.pop().ok_or(sqlx::Error::RowNotFound),
            Err(on) => on,
        };
        run!(on, e, DB => sqlx::query_scalar_with::<DB, T, _>(AssertSqlSafe(text), arguments::<DB>(args)?)
            .fetch_one(e)
            .await)
    }

    /// The first column of the row, if there is one.
    pub async fn fetch_optional_scalar<'a, T: Scalar>(
        self,
        on: impl Into<On<'a>>,
    ) -> Result<Option<T>, sqlx::Error> {
        let Sql { text, args, .. } = self;
        let on = match try_direct(on.into(), &text, &args, Some(1), |c| c.first()) {
            Ok(rows) => return Ok(rows?.pop()),
            Err(on) => on,
        };
        run!(on, e, DB => sqlx::query_scalar_with::<DB, T, _>(AssertSqlSafe(text), arguments::<DB>(args)?)
            .fetch_optional(e)
            .await)
    }

    /// The first column of every row.
    pub async fn fetch_all_scalar<'a, T: Scalar>(
        self,
        on: impl Into<On<'a>>,
    ) -> Result<Vec<T>, sqlx::Error> {
        let Sql { text, args, .. } = self;
        let on = match try_direct(on.into(), &text, &args, None, |c| c.first()) {
            Ok(rows) => return rows,
            Err(on) => on,
        };
        run!(on, e, DB => sqlx::query_scalar_with::<DB, T, _>(AssertSqlSafe(text), arguments::<DB>(args)?)
            .fetch_all(e)
            .await)
    }

    /// Whether the statement returns a row (nothing is decoded: `select 1 …` is INT4 on
    /// PostgreSQL).
    pub async fn exists<'a>(self, on: impl Into<On<'a>>) -> Result<bool, sqlx::Error> {
        let Sql { text, args, .. } = self;
        let on = match try_direct(on.into(), &text, &args, Some(1), |_| Ok(())) {
            Ok(rows) => return Ok(!rows?.is_empty()),
            Err(on) => on,
        };
        run!(on, e, DB => Ok(sqlx::query_with(AssertSqlSafe(text), arguments::<DB>(args)?)
            .fetch_optional(e)
            .await?
            .is_some()))
    }
}

/// The rows of a statement run by the writer's connection or a free reader (`direct`), each
/// decoded by `decode`, at most `limit` (then the statement stops, as sqlx's `fetch_one` stops
/// it: SQLite runs a DML statement whole at its first step, `RETURNING` rows buffered). `Err`
/// gives `on` back when it is neither, or the read must go to the pool.
fn try_direct<'a, T>(
    on: On<'a>,
    text: &str,
    args: &[Arg],
    limit: Option<usize>,
    decode: impl Fn(&Columns<'_>) -> Result<T, sqlx::Error>,
) -> Result<Result<Vec<T>, sqlx::Error>, On<'a>> {
    let mut rows = Vec::new();
    let mut each = |columns: &Columns<'_>| {
        rows.push(decode(columns)?);
        Ok(limit.is_none_or(|limit| rows.len() < limit))
    };
    let ran = match on {
        On::SqliteDirect(direct) => direct.run(text, args, &mut each),
        On::SqliteRead(pool, readers) => match readers.read(text, args, &mut each) {
            Some(ran) => ran,
            None => return Err(On::SqlitePool(pool)),
        },
        on => return Err(on),
    };
    Ok(ran.map(|_| rows))
}

/// Rows read without a row type (the console's snapshots copy any table of account data):
/// each column's name and declared type, and each value as JSON — integers and reals as
/// numbers, booleans as booleans, text as strings, blobs as `{"hex": "…"}`, NULL as null.
#[derive(Debug, Clone, Default)]
pub struct JsonRows {
    pub columns: Vec<String>,
    /// The columns' declared types as the backend names them (`INTEGER`, `INT8`, `TEXT` …).
    pub types: Vec<String>,
    pub rows: Vec<Vec<serde_json::Value>>,
}

/// [`JsonRows`] of one backend's rows. Values decode by their own type (SQLite's are dynamic),
/// unchecked against the column's: only the few kinds a column of ours can hold.
fn json_rows<R>(rows: &[R]) -> Result<JsonRows, sqlx::Error>
where
    R: sqlx::Row,
    usize: sqlx::ColumnIndex<R>,
    for<'r> i64: Decode<'r, R::Database>,
    for<'r> i32: Decode<'r, R::Database>,
    for<'r> f64: Decode<'r, R::Database>,
    for<'r> bool: Decode<'r, R::Database>,
    for<'r> String: Decode<'r, R::Database>,
    for<'r> Vec<u8>: Decode<'r, R::Database>,
{
    use serde_json::Value;
    use sqlx::{Column, TypeInfo, ValueRef};
    let mut out = JsonRows::default();
    let Some(first) = rows.first() else {
        return Ok(out);
    };
    for column in first.columns() {
        out.columns.push(column.name().to_owned());
        out.types
            .push(column.type_info().name().to_ascii_uppercase());
    }
    for row in rows {
        let mut values = Vec::with_capacity(out.columns.len());
        for i in 0..out.columns.len() {
            let raw = row.try_get_raw(i)?;
            if raw.is_null() {
                values.push(Value::Null);
                continue;
            }
            let kind = raw.type_info().name().to_ascii_uppercase();
            values.push(match kind.as_str() {
                "INTEGER" | "BIGINT" | "INT8" => Value::from(row.try_get_unchecked::<i64, _>(i)?),
                "INT4" | "INT2" | "INT" => Value::from(row.try_get_unchecked::<i32, _>(i)?),
                "REAL" | "FLOAT8" | "FLOAT4" | "DOUBLE" => {
                    Value::from(row.try_get_unchecked::<f64, _>(i)?)
                }
                "BOOL" | "BOOLEAN" => Value::from(row.try_get_unchecked::<bool, _>(i)?),
                "BLOB" | "BYTEA" => serde_json::json!({
                    "hex": hex::encode(row.try_get_unchecked::<Vec<u8>, _>(i)?)
                }),
                _ => Value::String(row.try_get_unchecked::<String, _>(i)?),
            });
        }
        out.rows.push(values);
    }
    Ok(out)
}

impl Sql {
    /// Every row, without a row type (see [`JsonRows`]).
    pub async fn fetch_all_json<'a>(self, on: impl Into<On<'a>>) -> Result<JsonRows, sqlx::Error> {
        let Sql { text, args, .. } = self;
        let on = match try_direct(on.into(), &text, &args, None, |c| Ok(c.json())) {
            Ok(rows) => {
                let mut out = JsonRows::default();
                for (columns, types, values) in rows? {
                    out.columns = columns;
                    out.types = types;
                    out.rows.push(values);
                }
                return Ok(out);
            }
            Err(on) => on,
        };
        run!(on, e, DB => {
            let rows = sqlx::query_with(AssertSqlSafe(text), arguments::<DB>(args)?)
                .fetch_all(e)
                .await?;
            json_rows(&rows)
        })
    }
}

/// Items of a list inside a [`Sql`], separated by its separator.
pub struct Separated<'s> {
    sql: &'s mut Sql,
    separator: &'static str,
    first: bool,
}

impl Separated<'_> {
    fn next(&mut self) {
        if !self.first {
            self.sql.push(self.separator);
        }
        self.first = false;
    }

    /// Appends SQL text as the next item.
    pub fn push(&mut self, text: impl Display) -> &mut Self {
        self.next();
        self.sql.push(text);
        self
    }

    /// Appends a placeholder bound to `value` as the next item.
    pub fn push_bind(&mut self, value: impl Into<Arg>) -> &mut Self {
        self.next();
        self.sql.push_bind(value);
        self
    }
}
