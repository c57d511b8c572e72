//! Shared files: images, audio, video and PDFs. The file goes up over HTTP
//! ([`upload`]), and only a small message naming it goes through the socket
//! (`message`/`secret` with `media`), which links the two in one
//! transaction. Bytes are stored once per content ([`blobs`]), typed by
//! their first bytes ([`sniff`]), previewed off the async runtime
//! ([`thumbnail`]), served with Range and strict headers ([`serve`]), and
//! forgotten when no message took them ([`sweep`]).
//!
//! These are the services; the routes, and who may read which file, are
//! `http::media`'s.

pub mod blobs;
pub mod serve;
pub mod sniff;
pub mod sweep;
pub mod thumbnail;
pub mod upload;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use self::blobs::BlobStore;
use super::config::Config;
use crate::error::ChatError;
use crate::protocol::UserId;

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
