//! Rooms: `rooms` (the list), `create_room`, `join_room`, `leave_room` and
//! `invite`. The rules are `chat::rooms`'.

use socketioxide::extract::{SocketRef, State, TryData};

use super::context::{payload, seat_user, signed_in, throttle, Responder};
use crate::protocol::{CreateRoomRequest, InviteRequest, RoomList, RoomRequest};
use crate::server::chat::rooms;
use crate::server::limits::Action;
use crate::server::state::AppState;

/// `rooms`: the public rooms and my private ones, with counts.
pub async fn list(s: SocketRef, State(state): State<AppState>, reply: Responder) {
    let result = async {
        throttle(&s, Action::Read)?;
        let viewer = seat_user(&s)?.map(|u| u.id);
        Ok(RoomList { rooms: rooms::list_for(&state, viewer).await? })
    };
    reply.send(result.await);
}

/// `create_room {name, private?}`: creates the room with me as its first
/// member.
pub async fn create(
    s: SocketRef,
    TryData(request): TryData<CreateRoomRequest>,
    State(state): State<AppState>,
    reply: Responder,
) {
    let result = async {
        throttle(&s, Action::Other)?;
        let user = signed_in(&s)?;
        let request = payload(request)?;
        rooms::create(&state, &user, &request.name, request.private).await
    };
    reply.send(result.await);
}

/// `join_room {room}`: joins a public room (or one I am already in).
pub async fn join(
    s: SocketRef,
    TryData(request): TryData<RoomRequest>,
    State(state): State<AppState>,
    reply: Responder,
) {
    let result = async {
        throttle(&s, Action::Other)?;
        let user = signed_in(&s)?;
        rooms::join(&state, &user, &payload(request)?.room).await
    };
    reply.send(result.await);
}

/// `leave_room {room}`: stops being a member.
pub async fn leave(
    s: SocketRef,
    TryData(request): TryData<RoomRequest>,
    State(state): State<AppState>,
    reply: Responder,
) {
    let result = async {
        throttle(&s, Action::Other)?;
        let user = signed_in(&s)?;
        rooms::leave(&state, &user, &payload(request)?.room).await
    };
    reply.send(result.await);
}

/// `invite {room, user}`: a member of a private room adds someone to it.
pub async fn invite(
    s: SocketRef,
    TryData(request): TryData<InviteRequest>,
    State(state): State<AppState>,
    reply: Responder,
) {
    let result = async {
        throttle(&s, Action::Other)?;
        let user = signed_in(&s)?;
        let request = payload(request)?;
        rooms::invite(&state, &user, &request.room, request.user).await
    };
    reply.send(result.await);
}
