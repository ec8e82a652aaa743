//! The group-commit writer's statements, run on its own thread against the SQLite handle
//! (issue 21's durable creates). sqlx-sqlite runs every statement on a worker thread of the
//! connection's own: each statement of a batch was a round trip writer → worker → writer,
//! two thread wake-ups, and with both cores busy serving requests each wake-up waited for a
//! core. A batch of 30 user creates took 6–8 ms of which about 1 ms was the fsync
//! (bench/RESULTS.md, "Session 6"). Here the writer takes the connection's handle from sqlx
//! once (`lock_handle`: sqlx opened and configured it, pragmas and all) and steps the batch's
//! statements itself: no hand-off per statement.
//!
//! The statements are the same [`Sql`](super::db::Sql) values every other path runs (one text,
//! `$n` placeholders); rows decode through serde from the columns by name, as `FromRow` decodes
//! them by name, and errors carry SQLite's extended result code and message as sqlx's do, so
//! conflict, foreign-key and storage-fault classification is unchanged.

use std::{borrow::Cow, collections::HashMap, ffi::CStr, fmt, ptr::NonNull};

use libsqlite3_sys as ffi;
use serde::de::{self, DeserializeOwned, IntoDeserializer, Visitor};
use sqlx::SqliteConnection;

use super::arg::Arg;

/// Prepared statements kept per distinct text before the cache starts over (the writer's texts
/// are few; multi-row inserts vary with their row count).
const CACHED_STATEMENTS: usize = 256;

/// The writer connection's handle, borrowed from sqlx for the writer's lifetime, with its
/// prepared statements.
pub struct Direct {
    db: NonNull<ffi::sqlite3>,
    statements: HashMap<String, Prepared>,
    /// Whether the handle is ours to close (a reader's) rather than sqlx's (the writer's).
    owned: bool,
}

/// The statements of one text, and whether they only read.
struct Prepared {
    statements: Vec<NonNull<ffi::sqlite3_stmt>>,
    read_only: bool,
}

// The handle is used only inside `with_direct`, while sqlx's lock on it is held, so sqlx's
// worker never touches it meanwhile. The jobs' futures must
// be `Send` to be boxed as they are for both backends; they never leave that thread.
unsafe impl Send for Direct {}

/// Runs `work` with `conn`'s handle: sqlx's worker thread for the connection waits on its lock
/// meanwhile, and the statements `work` prepared are finalized before the lock is given back.
pub async fn with_direct<R>(
    conn: &mut SqliteConnection,
    work: impl AsyncFnOnce(&mut Direct) -> R,
) -> Result<R, sqlx::Error> {
    let mut handle = conn.lock_handle().await?;
    let mut direct = Direct {
        db: handle.as_raw_handle(),
        statements: HashMap::new(),
        owned: false,
    };
    stable_plans(direct.db);
    let out = work(&mut direct).await;
    direct.finish();
    drop(handle);
    Ok(out)
}

/// Turns SQLite's memory statistics off for the process; called by `main` first thing, before
/// any thread or connection exists (`sqlite3_config` must run before SQLite initializes, and
/// is not thread-safe; afterwards it only answers SQLITE_MISUSE, which is ignored). With the
/// statistics on, every allocation SQLite makes takes one process-wide mutex to count it —
/// contended between the readers on the request threads and the writer (`pthread_mutex_lock`
/// and its unlock were ~2 % of an execution create's profile). Nothing reads the statistics.
///
/// It also hands SQLite's allocations to mimalloc, the allocator the rest of the process uses:
/// SQLite otherwise calls glibc's `malloc` directly (the Rust global allocator does not reach
/// it), and glibc's `_int_malloc`/`_int_free` were ~4 % of a durable create's CPU, on the
/// writer thread and the request threads alike.
pub fn configure_process() {
    let methods = ffi::sqlite3_mem_methods {
        xMalloc: Some(sqlite_malloc),
        xFree: Some(sqlite_free),
        xRealloc: Some(sqlite_realloc),
        xSize: Some(sqlite_size),
        xRoundup: Some(sqlite_roundup),
        xInit: Some(sqlite_mem_init),
        xShutdown: Some(sqlite_mem_shutdown),
        pAppData: std::ptr::null_mut(),
    };
    unsafe {
        ffi::sqlite3_config(ffi::SQLITE_CONFIG_MEMSTATUS, 0 as std::ffi::c_int);
        // SQLite copies the methods.
        ffi::sqlite3_config(
            ffi::SQLITE_CONFIG_MALLOC,
            &methods as *const ffi::sqlite3_mem_methods,
        );
    }
}

