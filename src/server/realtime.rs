//! The Socket.IO endpoint: transport limits, the connect middleware that
//! identifies a socket, and the table of event handlers.
//!
//! Event handlers are registered in the connect middleware, which runs
//! before socketioxide sends the namespace CONNECT: a client that emits right
//! after connecting (the prototype's does) can otherwise lose that event.

use axum::extract::ConnectInfo;
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

/// The Socket.IO layer to mount on the router, and the handle used to emit.
pub fn layer(state: AppState) -> (SocketIoLayer, SocketIo) {
    let max_packet = state.config.max_packet_bytes;
    let (layer, io) = SocketIo::builder()
        // Bound what one client can make us buffer, on both transports.
        .max_payload(max_packet as u64)
        .ws_max_message_size(max_packet)
        .ws_max_frame_size(max_packet)
        .max_buffer_size(state.config.socket_buffer)
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

    #[test]
    fn direct_writes_wait_for_the_session_frame_as_encoded() {
        let frame = crate::engine_io::encode_event(event::SESSION, &SessionInfo { user: None }, None).unwrap();
        assert!(frame.as_bytes().starts_with(DIRECT_WRITES_AFTER), "{frame}");
    }
}
