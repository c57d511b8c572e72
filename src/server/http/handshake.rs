//! Engine.IO sessions as HTTP sees them.
//!
//! - New sessions, per address. A handshake (a Socket.IO request without a
//!   `sid`) makes socketioxide keep a session until its CONNECT comes or
//!   `RTCA_CONNECT_TIMEOUT_MS` passes; the connection caps count sockets
//!   only after CONNECT. This bounds the sessions one address can keep
//!   waiting: about the rate's burst, plus its rate times the timeout.
//! - The backlog of a session on long-polling (`delivery::backlog`): given
//!   at its handshake, emptied by its polling responses or its upgraded
//!   connection, and, once over its budget, the end of its requests.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::server::delivery::backlog::Backlog;
use crate::server::delivery::wire::Peer;
use crate::server::socket::SOCKET_PATH;
use crate::server::state::AppState;

/// A query parameter of a request's address.
fn parameter<'a>(request: &'a Request, name: &str) -> Option<&'a str> {
    let query = request.uri().query().unwrap_or_default();
    query.split('&').find_map(|pair| pair.strip_prefix(name).and_then(|rest| rest.strip_prefix('=')))
}

/// Refuses a new Engine.IO session past its address's rate (`429`).
pub async fn limit_handshakes(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let new_session = request.uri().path().starts_with(SOCKET_PATH) && parameter(&request, "sid").is_none();
    if new_session {
        let address = request.extensions().get::<ConnectInfo<Peer>>().map(|ConnectInfo(peer)| peer.addr.ip());
        if let Err(refused) = state.limits.address_handshakes(address) {
            tracing::debug!(?address, "refused a handshake: too many from this address");
            return super::too_many_requests(refused);
        }
    }
    next.run(request).await
}

/// The longest open packet read back for its `sid`; socketioxide's is
/// about 120 bytes.
const OPEN_PACKET_MAX: usize = 4096;

/// Gives a session that starts on long-polling its backlog, and keeps it
/// up to date (see `delivery::backlog`): a polling response's body is sent
/// bytes; a WebSocket upgrade carries them from then on; a session over
/// its budget is refused (`400`) whatever it asks, so its client
/// reconnects and resumes.
pub async fn track_backlogs(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    if !request.uri().path().starts_with(SOCKET_PATH) {
        return next.run(request).await;
    }
    let polling = parameter(&request, "transport") == Some("polling");
    let Some(sid) = parameter(&request, "sid").map(str::to_owned) else {
        if !polling {
            // A WebSocket from the start: `wire`'s budget covers it.
            return next.run(request).await;
        }
        let backlog = Backlog::new(state.config.outbound_bytes);
        // socketioxide keeps the handshake's request parts for the socket.
        request.extensions_mut().insert(Arc::clone(&backlog));
        let (parts, body) = next.run(request).await.into_parts();
        if !parts.status.is_success() {
            return Response::from_parts(parts, body);
        }
        let Ok(open) = axum::body::to_bytes(body, OPEN_PACKET_MAX).await else {
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        };
        if let Some(sid) = opened_sid(&open) {
            state.backlogs.register(sid, &backlog);
        }
        return Response::from_parts(parts, Body::from(open));
    };
    let Some(backlog) = state.backlogs.find(&sid) else {
        return next.run(request).await;
    };
    if backlog.is_over() {
        return (StatusCode::BAD_REQUEST, "this session was sent more than it collected: connect again")
            .into_response();
    }
    if !polling {
        if let Some(ConnectInfo(peer)) = request.extensions().get::<ConnectInfo<Peer>>() {
            backlog.upgraded_to(&peer.wire);
        }
        return next.run(request).await;
    }
    if request.method() != Method::GET {
        return next.run(request).await;
    }
    let (parts, body) = next.run(request).await.into_parts();
    // socketioxide built the body whole (at most its largest payload, or
    // one packet): read back, it is counted as it leaves.
    match axum::body::to_bytes(body, usize::MAX).await {
        Ok(sent) => {
            backlog.sent(sent.len());
            Response::from_parts(parts, Body::from(sent))
        }
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// The session id an Engine.IO open packet (`0{"sid":…}`) names.
fn opened_sid(open: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Open {
        sid: String,
    }
    let json = open.strip_prefix(b"0")?;
    serde_json::from_slice::<Open>(json).ok().map(|open| open.sid)
}

#[cfg(test)]
mod tests {
    use super::opened_sid;

    #[test]
    fn the_open_packet_names_the_session() {
        let open = br#"0{"sid":"AbC-123","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":65536}"#;
        assert_eq!(opened_sid(open).as_deref(), Some("AbC-123"));
        assert_eq!(opened_sid(b"40"), None);
        assert_eq!(opened_sid(b""), None);
    }
}