// SQLite's memory methods on mimalloc (`sqlite3_mem_methods`: SQLite never asks for zero or a
// negative size, and never reallocates or frees a null pointer; mimalloc aligns to 16 bytes,
// SQLite needs 8).
unsafe extern "C" fn sqlite_malloc(size: std::ffi::c_int) -> *mut std::ffi::c_void {
    unsafe { libmimalloc_sys::mi_malloc(usize::try_from(size).unwrap_or(0)) }
}

unsafe extern "C" fn sqlite_free(p: *mut std::ffi::c_void) {
    unsafe { libmimalloc_sys::mi_free(p) }
}

unsafe extern "C" fn sqlite_realloc(
    p: *mut std::ffi::c_void,
    size: std::ffi::c_int,
) -> *mut std::ffi::c_void {
    unsafe { libmimalloc_sys::mi_realloc(p, usize::try_from(size).unwrap_or(0)) }
}

unsafe extern "C" fn sqlite_size(p: *mut std::ffi::c_void) -> std::ffi::c_int {
    let size = unsafe { libmimalloc_sys::mi_usable_size(p) };
    std::ffi::c_int::try_from(size).unwrap_or(std::ffi::c_int::MAX)
}

unsafe extern "C" fn sqlite_roundup(size: std::ffi::c_int) -> std::ffi::c_int {
    size.saturating_add(7) & !7
}

unsafe extern "C" fn sqlite_mem_init(_: *mut std::ffi::c_void) -> std::ffi::c_int {
    ffi::SQLITE_OK
}

unsafe extern "C" fn sqlite_mem_shutdown(_: *mut std::ffi::c_void) {}

/// Turns on SQLite's query planner stability guarantee for `db`. Without it a statement whose
/// plan looked at a bound value — any `limit $n`, as every page has (`sqlite3ExprIsInteger`
/// marks the variable) — is marked expired by every rebind, and the next step parses and plans
/// it again: a cached statement that is prepared anew on every request (a list page spent ~10 %
/// of its CPU in SQLite's parser, `sqlite3Reprepare` under `sqlite3_step`). Plans then never
/// depend on bound values, which none of ours needs (no `sqlite_stat4`, no `like` on an index).
fn stable_plans(db: NonNull<ffi::sqlite3>) {
    // Cannot fail for a valid handle and a known option; the answer is only the flag's state.
    unsafe {
        ffi::sqlite3_db_config(
            db.as_ptr(),
            ffi::SQLITE_DBCONFIG_ENABLE_QPSG,
            1 as std::ffi::c_int,
            std::ptr::null_mut::<std::ffi::c_int>(),
        );
    }
}

impl Direct {
    /// Finalizes the prepared statements (the cache starts over).
    fn finish(&mut self) {
        for (_, prepared) in self.statements.drain() {
            for statement in prepared.statements {
                unsafe { ffi::sqlite3_finalize(statement.as_ptr()) };
            }
        }
    }

    /// Prepares `text` unless it is cached.
    fn prepared(&mut self, text: &str) -> Result<&Prepared, sqlx::Error> {
        if !self.statements.contains_key(text) {
            let statements = self.prepare(text)?;
            let read_only = statements
                .iter()
                .all(|s| unsafe { ffi::sqlite3_stmt_readonly(s.as_ptr()) } != 0);
            if self.statements.len() >= CACHED_STATEMENTS {
                self.finish();
            }
            self.statements.insert(
                text.to_owned(),
                Prepared {
                    statements,
                    read_only,
                },
            );
        }
        self.statements
            .get(text)
            .ok_or_else(|| sqlx::Error::Protocol("statement cache".into()))
    }

