//! Refuses requests another site's page makes on a user's behalf: every
//! Socket.IO request (cross-site WebSocket hijacking) and every
//! state-changing request such as a server-function POST (cross-site
//! request forgery).

use axum::extract::{Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::server::socket::SOCKET_PATH;
use crate::server::state::AppState;

/// The `Origin`, when present, must be this server's own or on the
/// allow-list; clients outside a browser send none and are let through.
pub async fn check_origin(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let guarded = request.uri().path().starts_with(SOCKET_PATH)
        || !matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if guarded {
        if let Some(origin) = request.headers().get(header::ORIGIN) {
            let host = request.headers().get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or_default();
            let origin = origin.to_str().unwrap_or_default();
            // With a public address, only it: a `Host` that names the
            // server proves nothing under DNS rebinding.
            let own = match &state.config.public_url {
                Some(public) => origin == public,
                None => origin.strip_prefix("http://").or_else(|| origin.strip_prefix("https://")) == Some(host),
            };
            if !own && !state.config.allowed_origins.iter().any(|allowed| allowed == origin) {
                tracing::warn!(%origin, path = %request.uri().path(), "refused a cross-origin request");
                return (StatusCode::FORBIDDEN, "cross-origin requests are not allowed").into_response();
            }
        }
    }
    next.run(request).await
}
