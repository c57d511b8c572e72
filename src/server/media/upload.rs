//! `POST /api/uploads?name=…`: the file itself is the request body. It is
//! streamed to a staging file while being hashed and size-checked (never
//! held in memory whole), typed by its first bytes, previewed if it is an
//! image, and then recorded and moved in. The answer is the [`Media`] a
//! message can then carry. Nothing of a refused or interrupted upload
//! stays behind.

use std::sync::Arc;
use std::time::Duration;

use futures::{Stream, StreamExt};
use rand::RngCore;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use super::blobs::Staged;
use super::sniff::{extensions, sniff, HEAD_BYTES};
use super::thumbnail::{self, Thumbnail};
use super::MediaService;
use crate::error::ChatError;
use crate::protocol::{human_size, is_invisible_format, Media, MediaKind, UserId, MAX_FILE_NAME_CHARS};
use crate::server::clock::now_ms;
use crate::server::failure::internal;
use crate::server::metrics;
use crate::server::store::{MediaStore, NewUpload};

/// After refusing a body half-way, read (and drop) at most this much more
/// of it, for at most [`DRAIN_TIME`], so the client is still listening
/// when the answer comes instead of seeing a reset connection.
const DRAIN_BYTES: u64 = 4 * 1024 * 1024;
const DRAIN_TIME: Duration = Duration::from_secs(2);

/// An upload arriving: whose it is and what the request says of it.
pub struct Incoming<'a> {
    pub owner: UserId,
    /// The file name the uploader gave.
    pub name: &'a str,
    /// The `Content-Type` the uploader claimed.
    pub claimed: Option<&'a str>,
    /// The `Content-Length`, if given.
    pub declared: Option<u64>,
}

/// Receives one upload whose owner may upload (checked by the caller, which
/// holds their [`super::UploadSlot`]): streams, types, previews, records and
/// moves it in; at most `max` bytes.
pub async fn receive(
    media: &MediaService,
    store: &dyn MediaStore,
    max: u64,
    incoming: Incoming<'_>,
    stream: &mut (impl Stream<Item = Result<axum::body::Bytes, ChatError>> + Unpin),
) -> Result<Media, ChatError> {
    let Incoming { owner, name, claimed, declared } = incoming;
    let too_large = || ChatError::FileTooLarge { limit: human_size(max) };
    if declared.is_some_and(|length| length > max) {
        return Err(too_large());
    }

    let staged = Staged::new(media.blobs.staging_path());
    let mut file = tokio::fs::File::create(staged.path()).await.map_err(internal)?;
    let mut hasher = Sha256::new();
    let mut head = Vec::with_capacity(HEAD_BYTES);
    let mut mime = None;
    let mut size: u64 = 0;
    let received = async {
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            size += chunk.len() as u64;
            if size > max {
                return Err(too_large());
            }
            if mime.is_none() {
                let wanted = HEAD_BYTES - head.len();
                head.extend_from_slice(&chunk[..chunk.len().min(wanted)]);
                if head.len() == HEAD_BYTES {
                    mime = Some(sniff(&head, claimed).ok_or(ChatError::UnsupportedFile)?);
                }
            }
            hasher.update(&chunk);
            file.write_all(&chunk).await.map_err(internal)?;
        }
        if size == 0 {
            return Err(ChatError::InvalidPayload("the file is empty".into()));
        }
        let mime = match mime {
            Some(mime) => mime,
            None => sniff(&head, claimed).ok_or(ChatError::UnsupportedFile)?,
        };
        // The answer promises the file is stored: it reaches the disk first.
        file.sync_all().await.map_err(internal)?;
        Ok(mime)
    };
    let mime = match received.await {
        Ok(mime) => mime,
        Err(error) => {
            drop(file);
            staged.discard().await;
            return Err(error);
        }
    };
    drop(file);
    let sha256 = hex::encode(hasher.finalize());
    let kind = MediaKind::of_mime(mime);

    // A preview for images; bytes seen before keep theirs.
    let mut preview = None;
    let (mut width, mut height, mut thumb_mime) = (None, None, None);
    if kind == MediaKind::Image {
        let known = store.blob(&sha256).await?;
        match known {
            Some(known) if known.thumb_mime.is_some() && media.blobs.has_thumbnail(&sha256).await => {
                (width, height) = (known.width, known.height);
                thumb_mime = known.thumb_mime;
            }
            _ => match make_thumbnail(media, staged.path().to_owned()).await {
                Ok(thumb) => {
                    (width, height, thumb_mime) = (Some(thumb.width), Some(thumb.height), Some(thumb.mime.to_owned()));
                    preview = Some(thumb.bytes);
                }
                Err(error) => {
                    staged.discard().await;
                    return Err(error);
                }
            },
        }
    }

    let id = new_upload_id();
    let name = clean_file_name(name, mime);
    let upload = NewUpload {
        id: &id,
        sha256: &sha256,
        owner,
        name: &name,
        mime,
        size,
        width,
        height,
        thumb_mime: thumb_mime.as_deref(),
        at: now_ms(),
    };
    // Recorded first, then moved in: see `Store::remove_blob` for why this
    // order is safe against the orphan sweep.
    if let Err(error) = store.insert_upload(upload).await {
        staged.discard().await;
        return Err(error.into());
    }
    metrics::uploaded(size);
    // The sweep may have taken the preview of these bytes since it was
    // found on disk: make it again then.
    if preview.is_none() && thumb_mime.is_some() && !media.blobs.has_thumbnail(&sha256).await {
        match make_thumbnail(media, staged.path().to_owned()).await {
            Ok(thumb) => preview = Some(thumb.bytes),
            Err(error) => tracing::warn!(%error, "a preview could not be made again; the original serves instead"),
        }
    }
    if let Some(bytes) = preview {
        let staged_preview = Staged::new(media.blobs.staging_path());
        tokio::fs::write(staged_preview.path(), bytes).await.map_err(internal)?;
        media.blobs.put_thumbnail(&sha256, staged_preview.path()).await.map_err(internal)?;
        staged_preview.disarm();
    }
    media.blobs.put(&sha256, staged.path()).await.map_err(internal)?;
    staged.disarm();
    Ok(Media { id, name, mime: mime.to_owned(), kind, size, width, height })
}