    /// Whether a transaction is open: false once SQLite has rolled one back by itself, which it
    /// may do at an I/O error, a full disk or out of memory (<https://sqlite.org/lang_transaction.html>,
    /// "Response To Errors Within A Transaction"; `sqlite3_get_autocommit`).
    pub fn in_transaction(&self) -> bool {
        unsafe { ffi::sqlite3_get_autocommit(self.db.as_ptr()) == 0 }
    }

    /// Runs statements without values or rows (`BEGIN IMMEDIATE`, `COMMIT`).
    pub fn exec(&mut self, text: &str) -> Result<(), sqlx::Error> {
        self.run(text, &[], |_| Ok(true)).map(|_| ())
    }

    /// Runs `text` (one statement or several) with `args` bound to its `$n` (or `?`)
    /// placeholders, handing each row to `row` until it returns false; the number of rows
    /// changed.
    pub fn run(
        &mut self,
        text: &str,
        args: &[Arg],
        mut row: impl FnMut(&Columns<'_>) -> Result<bool, sqlx::Error>,
    ) -> Result<u64, sqlx::Error> {
        let db = self.db;
        let mut changed = 0;
        for statement in &self.prepared(text)?.statements {
            let statement = Statement {
                db,
                raw: statement.as_ptr(),
            };
            changed += statement.run(args, &mut row)?;
        }
        Ok(changed)
    }

    fn prepare(&mut self, text: &str) -> Result<Vec<NonNull<ffi::sqlite3_stmt>>, sqlx::Error> {
        let mut prepared = Vec::new();
        let mut rest = text.as_bytes();
        while !rest.iter().all(u8::is_ascii_whitespace) {
            let mut raw = std::ptr::null_mut();
            let mut tail = std::ptr::null();
            let len = i32::try_from(rest.len())
                .map_err(|_| sqlx::Error::Protocol("statement too long".into()))?;
            let code = unsafe {
                ffi::sqlite3_prepare_v3(
                    self.db.as_ptr(),
                    rest.as_ptr().cast(),
                    len,
                    ffi::SQLITE_PREPARE_PERSISTENT,
                    &mut raw,
                    &mut tail,
                )
            };
            if code != ffi::SQLITE_OK {
                let error = error(self.db);
                for statement in prepared {
                    unsafe { ffi::sqlite3_finalize(statement) };
                }
                return Err(error);
            }
            let used = (tail as usize).saturating_sub(rest.as_ptr() as usize);
            rest = rest.get(used..).unwrap_or(&[]);
            match raw {
                // Only a comment or whitespace was left.
                raw if raw.is_null() => break,
                raw => prepared.push(raw),
            }
            if used == 0 {
                break;
            }
        }
        Ok(prepared.into_iter().filter_map(NonNull::new).collect())
    }
}

impl Drop for Direct {
    fn drop(&mut self) {
        self.finish();
        if self.owned {
            // Its statements are finalized above, so the close succeeds.
            unsafe { ffi::sqlite3_close(self.db.as_ptr()) };
        }
    }
}

/// Connections of our own that run plain reads (`select …`, `with …`) on the request's thread,
/// each behind a lock: a read sent to one of sqlx's pooled connections crossed to that
/// connection's worker thread and back, and its rows one by one through a channel, like the
/// writer's statements did. A read finding every reader busy, and every statement that may
/// write, goes to the pool as before.
pub struct Readers {
    slots: Vec<std::sync::Mutex<Option<Direct>>>,
    closed: std::sync::atomic::AtomicBool,
}

impl Readers {
    /// `count` connections to the database file at `path` (already created, in WAL mode),
    /// waiting up to `busy` for a lock as the pool's connections do.
    pub fn open(
        path: &std::path::Path,
        count: usize,
        busy: std::time::Duration,
    ) -> Result<Self, sqlx::Error> {
        let name = std::ffi::CString::new(path.as_os_str().as_encoded_bytes())
            .map_err(|e| sqlx::Error::Configuration(Box::new(e)))?;
        let mut slots = Vec::with_capacity(count);
        for _ in 0..count {
            let mut raw = std::ptr::null_mut();
            // No mutex of SQLite's own: each connection is used under its slot's lock.
            let code = unsafe {
                ffi::sqlite3_open_v2(
                    name.as_ptr(),
                    &mut raw,
                    ffi::SQLITE_OPEN_READWRITE | ffi::SQLITE_OPEN_NOMUTEX,
                    std::ptr::null(),
                )
            };
            let Some(db) = NonNull::new(raw) else {
                return Err(sqlx::Error::Protocol(
                    "out of memory opening a reader".into(),
                ));
            };
            let direct = Direct {
                db,
                statements: HashMap::new(),
                owned: true,
            };
            if code != ffi::SQLITE_OK {
                return Err(error(db));
            }
            stable_plans(db);
            unsafe {
                ffi::sqlite3_extended_result_codes(db.as_ptr(), 1);
                ffi::sqlite3_busy_timeout(
                    db.as_ptr(),
                    i32::try_from(busy.as_millis()).unwrap_or(i32::MAX),
                );
            }
            slots.push(std::sync::Mutex::new(Some(direct)));
        }
        Ok(Self {
            slots,
            closed: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// Runs `text` on a free reader if it is a plain read, handing each row to `row` until it
    /// returns false; `None` when it must go to the pool instead.
    pub fn read(
        &self,
        text: &str,
        args: &[Arg],
        row: impl FnMut(&Columns<'_>) -> Result<bool, sqlx::Error>,
    ) -> Option<Result<u64, sqlx::Error>> {
        let head = text.trim_start();
        let plain_read = head
            .get(..6)
            .is_some_and(|h| h.eq_ignore_ascii_case("select"))
            || head
                .get(..4)
                .is_some_and(|h| h.eq_ignore_ascii_case("with"));
        if !plain_read {
            return None;
        }
        if self.closed.load(std::sync::atomic::Ordering::Acquire) {
            return None;
        }
        for slot in &self.slots {
            let Ok(mut guard) = slot.try_lock() else {
                continue;
            };
            let reader = guard.as_mut()?;
            match reader.prepared(text) {
                Ok(prepared) if !prepared.read_only => return None,
                Ok(_) => return Some(reader.run(text, args, row)),
                Err(e) => return Some(Err(e)),
            }
        }
        None
    }

    /// Closes every reader (waiting for reads under way); later reads go to the pool.
    pub fn close(&self) {
        self.closed
            .store(true, std::sync::atomic::Ordering::Release);
        for slot in &self.slots {
            let reader = match slot.lock() {
                Ok(mut guard) => guard.take(),
                Err(poisoned) => poisoned.into_inner().take(),
            };
            drop(reader);
        }
    }
}

struct Statement {
    db: NonNull<ffi::sqlite3>,
    raw: *mut ffi::sqlite3_stmt,
}

impl Statement {
    fn run(
        &self,
        args: &[Arg],
        row: &mut impl FnMut(&Columns<'_>) -> Result<bool, sqlx::Error>,
    ) -> Result<u64, sqlx::Error> {
        let outcome = self.bind(args).and_then(|()| {
            loop {
                match unsafe { ffi::sqlite3_step(self.raw) } {
                    ffi::SQLITE_ROW => {
                        let columns = Columns {
                            raw: self.raw,
                            _statement: std::marker::PhantomData,
                        };
                        if !row(&columns)? {
                            break Ok(0);
                        }
                    }
                    // The count is the last INSERT, UPDATE or DELETE's on the connection: none
                    // for a statement that only reads.
                    ffi::SQLITE_DONE if unsafe { ffi::sqlite3_stmt_readonly(self.raw) } != 0 => {
                        break Ok(0);
                    }
                    ffi::SQLITE_DONE => {
                        break Ok(unsafe { ffi::sqlite3_changes64(self.db.as_ptr()) } as u64);
                    }
                    _ => break Err(error(self.db)),
                }
            }
        });
        unsafe {
            ffi::sqlite3_reset(self.raw);
            ffi::sqlite3_clear_bindings(self.raw);
        }
        outcome
    }

    /// Binds `args` by placeholder: `$n` (or `?n`) takes the n-th value, an anonymous `?` the
    /// next one, as sqlx binds them.
    fn bind(&self, args: &[Arg]) -> Result<(), sqlx::Error> {
        let count = unsafe { ffi::sqlite3_bind_parameter_count(self.raw) };
        for index in 1..=count {
            let name = unsafe { ffi::sqlite3_bind_parameter_name(self.raw, index) };
            let position = if name.is_null() {
                index as usize
            } else {
                let name = unsafe { CStr::from_ptr(name) }.to_bytes();
                std::str::from_utf8(name.get(1..).unwrap_or_default())
                    .ok()
                    .and_then(|n| n.parse::<usize>().ok())
                    .ok_or_else(|| {
                        sqlx::Error::Protocol(format!(
                            "placeholder {} is not numbered",
                            String::from_utf8_lossy(name)
                        ))
                    })?
            };
            let arg = position
                .checked_sub(1)
                .and_then(|i| args.get(i))
                .ok_or_else(|| {
                    sqlx::Error::Protocol(format!("no value for placeholder {position}"))
                })?;
            let code = unsafe {
                match arg {
                    Arg::Text(Some(text)) => ffi::sqlite3_bind_text64(
                        self.raw,
                        index,
                        text.as_ptr().cast(),
                        text.len() as u64,
                        ffi::SQLITE_TRANSIENT(),
                        ffi::SQLITE_UTF8 as u8,
                    ),
                    Arg::Int(Some(value)) => ffi::sqlite3_bind_int64(self.raw, index, *value),
                    Arg::Bool(Some(value)) => {
                        ffi::sqlite3_bind_int64(self.raw, index, i64::from(*value))
                    }
                    Arg::Bytes(Some(bytes)) => ffi::sqlite3_bind_blob64(
                        self.raw,
                        index,
                        bytes.as_ptr().cast(),
                        bytes.len() as u64,
                        ffi::SQLITE_TRANSIENT(),
                    ),
                    Arg::Text(None) | Arg::Int(None) | Arg::Bool(None) | Arg::Bytes(None) => {
                        ffi::sqlite3_bind_null(self.raw, index)
                    }
                }
            };
            if code != ffi::SQLITE_OK {
                return Err(error(self.db));
            }
        }
        Ok(())
    }
}

/// The connection's last error as sqlx reports SQLite's: extended code and message.
fn error(db: NonNull<ffi::sqlite3>) -> sqlx::Error {
    let (code, message) = unsafe {
        let code = ffi::sqlite3_extended_errcode(db.as_ptr());
        let message = ffi::sqlite3_errmsg(db.as_ptr());
        let message = if message.is_null() {
            String::new()
        } else {
            CStr::from_ptr(message).to_string_lossy().into_owned()
        };
        (code, message)
    };
    sqlx::Error::Database(Box::new(DirectError { code, message }))
}

/// A SQLite error met by the writer.
#[derive(Debug)]
pub struct DirectError {
    /// The extended result code (<https://sqlite.org/rescode.html>).
    code: i32,
    message: String,
}

impl fmt::Display for DirectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "(code: {}) {}", self.code, self.message)
    }
}

impl std::error::Error for DirectError {}

impl sqlx::error::DatabaseError for DirectError {
    fn message(&self) -> &str {
        &self.message
    }

    fn code(&self) -> Option<Cow<'_, str>> {
        Some(Cow::Owned(self.code.to_string()))
    }

    fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
        self
    }

