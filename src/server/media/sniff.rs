//! What a file really is, read from its first bytes. The name and the
//! `Content-Type` a client claims are never trusted for the type: an HTML
//! page renamed `cat.png` must not come back as something a browser would
//! render. Only the types listed here are accepted; everything else (HTML,
//! SVG, scripts, archives) is refused.

/// How many leading bytes [`sniff`] needs to decide.
pub const HEAD_BYTES: usize = 64;

/// The MIME type of a file starting with `head`, if it is one we accept.
/// `claimed` (the uploader's `Content-Type`) only picks between the audio
/// and video flavours of one container (a WebM voice message is
/// `audio/webm`), never the container itself.
pub fn sniff(head: &[u8], claimed: Option<&str>) -> Option<&'static str> {
    let audio = claimed.is_some_and(|c| c.trim().to_ascii_lowercase().starts_with("audio/"));
    let at = |offset: usize, magic: &[u8]| head.get(offset..offset + magic.len()) == Some(magic);
    if at(0, b"\x89PNG\r\n\x1a\n") {
        return Some("image/png");
    }
    if at(0, b"\xff\xd8\xff") {
        return Some("image/jpeg");
    }
    if at(0, b"GIF87a") || at(0, b"GIF89a") {
        return Some("image/gif");
    }
    if at(0, b"RIFF") && at(8, b"WEBP") {
        return Some("image/webp");
    }
    if at(0, b"RIFF") && at(8, b"WAVE") {
        return Some("audio/wav");
    }
    if at(0, b"fLaC") {
        return Some("audio/flac");
    }
    if at(0, b"ID3") || (head.len() >= 2 && head[0] == 0xff && matches!(head[1], 0xfb | 0xf3 | 0xf2 | 0xfa)) {
        return Some("audio/mpeg");
    }
    if at(0, b"OggS") {
        return Some(if audio || !contains(head, b"theora") { "audio/ogg" } else { "video/ogg" });
    }
    // EBML; WebM names its doc type near the start. Other Matroska files
    // do not play in browsers, so they are not accepted.
    if at(0, b"\x1a\x45\xdf\xa3") && contains(head, b"webm") {
        return Some(if audio { "audio/webm" } else { "video/webm" });
    }
    // ISO base media (MP4, M4A, QuickTime): a `ftyp` box first. HEIF and
    // AVIF photos use the same box; browsers show neither as video, and
    // previews cannot be made of them, so they are not accepted.
    if at(4, b"ftyp") {
        let brand = head.get(8..12).unwrap_or_default();
        if [b"heic", b"heix", b"hevc", b"hevx", b"mif1", b"msf1", b"avif", b"avis"].iter().any(|b| brand == *b) {
            return None;
        }
        return Some(match head.get(8..12) {
            Some(b"M4A ") | Some(b"M4B ") => "audio/mp4",
            Some(b"qt  ") => "video/quicktime",
            _ if audio => "audio/mp4",
            _ => "video/mp4",
        });
    }
    if at(0, b"%PDF-") {
        return Some("application/pdf");
    }
    None
}

/// The file name extensions that fit a type [`sniff`] gives, the usual
/// one first.
pub fn extensions(mime: &str) -> &'static [&'static str] {
    match mime {
        "image/png" => &["png"],
        "image/jpeg" => &["jpg", "jpeg"],
        "image/gif" => &["gif"],
        "image/webp" => &["webp"],
        "audio/wav" => &["wav"],
        "audio/flac" => &["flac"],
        "audio/mpeg" => &["mp3"],
        "audio/ogg" => &["ogg", "oga", "opus"],
        "video/ogg" => &["ogv", "ogg"],
        "audio/webm" | "video/webm" => &["webm"],
        "audio/mp4" => &["m4a", "mp4"],
        "video/mp4" => &["mp4", "m4v"],
        "video/quicktime" => &["mov"],
        "application/pdf" => &["pdf"],
        _ => &["bin"],
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|window| window == needle)
}

/// Whether a browser may show this type in the page (images, audio, video);
/// anything else is served only as a download.
pub fn shown_inline(mime: &str) -> bool {
    mime.starts_with("image/") || mime.starts_with("audio/") || mime.starts_with("video/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knows_common_media_by_their_bytes() {
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n....", None), Some("image/png"));
        assert_eq!(sniff(b"\xff\xd8\xff\xe0..JFIF", Some("text/html")), Some("image/jpeg"));
        assert_eq!(sniff(b"GIF89a..", None), Some("image/gif"));
        assert_eq!(sniff(b"RIFF\x10\0\0\0WEBPVP8 ", None), Some("image/webp"));
        assert_eq!(sniff(b"RIFF\x10\0\0\0WAVEfmt ", None), Some("audio/wav"));
        assert_eq!(sniff(b"ID3\x04\0", None), Some("audio/mpeg"));
        assert_eq!(sniff(b"OggS\0\x02....\x01vorbis", None), Some("audio/ogg"));
        assert_eq!(sniff(b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm", None), Some("video/webm"));
        assert_eq!(
            sniff(b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm", Some("audio/webm;codecs=opus")),
            Some("audio/webm")
        );
        assert_eq!(sniff(b"\0\0\0\x18ftypisom", None), Some("video/mp4"));
        assert_eq!(sniff(b"\0\0\0\x18ftypM4A ", None), Some("audio/mp4"));
        assert_eq!(sniff(b"%PDF-1.7\n", None), Some("application/pdf"));
    }

    #[test]
    fn refuses_what_a_browser_could_run_whatever_it_claims() {
        assert_eq!(sniff(b"<!DOCTYPE html><script>alert(1)</script>", Some("image/png")), None);
        assert_eq!(sniff(b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>", Some("image/svg+xml")), None);
        assert_eq!(sniff(b"PK\x03\x04", Some("application/zip")), None);
        assert_eq!(sniff(b"\0\0\0\x18ftypheic", None), None, "an iPhone photo is no video");
        assert_eq!(sniff(b"\0\0\0\x18ftypavif", None), None);
        assert_eq!(sniff(b"", Some("image/png")), None);
        assert_eq!(sniff(b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x88matroska", None), None);
        assert!(!shown_inline("application/pdf"));
        assert!(shown_inline("video/webm"));
    }
}
