//! Serving a stored file's bytes (who may is `http::media`'s to decide).
//!
//! Range requests (`206`, `416`) and conditional requests come from
//! tower-http's `ServeFile`; this module adds the headers that make serving
//! user files safe: the sniffed type with `nosniff`, `attachment` for
//! anything that is not plain media, a sandboxing CSP, and long private
//! caching (the bytes behind an id never change).

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use tower::ServiceExt;
use tower_http::services::ServeFile;

use crate::error::ChatError;

/// `inline` or `attachment`, with the name both as plain ASCII and, for
/// everything else, RFC 5987 UTF-8.
pub fn disposition(name: &str, inline: bool) -> String {
    let ascii: String = name
        .chars()
        .map(|c| if (c.is_ascii_graphic() && c != '"' && c != '\\') || c == ' ' { c } else { '_' })
        .collect();
    let mut encoded = String::new();
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    let kind = if inline { "inline" } else { "attachment" };
    format!("{kind}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

/// The file at `path`, answering `request` (Range included), as `mime`,
/// with `disposition` and the safe headers above.
pub async fn file(
    path: std::path::PathBuf,
    mime: &str,
    disposition: &str,
    request: Request,
) -> Result<Response, ChatError> {
    let parsed = mime.parse::<mime::Mime>().map_err(crate::server::failure::internal)?;
    let response = match ServeFile::new_with_mime(path, &parsed).oneshot(request).await {
        Ok(response) => response.map(Body::new),
        Err(error) => match error {},
    };
    if response.status() == StatusCode::NOT_FOUND {
        tracing::error!("a recorded upload has no bytes on disk");
        return Err(ChatError::NoSuchMedia);
    }
    let mut response = response;
    let headers = response.headers_mut();
    let fixed = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::CACHE_CONTROL, "private, max-age=31536000, immutable"),
        (header::CONTENT_SECURITY_POLICY, "default-src 'none'; img-src 'self'; media-src 'self'; sandbox"),
        (header::HeaderName::from_static("cross-origin-resource-policy"), "same-origin"),
    ];
    for (name, value) in fixed {
        headers.insert(name, HeaderValue::from_static(value));
    }
    if let Ok(value) = HeaderValue::from_str(disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dispositions_quote_safely() {
        assert_eq!(disposition("cat.png", true), "inline; filename=\"cat.png\"; filename*=UTF-8''cat.png");
        assert_eq!(
            disposition("a \"b\".pdf", false),
            "attachment; filename=\"a _b_.pdf\"; filename*=UTF-8''a%20%22b%22.pdf"
        );
        assert_eq!(disposition("é.png", true), "inline; filename=\"_.png\"; filename*=UTF-8''%C3%A9.png");
    }
}