    fn kind(&self) -> sqlx::error::ErrorKind {
        use sqlx::error::ErrorKind;
        match self.code {
            ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => {
                ErrorKind::UniqueViolation
            }
            ffi::SQLITE_CONSTRAINT_FOREIGNKEY => ErrorKind::ForeignKeyViolation,
            ffi::SQLITE_CONSTRAINT_NOTNULL => ErrorKind::NotNullViolation,
            ffi::SQLITE_CONSTRAINT_CHECK => ErrorKind::CheckViolation,
            _ => ErrorKind::Other,
        }
    }
}

/// The current row of a stepped statement, valid until the next step.
pub struct Columns<'s> {
    raw: *mut ffi::sqlite3_stmt,
    _statement: std::marker::PhantomData<&'s Statement>,
}

impl Columns<'_> {
    /// The row as `R`, its fields matched to the columns by name (as `FromRow` matches them).
    pub fn row<R: DeserializeOwned>(&self) -> Result<R, sqlx::Error> {
        R::deserialize(RowDe { raw: self.raw }).map_err(|e| sqlx::Error::Decode(Box::new(e)))
    }

    /// The first column as `T`.
    pub fn first<T: DeserializeOwned>(&self) -> Result<T, sqlx::Error> {
        if self.count() == 0 {
            return Err(sqlx::Error::ColumnNotFound("0".into()));
        }
        T::deserialize(ValueDe {
            raw: self.raw,
            column: 0,
        })
        .map_err(|e| sqlx::Error::Decode(Box::new(e)))
    }

    fn count(&self) -> i32 {
        unsafe { ffi::sqlite3_column_count(self.raw) }
    }

    /// The columns' names and declared types, and the row's values as JSON (see `JsonRows`).
    pub fn json(&self) -> (Vec<String>, Vec<String>, Vec<serde_json::Value>) {
        let (mut names, mut types, mut values) = (Vec::new(), Vec::new(), Vec::new());
        for column in 0..self.count() {
            let text = |p: *const std::ffi::c_char| {
                if p.is_null() {
                    String::new()
                } else {
                    unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
                }
            };
            names.push(text(unsafe { ffi::sqlite3_column_name(self.raw, column) }));
            types.push(
                text(unsafe { ffi::sqlite3_column_decltype(self.raw, column) })
                    .to_ascii_uppercase(),
            );
            let value = ValueDe {
                raw: self.raw,
                column,
            };
            values.push(match value.kind() {
                ffi::SQLITE_NULL => serde_json::Value::Null,
                ffi::SQLITE_INTEGER => value.int().into(),
                ffi::SQLITE_FLOAT => value.float().into(),
                ffi::SQLITE_BLOB => serde_json::json!({ "hex": hex::encode(value.bytes()) }),
                _ => String::from_utf8_lossy(value.bytes()).into_owned().into(),
            });
        }
        (names, types, values)
    }
}

