//! Store failures. The domain maps them to Twilio errors, since only it knows what a clash means.

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A UNIQUE index refused the write (the constraint text names the index).
    #[error("unique constraint violated: {0}")]
    Conflict(String),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Turns a unique violation into `Conflict`, keeping every other error as it is.
pub fn classify(err: sqlx::Error) -> StoreError {
    match &err {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StoreError::Conflict(db.message().to_owned())
        }
        _ => StoreError::Db(err),
    }
}

impl StoreError {
    /// A fault of the storage rather than of the request: SQLite's BUSY (lock wait exhausted),
    /// READONLY, IOERR, FULL or CANTOPEN, or an I/O error.
    pub fn is_storage_fault(&self) -> bool {
        match self {
            StoreError::Db(sqlx::Error::Database(db)) => db
                .code()
                .and_then(|code| code.parse::<i32>().ok())
                .is_some_and(|code| matches!(code & 0xff, 5 | 8 | 10 | 13 | 14)),
            StoreError::Db(sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut) => true,
            _ => false,
        }
    }
}

impl From<StoreError> for crate::error::Error {
    fn from(err: StoreError) -> Self {
        if err.is_storage_fault() {
            crate::error::Error::Unavailable(err.into())
        } else {
            crate::error::Error::Internal(err.into())
        }
    }
}
