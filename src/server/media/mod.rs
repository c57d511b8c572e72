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
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use self::blobs::BlobStore;
use super::config::Config;
use super::limits::{client, release};
use crate::error::ChatError;
use crate::protocol::UserId;

/// What the media routes share: the blob store and the bounds on work in
/// progress.
pub struct MediaService {
    pub blobs: Arc<dyn BlobStore>,
    /// Image decodes at once (each runs on the blocking pool).
    pub thumbnails: Arc<Semaphore>,
    uploads: Arc<Semaphore>,
    uploads_by: Arc<Mutex<HashMap<Uploader, usize>>>,
    per_user: usize,
    per_address: usize,
}

/// Whose uploads in progress are counted: a user's, and an address's (so
/// that guests made by the dozen from one address cannot hold every slot).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Uploader {
    User(UserId),
    Address(IpAddr),
}

impl MediaService {
    pub fn new(blobs: Arc<dyn BlobStore>, config: &Config) -> MediaService {
        MediaService {
            blobs,
            thumbnails: Arc::new(Semaphore::new(config.thumbnail_workers)),
            uploads: Arc::new(Semaphore::new(config.uploads_total)),
            uploads_by: Arc::default(),
            per_user: config.uploads_per_user,
            per_address: config.uploads_per_address,
        }
    }

    /// A place for one more upload by `user` from `address`, or
    /// `too_many_uploads`.
    pub fn admit(&self, user: UserId, address: Option<IpAddr>) -> Result<UploadSlot, ChatError> {
        let permit = Arc::clone(&self.uploads).try_acquire_owned().map_err(|_| ChatError::TooManyUploads)?;
        let mut counts = self.uploads_by.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut uploaders = vec![(Uploader::User(user), self.per_user)];
        uploaders.extend(address.map(|address| (Uploader::Address(client(address)), self.per_address)));
        if uploaders.iter().any(|(who, max)| counts.get(who).copied().unwrap_or(0) >= *max) {
            return Err(ChatError::TooManyUploads);
        }
        for (who, _) in &uploaders {
            *counts.entry(*who).or_default() += 1;
        }
        let uploaders = uploaders.into_iter().map(|(who, _)| who).collect();
        Ok(UploadSlot { _permit: permit, uploaders, counts: Arc::clone(&self.uploads_by) })
    }
}

/// Held for the length of one upload; gives its places back when dropped.
pub struct UploadSlot {
    _permit: OwnedSemaphorePermit,
    uploaders: Vec<Uploader>,
    counts: Arc<Mutex<HashMap<Uploader, usize>>>,
}

impl Drop for UploadSlot {
    fn drop(&mut self) {
        let mut counts = self.counts.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        for who in &self.uploaders {
            release(&mut counts, who);
        }
    }
}