/// A decoding failure (a column of another type than the field's, text not UTF-8).
#[derive(Debug)]
pub struct DecodeError(String);

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DecodeError {}

impl de::Error for DecodeError {
    fn custom<T: fmt::Display>(message: T) -> Self {
        DecodeError(message.to_string())
    }
}

/// A row: a map from column names to values (a struct), or a sequence of values (a tuple).
struct RowDe {
    raw: *mut ffi::sqlite3_stmt,
}

impl<'de> de::Deserializer<'de> for RowDe {
    type Error = DecodeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        visitor.visit_map(RowColumns::new(self.raw))
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        visitor.visit_seq(RowColumns::new(self.raw))
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        self.deserialize_seq(visitor)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct map struct enum identifier ignored_any
    }
}

/// A row's columns, walked in order: as a map from their names (a struct) or as a sequence (a
/// tuple).
struct RowColumns {
    raw: *mut ffi::sqlite3_stmt,
    next: i32,
    count: i32,
}

impl RowColumns {
    fn new(raw: *mut ffi::sqlite3_stmt) -> Self {
        Self {
            raw,
            next: 0,
            count: unsafe { ffi::sqlite3_column_count(raw) },
        }
    }

    /// The next column's value, moving past it.
    fn take(&mut self) -> ValueDe {
        let column = self.next;
        self.next += 1;
        ValueDe {
            raw: self.raw,
            column,
        }
    }
}

