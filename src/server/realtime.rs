//! The Socket.IO endpoint: transport limits, the connect middleware that
//! identifies a socket, and the table of event handlers.
//!
//! Event handlers are registered in the connect middleware, which runs
//! before socketioxide sends the namespace CONNECT: a client that emits right
//! after connecting (the prototype's does) can otherwise lose that event.

use std::sync::{Arc, Mutex};

use serde::Deserialize;
use socketioxide::extract::{SocketRef, State, TryData};
use socketioxide::handler::ConnectHandler;
use socketioxide::layer::SocketIoLayer;
use socketioxide::SocketIo;

use super::handlers;
use super::identity::{now_ms, token_from_headers, user_for_token};
use super::state::AppState;
use crate::error::ChatError;
use crate::protocol::{event, PresenceChange, PresenceList, SessionInfo, User, UserId, LOBBY};

/// The Socket.IO layer to mount on the router, and the handle used to emit.
pub fn layer(state: AppState) -> (SocketIoLayer, SocketIo) {
    let max_packet = state.config.max_packet_bytes;
    let (layer, io) = SocketIo::builder()
        // Bound what one client can make us buffer, on both transports.
        .max_payload(max_packet as u64)
        .ws_max_message_size(max_packet)
        .ws_max_frame_size(max_packet)
        .max_buffer_size(state.config.socket_buffer)
        .with_state(state)
        .build_layer();
    io.ns("/", on_connect.with(identify));
    (layer, io)
}

/// Who a socket speaks for. Shared by all of the socket's handlers (socket
/// extensions hand out clones), empty until `online` or a session restores it.
#[derive(Clone, Default)]
pub struct Seat(Arc<Mutex<Option<User>>>);

impl Seat {
    pub fn user(&self) -> Option<User> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Seats `user` unless someone already sits here; returns whether it did.
    pub fn take_if_empty(&self, user: &User) -> bool {
        let mut seat = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if seat.is_some() {
            return false;
        }
        *seat = Some(user.clone());
        true
    }

    pub fn replace(&self, user: User) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(user);
    }
}

/// The socket.io room holding every socket of one user.
pub fn user_room(id: UserId) -> String {
    format!("user:{id}")
}

/// The handshake `auth` payload.
#[derive(Deserialize, Default)]
struct HandshakeAuth {
    #[serde(default)]
    token: Option<String>,
}

/// Set by [`identify`] when this socket brought its user online.
#[derive(Clone, Copy)]
struct CameOnline;

/// Connect middleware: restores the identity from `auth: {token}` or the
/// session cookie, counts the connection, and registers the handlers.
async fn identify(
    s: SocketRef,
    TryData(auth): TryData<HandshakeAuth>,
    State(state): State<AppState>,
) -> Result<(), ChatError> {
    let auth_token = auth.ok().and_then(|a| a.token);
    let explicit = auth_token.is_some();
    let token = auth_token.or_else(|| token_from_headers(&s.req_parts().headers));
    let seat = Seat::default();
    if let Some(token) = token {
        match user_for_token(&state, &token)
            .await
            .map_err(super::identity::internal)?
        {
            Some(user) => {
                if state.presence.connect(&user, false)? {
                    s.extensions.insert(CameOnline);
                }
                s.join(user_room(user.id));
                seat.replace(user);
            }
            // A stale cookie just means a visitor; a token the client chose
            // to present must be right.
            None if explicit => return Err(ChatError::InvalidSession),
            None => {}
        }
    }
    s.extensions.insert(seat);
    s.join(LOBBY);

    s.on(event::ONLINE, handlers::online);
    s.on(event::MESSAGE, handlers::message);
    s.on(event::SECRET, handlers::secret);
    s.on_fallback(handlers::unknown_event);
    s.on_disconnect(on_disconnect);
    Ok(())
}

/// Runs after CONNECT went out: tells the socket who it is and who is here.
async fn on_connect(s: SocketRef, io: SocketIo, State(state): State<AppState>) {
    let user = s.extensions.get::<Seat>().and_then(|seat| seat.user());
    if let (Some(user), Some(CameOnline)) = (&user, s.extensions.remove::<CameOnline>()) {
        announce_online(&io, user).await;
    }
    send_or_log(&s, event::SESSION, &SessionInfo { user });
    send_or_log(
        &s,
        event::PRESENCE,
        &PresenceList {
            users: state.presence.users(),
        },
    );
}

/// Counts the connection out; the user's last one broadcasts `offline`.
async fn on_disconnect(s: SocketRef, State(state): State<AppState>) {
    let Some(user) = s.extensions.get::<Seat>().and_then(|seat| seat.user()) else {
        return;
    };
    if let Some(user) = state.presence.disconnect(user.id) {
        let change = PresenceChange { user, at: now_ms() };
        if let Err(error) = s.broadcast().emit(event::OFFLINE, &change).await {
            tracing::debug!(?error, "offline broadcast reached only some sockets");
        }
    }
}

/// Tells everyone (the newcomer's sockets included) that `user` is online.
pub async fn announce_online(io: &SocketIo, user: &User) {
    let change = PresenceChange {
        user: user.clone(),
        at: now_ms(),
    };
    if let Err(error) = io.emit(event::ONLINE, &change).await {
        tracing::debug!(?error, "online broadcast reached only some sockets");
    }
}

/// Emits to one socket. A failure means the socket is gone or too slow to
/// keep up; neither is the sender's problem, so it is only logged.
pub fn send_or_log<T: serde::Serialize + ?Sized>(s: &SocketRef, event: &str, data: &T) {
    if let Err(error) = s.emit(event.to_owned(), data) {
        tracing::debug!(sid = %s.id, %event, ?error, "emit failed");
    }
}
