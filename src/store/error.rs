//! Store failures. The domain maps them to Twilio errors, since only it knows what a clash means.

use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A UNIQUE index refused the write (the constraint text names the index).
    #[error("unique constraint violated: {0}")]
    Conflict(String),
    /// The group commit's batch failed as a whole (its BEGIN, a savepoint or its COMMIT): every
    /// write of the batch gets the same cause, so it is shared.
    #[error("group commit failed")]
    Batch(#[source] Arc<sqlx::Error>),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    /// A group-commit write that found it must not proceed (the reason, for its caller): its
    /// savepoint is rolled back like any failed write's.
    #[error("write refused: {0}")]
    Refused(&'static str),
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
    /// A fault of the storage rather than of the request (see [`is_storage_fault`]).
    pub fn is_storage_fault(&self) -> bool {
        match self {
            StoreError::Db(err) => is_storage_fault(err),
            StoreError::Batch(err) => is_storage_fault(err),
            StoreError::Conflict(_) | StoreError::Refused(_) => false,
        }
    }

    /// A serialization failure or deadlock: the transaction did nothing and may run again.
    pub fn is_retryable(&self) -> bool {
        match self {
            StoreError::Db(err) => super::dialect::is_retryable(err),
            StoreError::Batch(err) => super::dialect::is_retryable(err),
            StoreError::Conflict(_) | StoreError::Refused(_) => false,
        }
    }
}

pub use super::dialect::is_storage_fault;

impl From<StoreError> for crate::error::Error {
    fn from(err: StoreError) -> Self {
        // A transaction aborted as a deadlock or serialization failure past its retries is
        // temporary too: 503, the client may try again.
        if err.is_storage_fault() || err.is_retryable() {
            crate::error::Error::Unavailable(err.into())
        } else {
            crate::error::Error::Internal(err.into())
        }
    }
}