impl<'de> de::MapAccess<'de> for RowColumns {
    type Error = DecodeError;

    fn next_key_seed<K: de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DecodeError> {
        if self.next >= self.count {
            return Ok(None);
        }
        let name = unsafe { ffi::sqlite3_column_name(self.raw, self.next) };
        if name.is_null() {
            return Err(DecodeError("a column without a name".into()));
        }
        let name = unsafe { CStr::from_ptr(name) }
            .to_str()
            .map_err(|e| DecodeError(e.to_string()))?;
        seed.deserialize(name.into_deserializer()).map(Some)
    }

    fn next_value_seed<V: de::DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, DecodeError> {
        seed.deserialize(self.take())
    }
}

impl<'de> de::SeqAccess<'de> for RowColumns {
    type Error = DecodeError;

    fn next_element_seed<T: de::DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DecodeError> {
        if self.next >= self.count {
            return Ok(None);
        }
        seed.deserialize(self.take()).map(Some)
    }
}

/// One column's value, decoded by its storage class (SQLite's types are per value).
struct ValueDe {
    raw: *mut ffi::sqlite3_stmt,
    column: i32,
}

impl ValueDe {
    fn kind(&self) -> i32 {
        unsafe { ffi::sqlite3_column_type(self.raw, self.column) }
    }

