//! The Socket.IO endpoint: transport limits, the connect middleware that
//! identifies a socket, and the table of event handlers.
//!
//! Event handlers are registered in the connect middleware, which runs
//! before socketioxide sends the namespace CONNECT: a client that emits right
//! after connecting (the prototype's does) can otherwise lose that event.

use axum::extract::{ConnectInfo, OriginalUri, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Uri};
use axum::middleware::Next;
use axum::response::Response;
use socketioxide::extract::{SocketRef, State, TryData};
use socketioxide::handler::ConnectHandler;
use socketioxide::layer::SocketIoLayer;
use socketioxide::operators::BroadcastOperators;
use socketioxide::SocketIo;

use super::identity::{session_room, token_from_headers, user_for_token};
use super::limits::ConnectionLimits;
use super::presence_feed::{BATCHED_ROOM, EACH_ROOM};
use super::seat::Seat;
use super::state::AppState;
use super::wire::Peer;
use super::{handlers, rooms};
use crate::error::ChatError;
use crate::protocol::{event, HandshakeAuth, SessionInfo, UserId, BATCHED_PRESENCE, LOBBY};

/// Where Socket.IO requests arrive (socketioxide's default path).
pub const SOCKET_PATH: &str = "/socket.io";

/// Middleware: a Socket.IO request's head, copied out of its connection's
/// read buffer. socketioxide keeps every socket's handshake request (its
/// headers, URI and extensions) for the socket's life, and hyper parses the
/// head without copying: each header value, and the URI, is a slice of the
/// connection's read buffer (8 to 16 KiB), which lives as long as any slice
/// of it does. With copies, the buffer goes at the upgrade: 16 KiB of the
/// 36 each idle WebSocket held (finding 27).
pub async fn own_request_head(request: Request, next: Next) -> Response {
    if !request.uri().path().starts_with(SOCKET_PATH) {
        return next.run(request).await;
    }
    let (mut head, body) = request.into_parts();
    own_head(&mut head);
    next.run(Request::from_parts(head, body)).await
}

/// Replaces every part of `head` that may share a buffer with a copy: the
/// header values, the URI, and axum's `OriginalUri` (a clone of it).
fn own_head(head: &mut Parts) {
    let mut headers = HeaderMap::with_capacity(head.headers.len());
    for (name, value) in &head.headers {
        // A value hyper parsed is valid, so copying it cannot fail.
        let mut copy = HeaderValue::from_bytes(value.as_bytes()).unwrap_or_else(|_| value.clone());
        copy.set_sensitive(value.is_sensitive());
        headers.append(name.clone(), copy);
    }
    head.headers = headers;
    let copy = |uri: &Uri| uri.to_string().parse().unwrap_or_else(|_| uri.clone());
    head.uri = copy(&head.uri);
    if let Some(OriginalUri(original)) = head.extensions.get_mut::<OriginalUri>() {
        *original = copy(original);
    }
}

/// A WebSocket's read buffer, in bytes (see [`layer`]).
const WS_READ_BUFFER: usize = 1024;

/// The Socket.IO layer to mount on the router, and the handle used to emit.
pub fn layer(state: AppState) -> (SocketIoLayer, SocketIo) {
    let max_packet = state.config.max_packet_bytes;
    let (layer, io) = SocketIo::builder()
        // Bound what one client can make us buffer, on both transports.
        .max_payload(max_packet as u64)
        .ws_max_message_size(max_packet)
        .ws_max_frame_size(max_packet)
        .max_buffer_size(state.config.socket_buffer)
        // Each WebSocket keeps its read buffer for life. A client's frames
        // are small (a ping, an event), and a longer one is read whole
        // anyway: tungstenite grows the buffer to a frame's announced
        // length. 1 KiB instead of the default 4 saves 3 KiB a connection
        // (finding 27).
        .ws_read_buffer_size(WS_READ_BUFFER)
        .ping_interval(state.config.ping_interval)
        .ping_timeout(state.config.ping_timeout)
        .with_state(state)
        .build_layer();
    io.ns("/", on_connect.with(identify));
    (layer, io)
}

/// The default namespace, or `None` once the server is closing. For tasks
/// that outlive requests: `SocketIo`'s shortcuts (`io.to`, `io.get_socket`)
/// panic when the namespace is gone.
pub fn namespace(io: &SocketIo) -> Option<BroadcastOperators> {
    io.of("/")
}

/// The socket.io room holding every socket of one user.
pub fn user_room(id: UserId) -> String {
    format!("user:{id}")
}

