//! Where the bytes of shared files live, by content: a file is named by
//! its SHA-256, so identical files are stored once. [`BlobStore`] is the
//! narrow interface; [`LocalBlobs`] (a directory on the local disk) is the
//! embedded default. An S3-compatible store can implement the same trait
//! (staging stays local; `locate` would then be a local cache, or the
//! routes would redirect to a signed URL).
//!
//! Uploads are written to the staging directory first and moved in whole,
//! so a reader never sees a half-written file.

use std::io;
use std::path::{Path, PathBuf};

use async_trait::async_trait;

#[async_trait]
pub trait BlobStore: Send + Sync + 'static {
    /// Where an upload in progress is written: a new, unique path.
    fn staging_path(&self) -> PathBuf;
    /// Moves the finished file `staged` in as the bytes of `sha256`
    /// (replacing an identical copy, if any).
    async fn put(&self, sha256: &str, staged: &Path) -> io::Result<()>;
    async fn put_thumbnail(&self, sha256: &str, staged: &Path) -> io::Result<()>;
    /// The local file holding the bytes of `sha256`, or its preview.
    fn locate(&self, sha256: &str) -> PathBuf;
    fn locate_thumbnail(&self, sha256: &str) -> PathBuf;
    async fn has_thumbnail(&self, sha256: &str) -> bool;
    /// Deletes the bytes of `sha256` and its preview (missing is fine).
    async fn remove(&self, sha256: &str) -> io::Result<()>;
}

/// Blobs in a directory: `blobs/ab/abcdef…`, `thumbs/ab/abcdef…` and
/// `staging/` for uploads in progress.
pub struct LocalBlobs {
    root: PathBuf,
}

/// A staged file untouched this long is what a crash left: an upload in
/// progress writes to its file far more often (a body that idles is cut
/// off after `RTCA_BODY_IDLE_MS`).
const STALE_STAGED: std::time::Duration = std::time::Duration::from_secs(3600);

impl LocalBlobs {
    /// Opens (creating) the directory and clears its staging area of what
    /// a crash left. Only stale files go: several nodes may share the
    /// directory (docs/deployment.md), and another's uploads in progress
    /// stay.
    pub async fn open(root: &Path) -> io::Result<LocalBlobs> {
        for dir in ["blobs", "thumbs", "staging"] {
            tokio::fs::create_dir_all(root.join(dir)).await?;
        }
        let mut staged = tokio::fs::read_dir(root.join("staging")).await?;
        while let Some(entry) = staged.next_entry().await? {
            let Ok(metadata) = entry.metadata().await else { continue };
            let untouched = metadata.modified().ok().and_then(|at| at.elapsed().ok()).unwrap_or_default();
            if metadata.is_file() && untouched > STALE_STAGED {
                if let Err(error) = tokio::fs::remove_file(entry.path()).await {
                    tracing::warn!(%error, path = %entry.path().display(), "could not remove a stale staged upload");
                }
            }
        }
        Ok(LocalBlobs { root: root.to_owned() })
    }

    fn sharded(&self, kind: &str, sha256: &str) -> PathBuf {
        // Only hex reaches here (we compute it), but never build a path
        // from anything else.
        let name: String = sha256.chars().filter(char::is_ascii_hexdigit).collect();
        let shard = name.get(..2).unwrap_or("00");
        self.root.join(kind).join(shard).join(&name)
    }

    async fn move_in(&self, staged: &Path, target: PathBuf) -> io::Result<()> {
        if let Some(parent) = target.parent() {
            tokio::fs::create_dir_all(parent).await?;
        }
        tokio::fs::rename(staged, target).await
    }
}

#[async_trait]
impl BlobStore for LocalBlobs {
    fn staging_path(&self) -> PathBuf {
        let mut bytes = [0u8; 16];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
        self.root.join("staging").join(hex::encode(bytes))
    }

    async fn put(&self, sha256: &str, staged: &Path) -> io::Result<()> {
        self.move_in(staged, self.locate(sha256)).await
    }

    async fn put_thumbnail(&self, sha256: &str, staged: &Path) -> io::Result<()> {
        self.move_in(staged, self.locate_thumbnail(sha256)).await
    }

    fn locate(&self, sha256: &str) -> PathBuf {
        self.sharded("blobs", sha256)
    }

    fn locate_thumbnail(&self, sha256: &str) -> PathBuf {
        self.sharded("thumbs", sha256)
    }

    async fn has_thumbnail(&self, sha256: &str) -> bool {
        tokio::fs::try_exists(self.locate_thumbnail(sha256)).await.unwrap_or(false)
    }

    async fn remove(&self, sha256: &str) -> io::Result<()> {
        for path in [self.locate(sha256), self.locate_thumbnail(sha256)] {
            match tokio::fs::remove_file(&path).await {
                Err(error) if error.kind() != io::ErrorKind::NotFound => return Err(error),
                _ => {}
            }
        }
        Ok(())
    }
}

/// Deletes a staged file when dropped, unless it was moved in: an upload
/// that fails or is cancelled half-way leaves nothing behind.
pub struct Staged {
    path: PathBuf,
    armed: bool,
}

impl Staged {
    pub fn new(path: PathBuf) -> Staged {
        Staged { path, armed: true }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file was moved in; nothing to clean up.
    pub fn disarm(mut self) {
        self.armed = false;
    }

    /// Deletes the file now (on a refused upload), before answering.
    pub async fn discard(mut self) {
        self.armed = false;
        let _ = tokio::fs::remove_file(&self.path).await;
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let path = std::mem::take(&mut self.path);
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move {
                    let _ = tokio::fs::remove_file(path).await;
                });
            }
            Err(_) => {
                let _ = std::fs::remove_file(path);
            }
        }
    }
}