    fn int(&self) -> i64 {
        unsafe { ffi::sqlite3_column_int64(self.raw, self.column) }
    }

    fn float(&self) -> f64 {
        unsafe { ffi::sqlite3_column_double(self.raw, self.column) }
    }

    /// Text or blob bytes (valid until the statement steps again).
    fn bytes(&self) -> &[u8] {
        unsafe {
            let kind = self.kind();
            let data: *const u8 = if kind == ffi::SQLITE_BLOB {
                ffi::sqlite3_column_blob(self.raw, self.column).cast()
            } else {
                ffi::sqlite3_column_text(self.raw, self.column).cast()
            };
            let len = ffi::sqlite3_column_bytes(self.raw, self.column);
            if data.is_null() || len <= 0 {
                &[]
            } else {
                std::slice::from_raw_parts(data, len as usize)
            }
        }
    }

    fn text(&self) -> Result<&str, DecodeError> {
        std::str::from_utf8(self.bytes()).map_err(|e| DecodeError(e.to_string()))
    }
}

impl<'de> de::Deserializer<'de> for ValueDe {
    type Error = DecodeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        match self.kind() {
            ffi::SQLITE_NULL => visitor.visit_none(),
            ffi::SQLITE_INTEGER => visitor.visit_i64(self.int()),
            ffi::SQLITE_FLOAT => visitor.visit_f64(self.float()),
            ffi::SQLITE_BLOB => visitor.visit_bytes(self.bytes()),
            _ => visitor.visit_str(self.text()?),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        if self.kind() == ffi::SQLITE_NULL {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    /// SQLite's booleans are integers.
    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        match self.kind() {
            ffi::SQLITE_INTEGER => visitor.visit_bool(self.int() != 0),
            _ => self.deserialize_any(visitor),
        }
    }

    /// A blob (or text, as sqlx reads either into one) as a sequence of bytes (`Vec<u8>`).
    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        match self.kind() {
            ffi::SQLITE_BLOB | ffi::SQLITE_TEXT => visitor.visit_seq(
                de::value::SeqDeserializer::new(self.bytes().iter().copied()),
            ),
            _ => self.deserialize_any(visitor),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct newtype_struct tuple tuple_struct map struct enum identifier
    }
}

#[cfg(test)]
mod tests {
    use sqlx::Connection;

