//! A socket's arrival and departure: who it is, what it may do, which
//! Socket.IO rooms it joins, its greeting, and presence when it goes.

use axum::extract::ConnectInfo;
use socketioxide::extract::{SocketRef, State, TryData};

use super::context::{seat, SessionToken};
use crate::error::ChatError;
use crate::protocol::{event, HandshakeAuth, SessionInfo, BATCHED_PRESENCE, LOBBY};
use crate::server::chat::identity::{hash_token, session_cookie, token_from_headers, user_for_token};
use crate::server::clock::now_ms;
use crate::server::delivery::{self, wire::Peer};
use crate::server::limits::ConnectionLimits;
use crate::server::socket::keys;
use crate::server::socket::seat::Seat;
use crate::server::state::AppState;

/// Connect middleware: restores the identity from `auth: {token}` or the
/// session cookie, joins the socket to its Socket.IO rooms and registers
/// the handlers. It does not count the connection in presence yet: if the
/// client leaves while this runs, the socket never joins the namespace and
/// no disconnect handler would undo it.
pub async fn identify(
    s: SocketRef,
    TryData(auth): TryData<HandshakeAuth>,
    State(state): State<AppState>,
) -> Result<(), ChatError> {
    let auth = auth.unwrap_or_default();
    let batched_presence = auth.presence.as_deref() == Some(BATCHED_PRESENCE);
    let auth_token = auth.token;
    let explicit = auth_token.is_some();
    let token = auth_token.or_else(|| token_from_headers(&s.req_parts().headers, session_cookie(&state.config)));
    let (user, session) = match token {
        Some(token) => match user_for_token(&state, &token).await? {
            Some(user) => {
                let session = keys::session(&hash_token(&token));
                s.extensions.insert(SessionToken(token));
                (Some(user), Some(session))
            }
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
        s.join(keys::user(user.id));
        if let Some(session) = session {
            s.join(session);
        }
        for room in state.store.memberships(user.id).await? {
            s.join(keys::chat_room(&room));
        }
        seat.restore(user);
    }
    s.extensions.insert(seat);
    s.join(keys::chat_room(LOBBY));
    // Before any list of this socket's is taken (see `presence_feed`).
    s.join(if batched_presence { keys::PRESENCE_BATCHED } else { keys::PRESENCE_EACH });
    super::on(&s);
    Ok(())
}

/// Runs after CONNECT went out: counts a restored user online, then tells
/// the socket who it is and who is here.
pub async fn connected(s: SocketRef, State(state): State<AppState>) {
    let Ok(seat) = seat(&s) else {
        // Said in the log already; a socket nobody can account for goes.
        let _ = s.disconnect();
        return;
    };
    let user = seat.user();
    delivery::to_socket(&s, event::SESSION, &SessionInfo { user: user.clone() });
    if let Some(user) = user.filter(|_| seat.count(&state.presence)) {
        state.presence_feed.online(&user);
    }
    state.presence_feed.snapshot_for(&s);
}

/// Counts the connection out; the user's last one broadcasts `offline`,
/// and is when they were last seen.
pub async fn disconnected(s: SocketRef, State(state): State<AppState>) {
    let Ok(seat) = seat(&s) else { return };
    if let Some(user) = seat.leave(&state.presence) {
        state.last_seen.note(user.id, now_ms());
        state.presence_feed.offline(user);
    }
}
