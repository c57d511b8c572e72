//! Image previews: decoded, turned upright by their EXIF orientation,
//! scaled so the long edge is at most [`MAX_EDGE`] and re-encoded, which
//! also drops every bit of metadata (camera, GPS). CPU-heavy and blocking:
//! call it from the blocking pool, through the permits in `MediaService`.

use std::io::Cursor;
use std::path::Path;

use image::codecs::jpeg::JpegEncoder;
use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};

use crate::protocol::THUMBNAIL_EDGE as MAX_EDGE;
/// Largest picture decoded, per side, and the memory one decode may take:
/// a decompression bomb fails instead of taking the server's memory. The
/// decode is the only full-size buffer: the preview is shrunk from it
/// first (an area average, allocating only the preview) and turned upright
/// after, so one preview takes at most this plus a `MAX_EDGE`² image.
const MAX_SIDE: u32 = 16_384;
const MAX_DECODE_BYTES: u64 = 256 * 1024 * 1024;

/// A preview, with the upright size of the original.
#[derive(Debug)]
pub struct Thumbnail {
    pub width: u32,
    pub height: u32,
    pub bytes: Vec<u8>,
    pub mime: &'static str,
}

/// Makes the preview of the image file at `path`.
pub fn make(path: &Path) -> Result<Thumbnail, image::ImageError> {
    let mut reader = ImageReader::open(path)?.with_guessed_format()?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    reader.limits(limits);
    let mut decoder = reader.into_decoder()?;
    let orientation = decoder.orientation()?;
    let picture = DynamicImage::from_decoder(decoder)?;
    let (stored_width, stored_height) = (picture.width(), picture.height());
    // Shrunk, then turned: turning the full picture, or resizing it through
    // a filter, would take another full-size buffer or more.
    let mut preview = if stored_width.max(stored_height) > MAX_EDGE {
        let small = picture.thumbnail(MAX_EDGE, MAX_EDGE);
        drop(picture);
        small
    } else {
        picture
    };
    preview.apply_orientation(orientation);
    let sideways = matches!(
        orientation,
        Orientation::Rotate90 | Orientation::Rotate270 | Orientation::Rotate90FlipH | Orientation::Rotate270FlipH
    );
    let (width, height) = if sideways { (stored_height, stored_width) } else { (stored_width, stored_height) };
    let mut bytes = Vec::new();
    // Photos (no transparency) as JPEG; anything with alpha stays PNG.
    let mime = if preview.color().has_alpha() {
        preview.write_to(&mut Cursor::new(&mut bytes), ImageFormat::Png)?;
        "image/png"
    } else {
        JpegEncoder::new_with_quality(&mut bytes, 85).encode_image(&preview.to_rgb8())?;
        "image/jpeg"
    };
    Ok(Thumbnail { width, height, bytes, mime })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use image::{Rgb, RgbImage, Rgba, RgbaImage};

    #[test]
    fn scales_the_long_edge_and_keeps_the_aspect() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wide.png");
        RgbImage::from_pixel(2400, 600, Rgb([200, 10, 10])).save(&path).unwrap();
        let thumb = make(&path).unwrap();
        assert_eq!((thumb.width, thumb.height), (2400, 600));
        assert_eq!(thumb.mime, "image/jpeg");
        let preview = image::load_from_memory(&thumb.bytes).unwrap();
        assert_eq!((preview.width(), preview.height()), (1200, 300));
    }

    #[test]
    fn keeps_transparency_and_small_sizes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dot.png");
        RgbaImage::from_pixel(30, 20, Rgba([0, 0, 0, 0])).save(&path).unwrap();
        let thumb = make(&path).unwrap();
        assert_eq!(thumb.mime, "image/png");
        let preview = image::load_from_memory(&thumb.bytes).unwrap();
        assert_eq!((preview.width(), preview.height()), (30, 20));
    }

    /// A JPEG of `width` × `height` as stored, in `dir`, with an EXIF
    /// segment right after the start marker: orientation 6, as a phone held
    /// upright writes it (stored sideways, turn 90°).
    fn sideways_photo(dir: &Path, width: u32, height: u32) -> std::path::PathBuf {
        let mut jpeg = Vec::new();
        JpegEncoder::new(&mut jpeg).encode_image(&RgbImage::from_pixel(width, height, Rgb([9, 9, 9]))).unwrap();
        let tiff: &[u8] =
            b"MM\x00\x2a\x00\x00\x00\x08\x00\x01\x01\x12\x00\x03\x00\x00\x00\x01\x00\x06\x00\x00\x00\x00\x00\x00";
        let mut segment = vec![0xff, 0xe1, 0, (2 + 6 + tiff.len()) as u8];
        segment.extend_from_slice(b"Exif\0\0");
        segment.extend_from_slice(tiff);
        jpeg.splice(2..2, segment);
        let path = dir.join(format!("photo-{width}x{height}.jpg"));
        std::fs::write(&path, &jpeg).unwrap();
        path
    }

    #[test]
    fn turns_a_photo_upright_and_drops_its_metadata() {
        let dir = tempfile::tempdir().unwrap();
        let thumb = make(&sideways_photo(dir.path(), 200, 100)).unwrap();
        assert_eq!((thumb.width, thumb.height), (100, 200), "upright size");
        let preview = image::load_from_memory(&thumb.bytes).unwrap();
        assert_eq!((preview.width(), preview.height()), (100, 200));
        assert!(!thumb.bytes.windows(4).any(|w| w == b"Exif"), "metadata is gone");
    }

    /// A big photo stored sideways: its preview is upright and within
    /// bounds, and the size reported is the upright original's.
    #[test]
    fn a_big_sideways_photo_is_shrunk_then_turned() {
        let dir = tempfile::tempdir().unwrap();
        let thumb = make(&sideways_photo(dir.path(), 3000, 1500)).unwrap();
        assert_eq!((thumb.width, thumb.height), (1500, 3000), "upright size of the original");
        let preview = image::load_from_memory(&thumb.bytes).unwrap();
        assert_eq!((preview.width(), preview.height()), (600, 1200));
    }

    #[test]
    fn refuses_what_is_not_an_image() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fake.png");
        std::fs::write(&path, b"\x89PNG\r\n\x1a\nnot really").unwrap();
        assert!(make(&path).is_err());
    }
}