    use super::*;

    #[derive(Debug, PartialEq, sqlx::FromRow, serde::Deserialize)]
    struct Sample {
        id: i64,
        name: String,
        note: Option<String>,
        flag: bool,
        maybe_flag: Option<bool>,
        data: Option<Vec<u8>>,
    }

    /// What the writer and the readers decode is what sqlx decodes, value for value (NULLs,
    /// booleans as integers, blobs, text JSON must not touch), and a constraint failure is the
    /// error sqlx gives (kind and extended code), so conflicts classify the same.
    #[tokio::test]
    async fn direct_statements_read_and_fail_as_sqlx_does() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("d.db");
        let url = format!("sqlite://{}?mode=rwc", path.display());
        let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
        sqlx::query("pragma journal_mode = wal")
            .execute(&mut conn)
            .await
            .unwrap();
        sqlx::query(
            "create table samples (id integer primary key, name text not null unique, \
             note text, flag boolean not null, maybe_flag boolean, data blob)",
        )
        .execute(&mut conn)
        .await
        .unwrap();
        let rows = [
            (1, "plain", None, true, None, Some(vec![0u8, 255, 7])),
            (
                2,
                "quote \" and \u{1} é 日本",
                Some("n"),
                false,
                Some(true),
                None,
            ),
        ];
        let inserted = with_direct(&mut conn, async |d| {
            let mut changed = 0;
            for (id, name, note, flag, maybe_flag, data) in rows.clone() {
                let args = [
                    Arg::from(id as i64),
                    Arg::from(name),
                    Arg::from(note),
                    Arg::from(flag),
                    Arg::from(maybe_flag),
                    Arg::from(data),
                ];
                changed += d
                    .run(
                        "insert into samples values ($1, $2, $3, $4, $5, $6)",
                        &args,
                        |_| Ok(true),
                    )
                    .unwrap();
            }
            let duplicate = d.run(
                "insert into samples (id, name, flag) values (3, $1, 0)",
                &[Arg::from("plain")],
                |_| Ok(true),
            );
            let mut read = Vec::new();
            d.run("select * from samples order by id", &[], |c| {
                read.push(c.row::<Sample>()?);
                Ok(true)
            })
            .unwrap();
            (changed, duplicate, read)
        })
        .await
        .unwrap();
        let (changed, duplicate, direct_rows) = inserted;
        assert_eq!(changed, 2);
        let Err(sqlx::Error::Database(e)) = duplicate else {
            panic!("a duplicate name must fail: {duplicate:?}");
        };
        assert!(e.is_unique_violation(), "{e}");
        assert_eq!(e.code().as_deref(), Some("2067"));
        let sqlx_rows: Vec<Sample> = sqlx::query_as("select * from samples order by id")
            .fetch_all(&mut conn)
            .await
            .unwrap();
        assert_eq!(direct_rows, sqlx_rows);
        assert_eq!(direct_rows[0].data.as_deref(), Some(&[0u8, 255, 7][..]));

        let readers = Readers::open(&path, 2, std::time::Duration::from_secs(1)).unwrap();
        let mut names = Vec::new();
        let read = readers.read(
            "select name from samples where id = $1",
            &[Arg::from(2i64)],
            |c| {
                names.push(c.first::<String>()?);
                Ok(true)
            },
        );
        assert!(matches!(read, Some(Ok(0))), "{read:?}");
        assert_eq!(names, [rows[1].1]);
        // Anything that may write goes to the pool.
        assert!(
            readers
                .read("delete from samples", &[], |_| Ok(true))
                .is_none()
        );
        assert!(
            readers
                .read("with x as (select 1) delete from samples", &[], |_| Ok(
                    true
                ))
                .is_none()
        );
        readers.close();
        assert!(readers.read("select 1", &[], |_| Ok(true)).is_none());
    }
}
