//! Being someone and seeing who is here: `online` (take a name, or change
//! it) and `presence` (the list again).

use socketioxide::extract::{SocketRef, State, TryData};

use super::context::{connection_limits, payload, seat, session_token, throttle, Responder, SessionToken};
use crate::error::ChatError;
use crate::protocol::{validate_name, OnlineAck, OnlineRequest, User};
use crate::server::chat::identity::{hash_token, join_as_guest, rename, renew_session};
use crate::server::limits::Action;
use crate::server::socket::keys;
use crate::server::state::AppState;

/// `online {name}`: become a guest named `name`, or rename oneself.
pub async fn online(
    s: SocketRef,
    TryData(request): TryData<OnlineRequest>,
    State(state): State<AppState>,
    reply: Responder,
) {
    let (result, announce) = match go_online(&s, &state, request).await {
        Ok((ack, announce)) => (Ok(ack), announce),
        Err(error) => (Err(error), None),
    };
    let joined = result.is_ok();
    reply.send(result);
    // After the ack, so that the client hears its own `online` (and then
    // the list) after it (`delivery::direct`).
    if let Some(user) = announce {
        state.presence_feed.online(&user);
    }
    if joined {
        state.presence_feed.snapshot_for(&s);
    }
}

/// The ack, and the user whose `online` everyone is to hear (a newcomer,
/// or a new name), if any.
async fn go_online(
    s: &SocketRef,
    state: &AppState,
    request: Result<OnlineRequest, impl std::fmt::Display>,
) -> Result<(OnlineAck, Option<User>), ChatError> {
    throttle(s, Action::Join)?;
    let request = payload(request)?;
    let seat = seat(s)?;
    if let Some(current) = seat.user() {
        // Already someone: the same name just renews the token; another name
        // is a rename, which everyone sees as an `online` for the same id.
        let name = validate_name(request.name())?;
        let (user, announce) = if name == current.name {
            (current, None)
        } else {
            let renamed = rename(state, &seat, &current, name).await?;
            (renamed.clone(), Some(renamed))
        };
        let token = renew_session(state, &user, session_token(s).as_deref()).await?;
        s.join(keys::session(&hash_token(&token)));
        s.extensions.insert(SessionToken(token.clone()));
        return Ok((OnlineAck { user, token }, announce));
    }

    let limits = connection_limits(s);
    let (user, token) = join_as_guest(state, request.name(), limits.as_ref().and_then(|l| l.address())).await?;
    // Checked again under the seat's lock: the name may have been taken, or
    // the socket closed, while the database worked.
    let came_online = seat.sit(&user, &state.presence)?;
    if let Some(limits) = limits {
        limits.assign_user(user.id);
    }
    s.join(keys::user(user.id));
    s.join(keys::session(&hash_token(&token)));
    s.extensions.insert(SessionToken(token.clone()));
    let announce = came_online.then(|| user.clone());
    Ok((OnlineAck { user, token }, announce))
}

/// `presence` (no payload): the list of everyone online again, as a
/// `presence` event with the next flush, for a client that saw a batch of
/// changes skipped. Acked `{ok: true}` at once.
pub async fn presence(s: SocketRef, State(state): State<AppState>, reply: Responder) {
    let result = throttle(&s, Action::Read);
    let accepted = result.is_ok();
    reply.send(result);
    if accepted {
        state.presence_feed.snapshot_for(&s);
    }
}