/// Decodes on the blocking pool, a bounded number at a time, so a burst
/// of big images waits its turn instead of starving chat traffic.
async fn make_thumbnail(media: &MediaService, path: std::path::PathBuf) -> Result<Thumbnail, ChatError> {
    // The permit goes with the decode: if the client hangs up, the decode
    // still runs to its end, and still counts.
    let permit = Arc::clone(&media.thumbnails).acquire_owned().await.map_err(internal)?;
    let decode = move || {
        let made = thumbnail::make(&path);
        drop(permit);
        made
    };
    match tokio::task::spawn_blocking(decode).await {
        Ok(Ok(thumb)) => Ok(thumb),
        Ok(Err(error)) => {
            tracing::info!(%error, "an uploaded image could not be decoded");
            Err(ChatError::UnreadableImage)
        }
        Err(error) => Err(internal(error)),
    }
}

fn new_upload_id() -> String {
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// The name to show and to download as: the last part of what the client
/// sent (never a path), without control or invisible characters, at most
/// [`MAX_FILE_NAME_CHARS`], and ending in an extension that fits the type
/// found in the bytes, so a saved file opens as what it is (never as the
/// `.html` a sender named it).
pub fn clean_file_name(name: &str, mime: &str) -> String {
    let fitting = extensions(mime);
    let last = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let clean: String = last.chars().filter(|c| !c.is_control() && !is_invisible_format(*c)).collect();
    let clean = clean.trim().trim_end_matches('.');
    let (base, extension) = match clean.rsplit_once('.') {
        Some((base, extension)) if fitting.contains(&extension.to_ascii_lowercase().as_str()) => (base, extension),
        _ => (clean, fitting.first().copied().unwrap_or("bin")),
    };
    let room = MAX_FILE_NAME_CHARS.saturating_sub(extension.chars().count() + 1);
    let base: String = base.trim().chars().take(room).collect();
    let base = if base.is_empty() { "file".to_owned() } else { base };
    format!("{base}.{extension}")
}

/// Reads and drops what is left of a refused body, within bounds.
pub async fn drain<E>(stream: &mut (impl Stream<Item = Result<axum::body::Bytes, E>> + Unpin)) {
    let mut left = DRAIN_BYTES;
    let _ = tokio::time::timeout(DRAIN_TIME, async {
        while let Some(Ok(chunk)) = stream.next().await {
            left = left.saturating_sub(chunk.len() as u64);
            if left == 0 {
                break;
            }
        }
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_names_not_paths() {
        assert_eq!(clean_file_name("../../etc/passwd", "application/pdf"), "passwd.pdf");
        assert_eq!(clean_file_name("C:\\Users\\me\\cat.png", "image/png"), "cat.png");
        assert_eq!(clean_file_name("a\u{0}b\nc.png", "image/png"), "abc.png");
        assert_eq!(clean_file_name("", "image/png"), "file.png");
        assert_eq!(clean_file_name("..", "audio/webm"), "file.webm");
        assert_eq!(clean_file_name("Photo.JPEG", "image/jpeg"), "Photo.JPEG");
        assert_eq!(clean_file_name("invoice.html", "application/pdf"), "invoice.html.pdf");
        assert_eq!(clean_file_name("photo\u{202E}gnp.exe", "image/png"), "photognp.exe.png");
        let long = clean_file_name(&format!("{}.png", "x".repeat(500)), "image/png");
        assert_eq!(long.chars().count(), MAX_FILE_NAME_CHARS);
        assert!(long.ends_with("x.png"));
        assert_eq!(clean_file_name(&"y".repeat(500), "image/gif").chars().count(), MAX_FILE_NAME_CHARS);
    }
}
