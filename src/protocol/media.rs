//! Files in the contract: where they go up, how a message describes one,
//! and the sizes both sides show. The server's side is `server::media`.

use serde::{Deserialize, Serialize};

/// Longest file name kept for an upload, in characters.
pub const MAX_FILE_NAME_CHARS: usize = 200;
/// Longest edge of an image preview, in pixels.
pub const THUMBNAIL_EDGE: u32 = 1200;
/// Where files are uploaded (`POST`, the raw file as the body, `?name=`).
pub const UPLOAD_PATH: &str = "/api/uploads";

/// What kind of player a file gets.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[serde(rename_all = "lowercase")]
pub enum MediaKind {
    Image,
    Audio,
    Video,
    /// Anything else allowed (PDF): a download card.
    File,
}

impl MediaKind {
    pub fn of_mime(mime: &str) -> MediaKind {
        match mime.split('/').next() {
            Some("image") => MediaKind::Image,
            Some("audio") => MediaKind::Audio,
            Some("video") => MediaKind::Video,
            _ => MediaKind::File,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            MediaKind::Image => "image",
            MediaKind::Audio => "audio",
            MediaKind::Video => "video",
            MediaKind::File => "file",
        }
    }
}

/// An uploaded file as messages carry it: the answer to an upload, and the
/// `media` of a delivered message. The bytes are at [`Media::url`].
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Media {
    pub id: String,
    /// The file name the uploader gave (display only; never a path).
    pub name: String,
    /// The type found in the bytes, not the one claimed.
    pub mime: String,
    pub kind: MediaKind,
    pub size: u64,
    /// Pixel size of an image, upright (after its EXIF orientation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
}

impl Media {
    pub fn url(&self) -> String {
        format!("/media/{}", self.id)
    }

    /// An image's server-made preview (long edge at most 1200 px).
    pub fn thumbnail_url(&self) -> String {
        format!("/media/{}/thumb", self.id)
    }
}

/// The long edge of an image's preview in a message, in CSS pixels (22rem).
pub const PREVIEW_EDGE: u32 = 352;

/// The box an image's preview shows in: the long edge at most
/// [`PREVIEW_EDGE`], the aspect kept. The page reserves this box before
/// the preview loads, so nothing below it moves when it does.
pub fn preview_size(width: Option<u32>, height: Option<u32>) -> (u32, u32) {
    const MAX_EDGE: u32 = PREVIEW_EDGE;
    match (width, height) {
        (Some(w), Some(h)) if w > 0 && h > 0 => {
            let long = w.max(h);
            if long <= MAX_EDGE {
                (w, h)
            } else {
                let scale = |side: u32| {
                    ((u64::from(side) * u64::from(MAX_EDGE) + u64::from(long) / 2) / u64::from(long)).max(1) as u32
                };
                (scale(w), scale(h))
            }
        }
        _ => (320, 240),
    }
}

/// A byte count as people read it: "812 B", "3.4 KB", "25.0 MB".
///
/// Integer tenths, rounded half up: formatting a float would pull Rust's
/// float printer (about 18 KB) into the browser bundle for this one label.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if bytes < 1000 {
        return format!("{bytes} B");
    }
    let bytes = u128::from(bytes);
    let mut divisor: u128 = 1000;
    let mut unit = 0;
    while bytes >= divisor * 1000 && unit + 1 < UNITS.len() {
        divisor *= 1000;
        unit += 1;
    }
    // At most u64::MAX / 10^11: printed as u64, not u128, whose printer is
    // another 1.5 KB of WASM.
    let tenths = ((bytes * 10 + divisor / 2) / divisor) as u64;
    format!("{}.{} {}", tenths / 10, tenths % 10, UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_people_read_them() {
        assert_eq!(human_size(812), "812 B");
        assert_eq!(human_size(3_400), "3.4 KB");
        assert_eq!(human_size(26_214_400), "26.2 MB");
        assert_eq!(human_size(999), "999 B");
        assert_eq!(human_size(1000), "1.0 KB");
        assert_eq!(human_size(1049), "1.0 KB");
        assert_eq!(human_size(1050), "1.1 KB");
        assert_eq!(human_size(999_999), "1000.0 KB");
        assert_eq!(human_size(1_000_000), "1.0 MB");
        assert_eq!(human_size(u64::MAX), "18446744.1 TB");
        assert_eq!(MediaKind::of_mime("audio/webm"), MediaKind::Audio);
        assert_eq!(MediaKind::of_mime("application/pdf"), MediaKind::File);
    }

    #[test]
    fn previews_keep_the_aspect_within_the_long_edge() {
        assert_eq!(preview_size(Some(300), Some(200)), (300, 200), "never enlarged");
        assert_eq!(preview_size(Some(900), Some(600)), (352, 235));
        assert_eq!(preview_size(Some(2400), Some(600)), (352, 88));
        assert_eq!(preview_size(Some(200), Some(700)), (101, 352));
        assert_eq!(preview_size(None, None), (320, 240));
    }
}
