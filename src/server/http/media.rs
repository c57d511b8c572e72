//! The routes of shared files: `POST /api/uploads?name=…` (the file itself
//! is the body) and `GET /media/{id}` and `/media/{id}/thumb`. A file is
//! readable by exactly the people who may read the message carrying it,
//! and by its uploader until one does; anyone else gets the same 404 as
//! for an id that never existed. The work itself is `server::media`'s.

use std::net::IpAddr;

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Path, Query, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures::{Stream, StreamExt};
use serde::Deserialize;

use super::body::BodyTimeout;

use crate::error::ChatError;
use crate::protocol::{Media, UPLOAD_PATH};
use crate::server::chat::access::may_read;
use crate::server::chat::identity::http_user;
use crate::server::delivery::wire::Peer;
use crate::server::media::serve::{disposition, file};
use crate::server::media::sniff::shown_inline;
use crate::server::media::upload::{drain, receive, Incoming};
use crate::server::state::AppState;
use crate::server::store::UploadRecord;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(UPLOAD_PATH, post(upload))
        .route("/media/{id}", get(original))
        .route("/media/{id}/thumb", get(thumbnail))
}

#[derive(Deserialize)]
struct UploadQuery {
    #[serde(default)]
    name: Option<String>,
}

async fn upload(
    State(state): State<AppState>,
    query: Result<Query<UploadQuery>, axum::extract::rejection::QueryRejection>,
    ConnectInfo(peer): ConnectInfo<Peer>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let address = Some(peer.addr.ip());
    let name = query.ok().and_then(|Query(q)| q.name).unwrap_or_default();
    // A body that stalled or trickled (`body::paced_body`) is a 408.
    let mut stream = body.into_data_stream().map(|chunk| {
        chunk.map_err(|error| match BodyTimeout::caused(&error) {
            true => ChatError::RequestTimeout,
            false => ChatError::InvalidPayload("the upload was interrupted".into()),
        })
    });
    match accept_upload(&state, &headers, &name, address, &mut stream).await {
        Ok(media) => (StatusCode::CREATED, Json(media)).into_response(),
        Err(error) => {
            // Read off the rest of what was refused, so the client hears why
            // instead of a reset connection.
            if matches!(
                error,
                ChatError::FileTooLarge { .. }
                    | ChatError::UnsupportedFile
                    | ChatError::TooManyUploads
                    | ChatError::RateLimited
                    | ChatError::NotOnline
            ) {
                drain(&mut stream).await;
            }
            let mut response = MediaError(error).into_response();
            response.headers_mut().insert(header::CONNECTION, header::HeaderValue::from_static("close"));
            response
        }
    }
}

/// Who is uploading, whether they may now, then the upload itself.
async fn accept_upload(
    state: &AppState,
    headers: &HeaderMap,
    name: &str,
    address: Option<IpAddr>,
    stream: &mut (impl Stream<Item = Result<Bytes, ChatError>> + Unpin),
) -> Result<Media, ChatError> {
    let user = http_user(state, headers).await?.ok_or(ChatError::NotOnline)?;
    state.limits.user_uploads(user.id)?;
    let _slot = state.media.admit(user.id, address)?;
    let header = |name| headers.get(name).and_then(|v| v.to_str().ok());
    let incoming = Incoming {
        owner: user.id,
        name,
        claimed: header(header::CONTENT_TYPE),
        declared: header(header::CONTENT_LENGTH).and_then(|v| v.parse().ok()),
    };
    receive(&state.media, &*state.store, state.config.max_upload_bytes, incoming, stream).await
}

async fn original(State(state): State<AppState>, Path(id): Path<String>, request: Request) -> Response {
    let served = async {
        let upload = readable_upload(&state, &id, request.headers()).await?;
        let path = state.media.blobs.locate(&upload.sha256);
        let mime = upload.media.mime;
        let disposition = disposition(&upload.media.name, shown_inline(&mime));
        file(path, &mime, &disposition, request).await
    };
    served.await.unwrap_or_else(|error| MediaError(error).into_response())
}

/// An image's preview. If the preview is missing (it is made at upload,
/// so only a failure there does this), the original serves instead.
async fn thumbnail(State(state): State<AppState>, Path(id): Path<String>, request: Request) -> Response {
    let served = async {
        let upload = readable_upload(&state, &id, request.headers()).await?;
        if !upload.media.mime.starts_with("image/") {
            return Err(ChatError::NoSuchMedia);
        }
        let disposition = disposition(&upload.media.name, true);
        let blobs = &state.media.blobs;
        match upload.thumb_mime.as_deref() {
            Some(mime) if blobs.has_thumbnail(&upload.sha256).await => {
                file(blobs.locate_thumbnail(&upload.sha256), mime, &disposition, request).await
            }
            _ => file(blobs.locate(&upload.sha256), &upload.media.mime, &disposition, request).await,
        }
    };
    served.await.unwrap_or_else(|error| MediaError(error).into_response())
}

/// The upload `id`, if the requester may read it.
async fn readable_upload(state: &AppState, id: &str, headers: &HeaderMap) -> Result<UploadRecord, ChatError> {
    if id.is_empty() || id.len() > 64 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ChatError::NoSuchMedia);
    }
    let upload = state.store.upload(id).await?.ok_or(ChatError::NoSuchMedia)?;
    let viewer = http_user(state, headers).await?.map(|user| user.id);
    let allowed = match &upload.carried_in {
        // Not sent yet: only its uploader (for the preview before sending).
        None => viewer == Some(upload.owner),
        Some(conversation) => may_read(state, viewer, conversation).await,
    };
    if allowed {
        Ok(upload)
    } else {
        Err(ChatError::NoSuchMedia)
    }
}

/// A refused media request: the status that fits, and `{code, message}`.
struct MediaError(ChatError);

impl IntoResponse for MediaError {
    fn into_response(self) -> Response {
        super::refusal(self.0)
    }
}
