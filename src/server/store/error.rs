//! How storage fails, in terms no backend owns: the backend's own error is
//! kept whole as the cause, for the log. Clients only ever see `internal`
//! (`server::failure`).

use std::sync::Arc;

/// A storage failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database failed or refused; its own error is the source.
    #[error("storage failed")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// A batch of writes failed as a whole (the lock, the disk): every
    /// write in it shares the cause.
    #[error("a batch of writes failed")]
    Batch(#[source] Arc<dyn std::error::Error + Send + Sync>),
    /// File work inside a storage operation (removing a blob's bytes).
    #[error("storage failed on a file")]
    Io(#[from] std::io::Error),
    /// The store was closed (the server is shutting down).
    #[error("the store is closed")]
    Closed,
    /// The database URL names no backend this build has.
    #[error("unsupported database: {0}")]
    Unsupported(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

impl StoreError {
    /// Wraps a backend's own error.
    pub fn backend(error: impl std::error::Error + Send + Sync + 'static) -> StoreError {
        StoreError::Backend(Box::new(error))
    }

    /// The database could not be reached (a broken or refused connection,
    /// none free in time, a server shutting down, starting up or full):
    /// nothing is wrong with the request, and the same request may pass in
    /// a moment.
    pub fn is_unreachable(&self) -> bool {
        // A batch's cause is the store error that failed it: look down the
        // whole chain.
        let mut cause: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(self);
        while let Some(error) = cause {
            let unreachable = match error.downcast_ref::<sqlx::Error>() {
                Some(
                    sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::Tls(_) | sqlx::Error::Protocol(_),
                ) => true,
                // PostgreSQL's own: connection exceptions (class 08), the
                // server shutting down or starting up (57P01–57P03), too
                // many clients (53300).
                Some(sqlx::Error::Database(database)) => database.code().is_some_and(|code| {
                    code.starts_with("08") || matches!(code.as_ref(), "57P01" | "57P02" | "57P03" | "53300")
                }),
                _ => false,
            };
            if unreachable {
                return true;
            }
            cause = error.source();
        }
        false
    }
}

/// sqlx drives both SQL backends' pools.
impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> StoreError {
        StoreError::backend(error)
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(error: sqlx::migrate::MigrateError) -> StoreError {
        StoreError::backend(error)
    }
}
