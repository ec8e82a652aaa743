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

impl From<StoreError> for crate::error::Error {
    fn from(err: StoreError) -> Self {
        crate::error::Error::Internal(err.into())
    }
}
