//! List pages read as one value (issue 21's list targets). sqlx-sqlite steps a statement on its
//! worker thread and sends each row back over a channel on its own: every value of the row is
//! copied (`sqlite3_value_dup`), every send can wake the request's task from another thread, and
//! every column is then looked up by name and copied again into the row struct. A page of 50
//! rows was 51 such hand-offs (bench/RESULTS.md, "Session 5: list pages").
//!
//! Here the database builds the whole page as one JSON array — one array per row, holding the
//! row's columns in its struct's field order, in the page's order — and the page crosses as one
//! text value, which serde decodes into the very row structs the streamed read gave (a struct's
//! derived `Deserialize` takes a sequence of its fields in order: see `row!`). The rows are the
//! same values, so every list's JSON stays byte for byte as it was.
//!
//! Since the SQLite statements run on our own threads (`store::direct`, session 6) there is no
//! such hand-off there, and `fetch_page` reads those pages row by row again; the packing
//! remains for PostgreSQL and for pages read on sqlx's own SQLite connections (inside a
//! transaction). A plain read that finds every direct reader busy falls back to sqlx's pool
//! row by row (`db::try_direct`): slower, and rare.

use serde::{Deserialize, Deserializer, de::DeserializeOwned};

use super::{
    StoreResult,
    db::{On, Row, Sql},
    dialect,
};

/// A column type a page can carry inside JSON and read back unchanged.
pub trait Packable: Sized {
    /// False for what the JSON functions cannot hold (a blob: SQLite refuses them); a row with
    /// such a column is read row by row as before.
    const PACKABLE: bool = true;
    fn unpack<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error>;
}

/// What `row!`'s fields deserialize with.
pub fn unpack<'de, D: Deserializer<'de>, T: Packable>(d: D) -> Result<T, D::Error> {
    T::unpack(d)
}

macro_rules! packable_as_is {
    ($($ty:ty),+) => {
        $(impl Packable for $ty {
            fn unpack<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                <$ty>::deserialize(d)
            }
        })+
    };
}
packable_as_is!(String, Option<String>, i64, Option<i64>);

/// A `BOOLEAN` column: PostgreSQL's JSON says `true`/`false`, SQLite's (whose booleans are
/// integers) `1`/`0`.
struct Flag(bool);

impl<'de> Deserialize<'de> for Flag {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Flag;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a boolean, or an integer SQLite boolean")
            }
            fn visit_bool<E>(self, v: bool) -> Result<Flag, E> {
                Ok(Flag(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Flag, E> {
                Ok(Flag(v != 0))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Flag, E> {
                Ok(Flag(v != 0))
            }
        }
        d.deserialize_any(Visitor)
    }
}

impl Packable for bool {
    fn unpack<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Flag::deserialize(d)?.0)
    }
}

impl Packable for Option<bool> {
    fn unpack<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Option::<Flag>::deserialize(d)?.map(|f| f.0))
    }
}

/// Never read from a packed page (`PACKABLE` is false), only from the writer's own rows
/// (`store::direct`), which decode them as they are.
macro_rules! not_packable {
    ($($ty:ty),+) => {
        $(impl Packable for $ty {
            const PACKABLE: bool = false;
            fn unpack<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                <$ty>::deserialize(d)
            }
        })+
    };
}
// A float does not survive JSON on either side (SQLite writes 15 significant digits and
// ±Inf as 9.0e+999; PostgreSQL writes NaN/Infinity as strings): read row by row.
not_packable!(Vec<u8>, Option<Vec<u8>>, f64, Option<f64>);

/// How a packed page's text becomes its rows: `unpack_rows::<R>` for a `row!` type `R`.
pub type Unpack<R> = fn(&str) -> serde_json::Result<Vec<R>>;

/// The rows of a packed page (see `row!`: its structs deserialize from their fields in order).
pub fn unpack_rows<R: DeserializeOwned>(text: &str) -> serde_json::Result<Vec<R>> {
    serde_json::from_str(text)
}

