//! `GET /media/{id}` and `/media/{id}/thumb`: a file, to exactly the people
//! who may read the message carrying it, and to its uploader until one
//! does. Anyone else gets the same 404 as for an id that never existed.
//!
//! Range requests (`206`, `416`) and conditional requests come from
//! tower-http's `ServeFile`; this module adds the headers that make serving
//! user files safe: the sniffed type with `nosniff`, `attachment` for
//! anything that is not plain media, a sandboxing CSP, and long private
//! caching (the bytes behind an id never change).

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use tower::ServiceExt;
use tower_http::services::ServeFile;

use super::sniff::shown_inline;
use super::MediaError;
use crate::error::ChatError;
use crate::server::identity::http_user;
use crate::server::rooms::check_can_read;
use crate::server::state::AppState;
use crate::server::store::UploadRecord;

pub async fn original(State(state): State<AppState>, Path(id): Path<String>, request: Request) -> Response {
    let headers = request.headers().clone();
    match readable_upload(&state, &id, &headers).await {
        Ok(upload) => {
            let path = state.media.blobs.locate(&upload.sha256);
            let mime = upload.media.mime.clone();
            let disposition = disposition(&upload.media.name, shown_inline(&mime));
            serve(path, &mime, &disposition, request).await
        }
        Err(error) => error.into_response(),
    }
}

/// An image's preview. If the preview is missing (it is made at upload,
/// so only a failure there does this), the original serves instead.
pub async fn thumbnail(State(state): State<AppState>, Path(id): Path<String>, request: Request) -> Response {
    let headers = request.headers().clone();
    let upload = match readable_upload(&state, &id, &headers).await {
        Ok(upload) if upload.media.mime.starts_with("image/") => upload,
        Ok(_) => return MediaError(ChatError::NoSuchMedia).into_response(),
        Err(error) => return error.into_response(),
    };
    let disposition = disposition(&upload.media.name, true);
    match upload.thumb_mime.as_deref() {
        Some(mime) if state.media.blobs.has_thumbnail(&upload.sha256).await => {
            serve(state.media.blobs.locate_thumbnail(&upload.sha256), mime, &disposition, request).await
        }
        _ => serve(state.media.blobs.locate(&upload.sha256), &upload.media.mime, &disposition, request).await,
    }
}

/// The upload `id`, if the requester may read it.
async fn readable_upload(state: &AppState, id: &str, headers: &HeaderMap) -> Result<UploadRecord, MediaError> {
    if id.is_empty() || id.len() > 64 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ChatError::NoSuchMedia.into());
    }
    let upload =
        state.store.upload(id).await.map_err(crate::server::identity::internal)?.ok_or(ChatError::NoSuchMedia)?;
    let viewer = http_user(state, headers).await?.map(|user| user.id);
    let allowed = match &upload.carrier {
        // Not sent yet: only its uploader (for the preview before sending).
        None => viewer == Some(upload.owner),
        Some(carrier) if carrier.to.is_some() => viewer.is_some_and(|v| v == carrier.from || Some(v) == carrier.to),
        Some(carrier) => check_can_read(state, viewer, &carrier.room).await.is_ok(),
    };
    if allowed {
        Ok(upload)
    } else {
        Err(ChatError::NoSuchMedia.into())
    }
}

/// `inline` or `attachment`, with the name both as plain ASCII and, for
/// everything else, RFC 5987 UTF-8.
fn disposition(name: &str, inline: bool) -> String {
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

async fn serve(path: std::path::PathBuf, mime: &str, disposition: &str, request: Request) -> Response {
    let Ok(parsed) = mime.parse::<mime::Mime>() else {
        return MediaError(ChatError::Internal).into_response();
    };
    let response = match ServeFile::new_with_mime(path, &parsed).oneshot(request).await {
        Ok(response) => response.map(Body::new),
        Err(error) => match error {},
    };
    if response.status() == StatusCode::NOT_FOUND {
        tracing::error!("a recorded upload has no bytes on disk");
        return MediaError(ChatError::NoSuchMedia).into_response();
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
    response
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
