//! Which database errors are faults of the storage (503), a lost connection, or worth running
//! a write again, on each backend: the error half of `dialect` (which re-exports all of it),
//! kept apart because it needs nothing of `db` and the PostgreSQL writer, which `db` holds,
//! needs it.

/// A fault of the storage rather than of the request (503 20503).
///
/// SQLite: BUSY (lock wait exhausted), READONLY, IOERR, FULL or CANTOPEN (primary result codes
/// 5, 8, 10, 13, 14 — <https://sqlite.org/rescode.html>; the driver reports extended codes,
/// whose low byte is the primary one).
///
/// PostgreSQL (SQLSTATE, Appendix A of its manual): class 53 (insufficient resources: disk
/// full, out of memory, too many connections), class 08 (connection exception), 57P01–57P03
/// (the server shutting down or not accepting connections yet), 25006 (a read-only
/// transaction: a standby after a failover), 58030 (I/O error), 55P03 and 57014 (a lock wait
/// or a statement past the writer session's `lock_timeout` / `statement_timeout`: see
/// `pg_writer`).
///
/// Either: an I/O error, or no connection within the pool's wait.
pub fn is_storage_fault(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Database(db) => {
            if let Some(pg) = db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
                let code = pg.code();
                code.starts_with("53")
                    || code.starts_with("08")
                    || matches!(
                        code,
                        "57P01" | "57P02" | "57P03" | "25006" | "58030" | "55P03" | "57014"
                    )
            } else {
                db.code()
                    .and_then(|code| code.parse::<i32>().ok())
                    .is_some_and(|code| matches!(code & 0xff, 5 | 8 | 10 | 13 | 14))
            }
        }
        sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut => true,
        _ => false,
    }
}

/// The connection to PostgreSQL is gone (I/O, TLS or protocol failure; SQLSTATE class 08; the
/// backend terminated by an administrator, a shutdown or a crash: 57P01–57P03): a statement that
/// meets this did not run, and a new connection may succeed.
pub fn is_connection_lost(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::Protocol(_) => true,
        sqlx::Error::Database(db) => db
            .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
            .is_some_and(|pg| {
                pg.code().starts_with("08") || matches!(pg.code(), "57P01" | "57P02" | "57P03")
            }),
        _ => false,
    }
}

/// How many times a write aborted by [`is_retryable`] is run again.
pub const WRITE_RETRIES: u32 = 5;

/// The pause before retry `n` (1, 2, …): a random 0–10·2ⁿ⁻¹ ms, so writers that collided do
/// not collide again.
pub fn retry_pause(n: u32) -> std::time::Duration {
    let ceiling_ms = 10u64 << n.saturating_sub(1).min(6);
    let random = uuid::Uuid::new_v4().as_u128() as u64;
    std::time::Duration::from_millis(random % (ceiling_ms + 1))
}

/// A PostgreSQL serialization failure (40001) or deadlock (40P01): the transaction did
/// nothing and may be run again.
pub fn is_retryable(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db)
        if db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
            .is_some_and(|pg| matches!(pg.code(), "40001" | "40P01")))
}
