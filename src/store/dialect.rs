//! The few places where SQLite and PostgreSQL differ, each a small `const` or fn keyed by
//! [`Backend`]; every other statement is the same text on both (see `db`). A new difference
//! goes here, with a test on both backends.

use super::{
    Backend, StoreError, StoreResult,
    db::{On, Sql},
};

/// Pooled connections per instance on PostgreSQL (each instance opens one more for its
/// group-commit writer, `pg_writer`): N instances × (this + 1) must stay under the server's
/// `max_connections` (100 by default).
pub const PG_POOL_SIZE: u32 = 16;

/// Locks the row of `table` whose `key` column is `value` until the transaction ends — on
/// PostgreSQL (`select … for update`); on SQLite the transaction already holds the database's
/// write lock (`BEGIN IMMEDIATE`), so nothing is run. Every read-then-write path (a count
/// checked before an insert, a number taken from the latest row) locks its parent row first,
/// so concurrent requests on several instances cannot both pass the check.
pub async fn lock_parent<'c>(
    db: impl Into<On<'c>>,
    table: &'static str,
    key: &'static str,
    value: &str,
) -> StoreResult<()> {
    let on = db.into();
    if on.backend() == Backend::Postgres {
        let mut qb = Sql::new("select 1 from ");
        qb.push(table).push(" where ").push(key).push(" = ");
        qb.push_bind(value).push(" for update");
        qb.exists(on).await?;
    }
    Ok(())
}

/// How a bulk load (`seed --generate`) starts an insert: on SQLite `insert or rollback`, so
/// no statement can fail half-way and SQLite keeps no statement journal (see `bulk`), with
/// anonymous placeholders; on PostgreSQL a plain insert (an error aborts the transaction
/// anyway).
pub fn bulk_insert(backend: Backend) -> Sql {
    match backend {
        Backend::Sqlite => Sql::new("insert or rollback into ").anonymous_placeholders(),
        Backend::Postgres => Sql::new("insert into "),
    }
}

/// The text around a page's select (`store::packed`) that makes its rows one JSON array of
/// arrays, each of `values` (the page's columns as `page_rows.column`), in `order`: SQLite's
/// `json_group_array(json_array(…))` (an empty page is `[]`), PostgreSQL's
/// `json_agg(json_build_array(…))` (NULL for an empty page, hence the `coalesce`) as text.
pub fn json_page(backend: Backend, values: &str, order: &str) -> (String, String) {
    let before = match backend {
        Backend::Sqlite => {
            format!("select json_group_array(json_array({values}) order by {order}) from (")
        }
        Backend::Postgres => format!(
            "select coalesce(json_agg(json_build_array({values}) order by {order})::text, '[]') from ("
        ),
    };
    (before, ") page_rows".to_owned())
}

/// A JSON array of `values` inside a packed page's row (see `json_page`).
pub fn json_row(backend: Backend, values: &str) -> String {
    match backend {
        Backend::Sqlite => format!("json_array({values})"),
        Backend::Postgres => format!("json_build_array({values})"),
    }
}

/// What `backup` says on PostgreSQL, in one line.
pub const BACKUP_ON_POSTGRES: &str = "backup copies SQLite databases only: on PostgreSQL use pg_dump (or your engine's own backups), e.g. `pg_dump --format=custom --file=localtwilio.dump \"$LOCALTWILIO_DATABASE\"`";

/// The statement that copies the database to the file `$1`: SQLite's `VACUUM INTO`.
pub fn backup_statement(backend: Backend) -> StoreResult<&'static str> {
    match backend {
        Backend::Sqlite => Ok("vacuum into $1"),
        Backend::Postgres => Err(StoreError::Db(sqlx::Error::Configuration(
            BACKUP_ON_POSTGRES.into(),
        ))),
    }
}

/// The database's size in bytes (`/metrics`, `backup`'s progress).
pub fn database_size(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => {
            "select page_count * page_size from pragma_page_count(), pragma_page_size()"
        }
        Backend::Postgres => "select pg_database_size(current_database())",
    }
}

/// `url` with its password hidden, for messages and logs.
pub fn redacted_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

// Which errors are storage faults, lost connections or worth a retry: the error half of the
// dialect, in a file of its own so the PostgreSQL writer can use it without this file's
// statement builders (which use `db`, which holds the writer).
pub use super::faults::{
    WRITE_RETRIES, is_connection_lost, is_retryable, is_storage_fault, retry_pause,
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_in_a_url_is_hidden() {
        assert_eq!(
            redacted_url("postgres://lt:secret@db:5432/lt"),
            "postgres://lt:***@db:5432/lt"
        );
        assert_eq!(redacted_url("postgres://lt@db/lt"), "postgres://lt@db/lt");
    }

    /// Both migration folders list the same versions under the same names (issue 16).
    #[test]
    fn both_backends_have_the_same_migrations() {
        let sqlite = sqlx::migrate!("./migrations/sqlite");
        let postgres = sqlx::migrate!("./migrations/postgres");
        let names = |m: &sqlx::migrate::Migrator| {
            m.iter()
                .map(|m| (m.version, m.description.to_string()))
                .collect::<Vec<_>>()
        };
        assert!(!names(&sqlite).is_empty());
        assert_eq!(names(&sqlite), names(&postgres));
    }
}
