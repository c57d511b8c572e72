//! Rooms: who may see, read, post to and join which room, and the socket
//! events that create, list, join, leave and invite.
//!
//! The lobby is every socket's and every user's, with no membership rows.
//! Other rooms are public (listed for everyone, readable by anyone, joined
//! by choice) or private (invite-only: to anyone who is not a member they
//! do not exist, so every refusal is `no_such_room`). A room's name is its
//! key everywhere: in URLs, in `messages.room`, and as the Socket.IO room
//! its members' sockets join for fan-out.

use socketioxide::extract::{SocketRef, State, TryData};
use socketioxide::SocketIo;

use super::handlers::{payload, signed_in, throttle, Responder};
use super::identity::{internal, now_ms};
use super::limits::Action;
use super::realtime::user_room;
use super::state::AppState;
use super::store::Room;
use crate::error::ChatError;
use crate::protocol::{
    event, validate_room_name, CreateRoomRequest, InviteRequest, RoomInfo, RoomList, RoomRequest, User, UserId, LOBBY,
    MAX_LISTED_ROOMS,
};

/// The room `name` as `user` may see it: `None` when it does not exist or
/// is private and they are not in it.
pub async fn visible_room(state: &AppState, user: Option<UserId>, name: &str) -> Result<Option<Room>, ChatError> {
    let Some(room) = state.store.room(name).await.map_err(internal)? else { return Ok(None) };
    if !room.private {
        return Ok(Some(room));
    }
    let Some(user) = user else { return Ok(None) };
    Ok(state.store.is_member(name, user).await.map_err(internal)?.then_some(room))
}

/// Reading a room's history: the lobby and public rooms are open to all,
/// a private room only to its members.
pub async fn check_can_read(state: &AppState, user: Option<UserId>, name: &str) -> Result<(), ChatError> {
    if name == LOBBY {
        return Ok(());
    }
    visible_room(state, user, name).await?.map(|_| ()).ok_or(ChatError::NoSuchRoom)
}

/// Posting to a room: the lobby, or a room one has joined.
pub async fn check_can_post(state: &AppState, user: UserId, name: &str) -> Result<(), ChatError> {
    if name == LOBBY || state.store.is_member(name, user).await.map_err(internal)? {
        return Ok(());
    }
    Err(refusal_to_post(state, user, name).await)
}

/// Why `user`, who is not a member, may not post to `name`: a room they
/// cannot see does not exist, as far as they are told.
pub async fn refusal_to_post(state: &AppState, user: UserId, name: &str) -> ChatError {
    match visible_room(state, Some(user), name).await {
        Ok(Some(_)) => ChatError::NotAMember,
        Ok(None) => ChatError::NoSuchRoom,
        Err(error) => error,
    }
}

/// One room as a viewer sees it, with its counts (after a create, join,
/// leave or invite). The lobby has no membership rows: everyone online is
/// in it.
async fn describe(state: &AppState, room: Room, viewer: Option<UserId>) -> Result<RoomInfo, ChatError> {
    let last_seq = state.store.recent(&room.name, 1).await.map_err(internal)?.first().map_or(0, |m| m.seq);
    if room.name == LOBBY {
        let online = state.presence.online_count();
        let joined = viewer.is_some();
        return Ok(RoomInfo { name: room.name, private: false, members: online, online, joined, last_seq });
    }
    let members = state.store.room_members(&room.name).await.map_err(internal)?;
    let online = state.presence.count_online(&members);
    Ok(RoomInfo {
        joined: viewer.is_some_and(|viewer| members.contains(&viewer)),
        members: members.len(),
        online,
        name: room.name,
        private: room.private,
        last_seq,
    })
}

/// Makes every open socket of `user` join (or leave) the Socket.IO room.
async fn move_sockets(io: &SocketIo, user: UserId, room: &str, join: bool) {
    let sockets = io.to(user_room(user));
    let moved = if join { sockets.join(room.to_owned()).await } else { sockets.leave(room.to_owned()).await };
    if let Err(error) = moved {
        tracing::debug!(?error, room, "could not move a user's sockets");
    }
}

/// The rooms `viewer` can see, with counts, by name: one query however
/// many rooms there are.
pub async fn list_for(state: &AppState, viewer: Option<UserId>) -> Result<Vec<RoomInfo>, ChatError> {
    let online = state.presence.online_ids();
    let listing = state.store.room_listing(viewer, &online, MAX_LISTED_ROOMS).await.map_err(internal)?;
    Ok(listing
        .into_iter()
        .map(|line| {
            let lobby = line.room.name == LOBBY;
            RoomInfo {
                members: if lobby { online.len() } else { line.members },
                online: if lobby { online.len() } else { line.online },
                joined: if lobby { viewer.is_some() } else { line.joined },
                name: line.room.name,
                private: line.room.private,
                last_seq: line.last_seq,
            }
        })
        .collect())
}

/// `rooms`: the public rooms and my private ones, with counts.
pub async fn list(s: SocketRef, State(state): State<AppState>, reply: Responder) {
    let result = async {
        throttle(&s, Action::Read)?;
        let viewer = super::handlers::seat_user(&s).map(|u| u.id);
        Ok(RoomList { rooms: list_for(&state, viewer).await? })
    };
    reply.send(result.await);
}

