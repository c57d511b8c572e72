//! How a failure of the server's own (storage, a file, a worker) reaches
//! the log and the client: the log gets the whole chain of causes and the
//! line that hit it; the client gets `internal` and nothing more, or
//! `unavailable` when the database could not be reached (try again soon).
//!
//! Storage errors convert by themselves, so `?` does the work:
//! `let user = state.store.user(id).await?;` in a function returning
//! `Result<_, ChatError>` (or `ApiError`) logs and answers `internal`.

use std::error::Error;
use std::fmt::Write;
use std::panic::Location;

use super::store::StoreError;
use crate::error::{ApiError, ChatError};

impl From<StoreError> for ChatError {
    #[track_caller]
    fn from(error: StoreError) -> ChatError {
        if error.is_unreachable() {
            tracing::warn!(error = %causes(&error), at = %Location::caller(), "the database cannot be reached");
            return ChatError::Unavailable;
        }
        logged(&error, Location::caller())
    }
}

impl From<StoreError> for ApiError {
    #[track_caller]
    fn from(error: StoreError) -> ApiError {
        ChatError::from(error).into()
    }
}

/// Any other failure the client can do nothing about: logged with its
/// causes, answered `internal`.
#[track_caller]
pub fn internal(error: impl Error) -> ChatError {
    logged(&error, Location::caller())
}

fn logged(error: &dyn Error, at: &Location<'_>) -> ChatError {
    tracing::error!(error = %causes(error), at = %at, "request failed");
    ChatError::Internal
}

/// `error: its cause: the cause's cause…`
pub fn causes(error: &dyn Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let _ = write!(text, ": {cause}");
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_line_keeps_every_cause() {
        let io = std::io::Error::other("disk on fire");
        let error = StoreError::backend(io);
        assert_eq!(causes(&error), "storage failed: disk on fire");
        assert_eq!(ChatError::from(error), ChatError::Internal);
    }
}
