//! Rooms: `rooms` (the list), `create_room`, `join_room`, `leave_room`,
//! `invite` and `room_members`. The rules are `chat::rooms`'.

use socketioxide::extract::{SocketRef, State, TryData};

use super::context::{connection_limits, payload, seat_user, signed_in, throttle, FirstArg, Responder};
use crate::error::ChatError;
use crate::protocol::{CreateRoomRequest, InviteRequest, RoomInfo, RoomRequest, RoomsRequest, User};
use crate::server::chat::rooms;
use crate::server::limits::Action;
use crate::server::state::AppState;

/// `rooms {query?, after?}`: a page of the rooms I can see, with counts.
/// No payload (or `null`) asks for the first page.
pub async fn list(
    s: SocketRef,
    TryData(request): TryData<FirstArg<RoomsRequest>>,
    State(state): State<AppState>,
    reply: Responder,
) {
    let result = async {
        throttle(&s, Action::Read)?;
        let FirstArg(request) = payload(request)?;
        let request = request.unwrap_or_default();
        let viewer = seat_user(&s)?.map(|u| u.id);
        rooms::list_for(&state, viewer, &request).await
    };
    reply.send(result.await);
}

/// `create_room {title?, name?, private?}`: creates the room with me as
/// its first member.
pub async fn create(
    s: SocketRef,
    TryData(request): TryData<CreateRoomRequest>,
    State(state): State<AppState>,
    reply: Responder,
) {
    let address = connection_limits(&s).and_then(|limits| limits.address());
    let create = async |user: User, r: CreateRoomRequest| rooms::create(&state, &user, address, &r).await;
    reply.send(by_someone(&s, request, create).await);
}

/// `join_room {room}`: joins a public room (or one I am already in).
pub async fn join(
    s: SocketRef,
    TryData(request): TryData<RoomRequest>,
    State(state): State<AppState>,
    reply: Responder,
) {
    let join = async |user: User, r: RoomRequest| rooms::join(&state, &user, &r.room).await;
    reply.send(by_someone(&s, request, join).await);
}

/// `leave_room {room}`: stops being a member.
pub async fn leave(
    s: SocketRef,
    TryData(request): TryData<RoomRequest>,
    State(state): State<AppState>,
    reply: Responder,
) {
    let leave = async |user: User, r: RoomRequest| rooms::leave(&state, &user, &r.room).await;
    reply.send(by_someone(&s, request, leave).await);
}

/// `room_members {room}`: who is in a room I can see, online or when last
/// seen. For people in the chat only: when someone was last seen is not
/// for anonymous visitors.
pub async fn members(
    s: SocketRef,
    TryData(request): TryData<RoomRequest>,
    State(state): State<AppState>,
    reply: Responder,
) {
    let result = async {
        throttle(&s, Action::Read)?;
        let viewer = signed_in(&s)?;
        let request = payload(request)?;
        rooms::members(&state, viewer.id, &request.room).await
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
    let invite = async |user: User, r: InviteRequest| rooms::invite(&state, &user, &r.room, r.user).await;
    reply.send(by_someone(&s, request, invite).await);
}

/// What every room change asks first: not too often, by someone, and a
/// request that reads; then `change`.
async fn by_someone<R>(
    s: &SocketRef,
    request: Result<R, impl std::fmt::Display>,
    change: impl AsyncFnOnce(User, R) -> Result<RoomInfo, ChatError>,
) -> Result<RoomInfo, ChatError> {
    throttle(s, Action::Other)?;
    let user = signed_in(s)?;
    change(user, payload(request)?).await
}