/// `create_room {name, private?}`: creates the room with me as its first
/// member.
pub async fn create(
    s: SocketRef,
    io: SocketIo,
    TryData(request): TryData<CreateRoomRequest>,
    State(state): State<AppState>,
    reply: Responder,
) {
    let result = async {
        throttle(&s, Action::Other)?;
        let user = signed_in(&s)?;
        let request = payload(request)?;
        let name = validate_room_name(&request.name)?;
        check_room_cap(&state, user.id).await?;
        // Rooms outlive their members, so creating is capped on its own.
        let max = state.config.max_rooms_per_user;
        if state.store.rooms_created_by(user.id).await.map_err(internal)? >= max {
            return Err(ChatError::TooManyRooms { max });
        }
        let room = state
            .store
            .create_room(name, request.private, user.id, now_ms())
            .await
            .map_err(internal)?
            .ok_or(ChatError::RoomExists)?;
        move_sockets(&io, user.id, &room.name, true).await;
        Ok((describe(&state, room, Some(user.id)).await?, user))
    };
    match result.await {
        Ok((room, creator)) => {
            if !room.private {
                // As everyone else sees it: not (yet) theirs.
                let announced = RoomInfo { joined: false, ..room.clone() };
                if let Err(error) = io.except(user_room(creator.id)).emit(event::ROOM_CREATED, &announced).await {
                    tracing::debug!(?error, "room announcement reached only some sockets");
                }
            }
            reply.send(Ok(room));
        }
        Err(error) => reply.send::<RoomInfo>(Err(error)),
    }
}

async fn check_room_cap(state: &AppState, user: UserId) -> Result<(), ChatError> {
    let max = state.config.max_rooms_per_user;
    if state.store.memberships(user).await.map_err(internal)?.len() >= max {
        return Err(ChatError::TooManyRooms { max });
    }
    Ok(())
}

/// `join_room {room}`: joins a public room (or one I am already in).
pub async fn join(
    s: SocketRef,
    io: SocketIo,
    TryData(request): TryData<RoomRequest>,
    State(state): State<AppState>,
    reply: Responder,
) {
    let result = async {
        let (user, room) = room_asked_for(&s, &state, request, "everyone is in the lobby already").await?;
        add_to_room(&state, &io, user.id, &room).await?;
        describe(&state, room, Some(user.id)).await
    };
    reply.send(result.await);
}

/// The signed-in user and the room (not the lobby) a `join_room` or
/// `leave_room` names, if they can see it.
async fn room_asked_for(
    s: &SocketRef,
    state: &AppState,
    request: Result<RoomRequest, impl std::fmt::Display>,
    about_the_lobby: &str,
) -> Result<(User, Room), ChatError> {
    throttle(s, Action::Other)?;
    let user = signed_in(s)?;
    let name = payload(request)?.room;
    if name == LOBBY {
        return Err(ChatError::InvalidPayload(about_the_lobby.into()));
    }
    let room = visible_room(state, Some(user.id), &name).await?.ok_or(ChatError::NoSuchRoom)?;
    Ok((user, room))
}

/// Makes `user` a member of `room` (within their room limit) and moves
/// their open sockets in.
async fn add_to_room(state: &AppState, io: &SocketIo, user: UserId, room: &Room) -> Result<(), ChatError> {
    if !state.store.is_member(&room.name, user).await.map_err(internal)? {
        check_room_cap(state, user).await?;
        state.store.add_member(&room.name, user, now_ms()).await.map_err(internal)?;
    }
    move_sockets(io, user, &room.name, true).await;
    Ok(())
}

/// `leave_room {room}`: stops being a member (the lobby cannot be left).
pub async fn leave(
    s: SocketRef,
    io: SocketIo,
    TryData(request): TryData<RoomRequest>,
    State(state): State<AppState>,
    reply: Responder,
) {
    let result = async {
        let (user, room) = room_asked_for(&s, &state, request, "everyone stays in the lobby").await?;
        state.store.remove_member(&room.name, user.id).await.map_err(internal)?;
        move_sockets(&io, user.id, &room.name, false).await;
        describe(&state, room, Some(user.id)).await
    };
    reply.send(result.await);
}

/// `invite {room, user}`: a member of a private room adds someone to it;
/// their open sockets join at once and are told with `invited`.
pub async fn invite(
    s: SocketRef,
    io: SocketIo,
    TryData(request): TryData<InviteRequest>,
    State(state): State<AppState>,
    reply: Responder,
) {
    let result = async {
        throttle(&s, Action::Other)?;
        let user = signed_in(&s)?;
        let request = payload(request)?;
        check_can_post(&state, user.id, &request.room).await?;
        let room = state.store.room(&request.room).await.map_err(internal)?.ok_or(ChatError::NoSuchRoom)?;
        if !room.private {
            return Err(ChatError::InvalidPayload(
                "only private rooms take invitations; anyone can join this one".into(),
            ));
        }
        let guest: User = state.store.user(request.user).await.map_err(internal)?.ok_or(ChatError::NoSuchUser)?;
        add_to_room(&state, &io, guest.id, &room).await?;
        let info = describe(&state, room, Some(guest.id)).await?;
        Ok((info, guest))
    };
    match result.await {
        Ok((info, guest)) => {
            if let Err(error) = io.to(user_room(guest.id)).emit(event::INVITED, &info).await {
                tracing::debug!(?error, "invitation reached only some sockets");
            }
            reply.send(Ok(info));
        }
        Err(error) => reply.send::<RoomInfo>(Err(error)),
    }
}

/// Joins a newly identified socket to the Socket.IO rooms of its user's
/// memberships, so it hears them live.
pub async fn join_memberships(s: &SocketRef, state: &AppState, user: UserId) -> Result<(), ChatError> {
    for room in state.store.memberships(user).await.map_err(internal)? {
        s.join(room);
    }
    Ok(())
}