/// The rows of `page`, a select of `columns` (a `Table`'s: qualified or not) that orders itself
/// by `column` (qualified or not) in `direction` (`asc`, `desc`) and limits itself, read as one
/// JSON value in that order and turned into rows by `unpack`.
pub(crate) async fn fetch_page<'c, R: Row>(
    page: Sql,
    columns: &str,
    (column, direction): (&str, &str),
    unpack: Unpack<R>,
    db: impl Into<On<'c>>,
) -> StoreResult<Vec<R>> {
    let on = db.into();
    // Where SQLite steps the statement on our thread (`store::direct`) there is no hand-off
    // per row to save, and the packing would only add work: SQLite building and sorting the
    // JSON, serde parsing it back (list of 50: 239 -> 188 µs of server CPU without it,
    // bench/RESULTS.md session 7). The rows decode as they are, by name, into the same structs.
    if on.steps_directly() {
        return page.fetch_all(on).await.map_err(Into::into);
    }
    let values = page_columns(columns.split(',').map(unqualified));
    let order = format!("page_rows.{} {direction}", unqualified(column));
    let text = fetch_packed(page, &values, &order, on).await?;
    unpack(&text).map_err(|e| sqlx::Error::Decode(Box::new(e)).into())
}

/// `page_rows.a, page_rows.b, …`: output columns of a page's select, as the packing reads them.
pub(crate) fn page_columns<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let mut values = String::new();
    for (i, name) in names.enumerate() {
        if i > 0 {
            values.push_str(", ");
        }
        values.push_str("page_rows.");
        values.push_str(name);
    }
    values
}

/// The JSON text of `page` (a select that orders and limits itself), one array of `values`
/// (expressions over its output columns, `page_rows.column`; a nested `json_array`/
/// `json_build_array` is `dialect::json_row`) per row, in `order`.
pub(crate) async fn fetch_packed<'c>(
    page: Sql,
    values: &str,
    order: &str,
    db: impl Into<On<'c>>,
) -> StoreResult<String> {
    let on = db.into();
    let (before, after) = dialect::json_page(on.backend(), values, order);
    Ok(page.wrapped(&before, &after).fetch_scalar(on).await?)
}

/// A select list's output name of `column` (`p.seq` → `seq`).
fn unqualified(column: &str) -> &str {
    let column = column.trim();
    column.rsplit('.').next().unwrap_or(column)
}

#[cfg(test)]
mod tests {
    use sqlx::Connection;

    use crate::store::{
        Keyset,
        db::{On, Sql},
        query::{Columns, fetch_all, row},
    };

    row! {
        #[derive(Debug, PartialEq)]
        pub struct Sample {
            seq: i64,
            text: String,
            maybe: Option<String>,
            big: Option<i64>,
            flag: bool,
            maybe_flag: Option<bool>,
        }
    }

    /// A packed page is the page the row-by-row read gives, value for value and in order, in
    /// both directions: text that JSON must escape, NULLs, the extremes of `i64`, booleans.
    #[tokio::test]
    async fn a_packed_page_reads_the_rows_the_streamed_read_does() {
        let mut conn = sqlx::SqliteConnection::connect("sqlite::memory:")
            .await
            .unwrap();
        sqlx::query(
            "create table samples (seq integer primary key, text text not null, maybe text, \
             big bigint, flag boolean not null, maybe_flag boolean)",
        )
        .execute(&mut conn)
        .await
        .unwrap();
        let texts = [
            "plain",
            "quote \" backslash \\ slash / newline \n tab \t nul-less control \u{1}",
            "unicode é 日本 🎉 and \u{2028}",
            "",
            "{\"json\": [1, 2.50, true]}",
        ];
        for (i, text) in texts.iter().enumerate() {
            let big = [Some(i64::MAX), Some(i64::MIN), None, Some(0), Some(-1)][i];
            sqlx::query("insert into samples (text, maybe, big, flag, maybe_flag) values ($1, $2, $3, $4, $5)")
                .bind(*text)
                .bind((i % 2 == 0).then(|| format!("maybe {i}")))
                .bind(big)
                .bind(i % 3 == 0)
                .bind([Some(true), Some(false), None][i % 3])
                .execute(&mut conn)
                .await
                .unwrap();
        }
        for keyset in [
            Keyset::after(None, 10),
            Keyset::after(Some(1), 3),
            Keyset::before(5, 2),
        ] {
            let page = || {
                let mut qb = Sql::new("select ");
                qb.push(Sample::COLUMNS).push(" from samples where 1 = 1");
                keyset.push(&mut qb, "seq");
                qb
            };
            let streamed: Vec<Sample> = fetch_all(page(), On::Sqlite(&mut conn)).await.unwrap();
            let packed: Vec<Sample> = super::fetch_page(
                page(),
                Sample::COLUMNS,
                ("seq", keyset.direction(false)),
                super::unpack_rows::<Sample>,
                On::Sqlite(&mut conn),
            )
            .await
            .unwrap();
            assert!(!streamed.is_empty());
            assert_eq!(packed, streamed, "{keyset:?}");
        }
    }
}
