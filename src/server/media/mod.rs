//! Shared files: images, audio, video and PDFs. The file goes up over HTTP
//! ([`upload`]), and only a small message naming it goes through the socket
//! (`message`/`secret` with `media`), which links the two in one
//! transaction. Bytes are stored once per content ([`blobs`]), typed by
//! their first bytes ([`sniff`]), previewed off the async runtime
//! ([`thumbnail`]), served with Range and strict headers to exactly the
//! people who can read the message ([`serve`]), and forgotten when no
//! message took them ([`sweep`]).

pub mod blobs;
pub mod serve;
pub mod sniff;
pub mod sweep;
pub mod thumbnail;
pub mod upload;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use self::blobs::BlobStore;
use super::config::Config;
use super::state::AppState;
use crate::error::{ApiError, ChatError};
use crate::protocol::{UserId, UPLOAD_PATH};

/// The media routes, mounted on the main router.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(UPLOAD_PATH, post(upload::upload))
        .route("/media/{id}", get(serve::original))
        .route("/media/{id}/thumb", get(serve::thumbnail))
}

/// What the media routes share: the blob store and the bounds on work in
/// progress.
pub struct MediaService {
    pub blobs: Arc<dyn BlobStore>,
    /// Image decodes at once (each runs on the blocking pool).
    pub thumbnails: Arc<Semaphore>,
    uploads: Arc<Semaphore>,
    uploads_by_user: Arc<Mutex<HashMap<UserId, usize>>>,
    per_user: usize,
}

impl MediaService {
    pub fn new(blobs: Arc<dyn BlobStore>, config: &Config) -> MediaService {
        MediaService {
            blobs,
            thumbnails: Arc::new(Semaphore::new(config.thumbnail_workers)),
            uploads: Arc::new(Semaphore::new(config.uploads_total)),
            uploads_by_user: Arc::default(),
            per_user: config.uploads_per_user,
        }
    }

    /// A place for one more upload by `user`, or `too_many_uploads`.
    pub fn admit(&self, user: UserId) -> Result<UploadSlot, ChatError> {
        let permit = Arc::clone(&self.uploads).try_acquire_owned().map_err(|_| ChatError::TooManyUploads)?;
        let mut by_user = self.uploads_by_user.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let count = by_user.entry(user).or_default();
        if *count >= self.per_user {
            return Err(ChatError::TooManyUploads);
        }
        *count += 1;
        Ok(UploadSlot { _permit: permit, user, by_user: Arc::clone(&self.uploads_by_user) })
    }
}

/// Held for the length of one upload; gives its place back when dropped.
pub struct UploadSlot {
    _permit: OwnedSemaphorePermit,
    user: UserId,
    by_user: Arc<Mutex<HashMap<UserId, usize>>>,
}

impl Drop for UploadSlot {
    fn drop(&mut self) {
        let mut by_user = self.by_user.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(count) = by_user.get_mut(&self.user) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                by_user.remove(&self.user);
            }
        }
    }
}

/// A refused media request: the status that fits, and `{code, message}`.
pub struct MediaError(pub ChatError);

impl From<ChatError> for MediaError {
    fn from(error: ChatError) -> Self {
        MediaError(error)
    }
}

impl IntoResponse for MediaError {
    fn into_response(self) -> Response {
        let status = match &self.0 {
            ChatError::NotOnline | ChatError::InvalidSession => StatusCode::UNAUTHORIZED,
            ChatError::FileTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ChatError::UnsupportedFile => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ChatError::UnreadableImage => StatusCode::UNPROCESSABLE_ENTITY,
            ChatError::TooManyUploads | ChatError::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            ChatError::NoSuchMedia => StatusCode::NOT_FOUND,
            ChatError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        };
        (status, Json(ApiError::from(self.0))).into_response()
    }
}