/// Connect middleware: restores the identity from `auth: {token}` or the
/// session cookie and registers the handlers. It does not count the
/// connection in presence yet: if the client leaves while this runs, the
/// socket never joins the namespace and no disconnect handler would undo it.
async fn identify(
    s: SocketRef,
    TryData(auth): TryData<HandshakeAuth>,
    State(state): State<AppState>,
) -> Result<(), ChatError> {
    let auth = auth.unwrap_or_default();
    let batched_presence = auth.presence.as_deref() == Some(BATCHED_PRESENCE);
    let auth_token = auth.token;
    let explicit = auth_token.is_some();
    let token = auth_token.or_else(|| token_from_headers(&s.req_parts().headers));
    let (user, session) = match token {
        Some(token) => match user_for_token(&state, &token).await.map_err(super::identity::internal)? {
            Some(user) => (Some(user), Some(session_room(&token))),
            // A stale cookie just means a visitor; a token the client chose
            // to present must be right.
            None if explicit => return Err(ChatError::InvalidSession),
            None => (None, None),
        },
        None => (None, None),
    };
    let address = s.req_parts().extensions.get::<ConnectInfo<Peer>>().map(|info| info.0.addr.ip());
    let slot = state.limits.open_connection(user.as_ref().map(|u| u.id), address)?;
    s.extensions.insert(ConnectionLimits::new(slot, state.limits.settings(), state.config.socket_buffer));
    let seat = Seat::default();
    if let Some(user) = user {
        s.join(user_room(user.id));
        if let Some(session) = session {
            s.join(session);
        }
        rooms::join_memberships(&s, &state, user.id).await?;
        seat.restore(user);
    }
    s.extensions.insert(seat);
    s.join(LOBBY);
    // Before any snapshot of this socket's is taken (see `presence_feed`).
    s.join(if batched_presence { BATCHED_ROOM } else { EACH_ROOM });

    s.on(event::ONLINE, handlers::online);
    s.on(event::MESSAGE, handlers::message);
    s.on(event::SECRET, handlers::secret);
    s.on(event::HISTORY, handlers::history);
    s.on(event::CONVERSATIONS, handlers::conversations);
    s.on(event::PRESENCE, handlers::presence);
    s.on(event::ROOMS, rooms::list);
    s.on(event::CREATE_ROOM, rooms::create);
    s.on(event::JOIN_ROOM, rooms::join);
    s.on(event::LEAVE_ROOM, rooms::leave);
    s.on(event::INVITE, rooms::invite);
    s.on_fallback(handlers::unknown_event);
    s.on_disconnect(on_disconnect);
    Ok(())
}

/// How the `session` event's frame begins. A connection takes direct
/// writes (`server::wire`) only once that frame has gone out through
/// socketioxide's writer: by then so has CONNECT, queued before it, and the
/// client knows who it is before any live message reaches it.
pub const DIRECT_WRITES_AFTER: &[u8] = b"42[\"session\",";

/// Runs after CONNECT went out: counts a restored user online, then tells
/// the socket who it is and who is here.
async fn on_connect(s: SocketRef, State(state): State<AppState>) {
    let seat = s.extensions.get::<Seat>().unwrap_or_default();
    let user = seat.user();
    send_or_log(&s, event::SESSION, &SessionInfo { user: user.clone() });
    if let Some(user) = user.filter(|_| seat.count(&state.presence)) {
        state.presence_feed.online(&user);
    }
    state.presence_feed.snapshot_for(&s);
}

/// Counts the connection out; the user's last one broadcasts `offline`.
async fn on_disconnect(s: SocketRef, State(state): State<AppState>) {
    let Some(seat) = s.extensions.get::<Seat>() else { return };
    if let Some(user) = seat.leave(&state.presence) {
        state.presence_feed.offline(user);
    }
}

/// Emits to one socket. A failure means the socket is gone or too slow to
/// keep up; neither is the sender's problem, so it is only logged.
pub fn send_or_log<T: serde::Serialize + ?Sized>(s: &SocketRef, event: &str, data: &T) {
    if let Err(error) = s.emit(event, data) {
        tracing::debug!(sid = %s.id, %event, ?error, "emit failed");
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// Parsed as hyper parses a request (and routed by axum), the head
    /// holds the whole read buffer; its copy holds none of it.
    #[test]
    fn a_copied_head_lets_the_read_buffer_go() {
        use axum::body::Bytes;
        let buffer = Bytes::from(b"/socket.io/?EIO=4&transport=websocketexample.orgbatched".to_vec());
        let uri = Uri::from_maybe_shared(buffer.slice(..37)).unwrap();
        let (mut head, ()) = axum::http::Request::new(()).into_parts();
        head.headers.insert("host", HeaderValue::from_maybe_shared(buffer.slice(37..48)).unwrap());
        head.headers.append("x-presence", HeaderValue::from_maybe_shared(buffer.slice(48..)).unwrap());
        head.extensions.insert(OriginalUri(uri.clone()));
        head.uri = uri.clone();
        let headers = head.headers.clone();
        drop(uri);

        own_head(&mut head);
        assert_eq!(head.headers, headers);
        assert_eq!(head.uri, "/socket.io/?EIO=4&transport=websocket");
        assert_eq!(head.extensions.get::<OriginalUri>().unwrap().0, head.uri);
        drop(headers);
        assert!(buffer.is_unique(), "the copied head holds none of the buffer");
    }

    #[test]
    fn direct_writes_wait_for_the_session_frame_as_encoded() {
        let frame = crate::engine_io::encode_event(event::SESSION, &SessionInfo { user: None }, None).unwrap();
        assert!(frame.as_bytes().starts_with(DIRECT_WRITES_AFTER), "{frame}");
    }
}
