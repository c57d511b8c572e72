//! Forgetting what nobody sent: an upload no message took within the grace
//! period (`RTCA_MEDIA_GRACE_SECS`) is deleted, and so are the bytes no
//! upload refers to any more. Runs in the background for the server's life.

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;

use super::blobs::BlobStore;
use crate::server::clock::now_ms;
use crate::server::store::{MediaStore, Store, StoreResult};

/// Blobs removed per pass at most; the next pass takes the rest.
const BLOBS_PER_PASS: usize = 500;

/// Sweeps every quarter of the grace period (between 1 s and 1 h).
pub async fn run(store: Arc<dyn Store>, blobs: Arc<dyn BlobStore>, grace: Duration) {
    let every = (grace / 4).clamp(Duration::from_secs(1), Duration::from_secs(3600));
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        match sweep_once(&*store, &blobs, grace).await {
            Ok((0, 0)) => {}
            Ok((uploads, blobs)) => tracing::info!(uploads, blobs, "removed unsent uploads"),
            Err(error) => tracing::warn!(%error, "the media sweep failed; it will try again"),
        }
    }
}

/// One pass: returns how many uploads and blobs went.
pub async fn sweep_once(
    store: &dyn MediaStore,
    blobs: &Arc<dyn BlobStore>,
    grace: Duration,
) -> StoreResult<(u64, usize)> {
    let grace = i64::try_from(grace.as_millis()).unwrap_or(i64::MAX);
    let cutoff = now_ms().saturating_sub(grace);
    let uploads = store.delete_unlinked_uploads(cutoff).await?;
    let mut removed = 0;
    for sha256 in store.unused_blobs(cutoff, BLOBS_PER_PASS).await? {
        let remove = {
            let (blobs, sha256) = (Arc::clone(blobs), sha256.clone());
            move || -> BoxFuture<'static, std::io::Result<()>> {
                let (blobs, sha256) = (Arc::clone(&blobs), sha256.clone());
                Box::pin(async move { blobs.remove(&sha256).await })
            }
        };
        if store.remove_blob(&sha256, cutoff, &remove).await? {
            removed += 1;
        }
    }
    Ok((uploads, removed))
}
