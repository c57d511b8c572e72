//! Rooms: creating, joining, leaving and inviting, and how rooms are
//! listed and counted for one viewer. Who may see or post where is
//! `access`'s to say; moving sockets in and out and telling people goes
//! through `delivery::Outbound`.

use std::net::IpAddr;

use super::access::{check_can_post, visible_room};
use crate::error::ChatError;
use crate::protocol::{
    event, room_name_from_title, validate_room_name, validate_room_title, ConversationId, CreateRoomRequest, RoomInfo,
    RoomList, RoomMember, RoomMembers, RoomsRequest, User, UserId, LOBBY, MAX_LISTED_MEMBERS, MAX_LISTED_ROOMS,
    MAX_ROOM_NAME_CHARS,
};
use crate::server::clock::now_ms;
use crate::server::state::AppState;
use crate::server::store::{Room, RoomFilter, StoreResult};

/// A page of the rooms `viewer` can see, with counts (see
/// [`RoomsRequest`]): the lobby and the viewer's own rooms always on the
/// first page, then public rooms by name, a page at a time. One query
/// however many rooms there are.
pub async fn list_for(state: &AppState, viewer: Option<UserId>, request: &RoomsRequest) -> Result<RoomList, ChatError> {
    let query = request.query()?;
    if request.after.as_ref().is_some_and(|after| after.len() > MAX_ROOM_NAME_CHARS) {
        return Err(ChatError::InvalidPayload("`after` is the name of the last room listed".into()));
    }
    let online = state.presence.online_ids();
    let filter = RoomFilter { query: &query, after: request.after.as_deref() };
    let page = state.store.room_listing(viewer, &online, filter, MAX_LISTED_ROOMS).await?;
    let rooms = page
        .rooms
        .into_iter()
        .map(|line| {
            let lobby = line.room.name == LOBBY;
            RoomInfo {
                members: if lobby { online.len() } else { line.members },
                online: if lobby { online.len() } else { line.online },
                joined: if lobby { viewer.is_some() } else { line.joined },
                name: line.room.name,
                title: line.room.title,
                private: line.room.private,
                last_seq: line.last_seq,
                last_change: line.last_change,
            }
        })
        .collect();
    Ok(RoomList { rooms, more: page.more })
}

/// One room as a viewer sees it, with its counts (after a create, join,
/// leave or invite). The lobby has no membership rows: everyone online is
/// in it.
async fn describe(state: &AppState, room: Room, viewer: Option<UserId>) -> Result<RoomInfo, ChatError> {
    let conversation = ConversationId::room(room.name.as_str());
    let last_seq = state.store.last_seq(&conversation).await?;
    let last_change = state.store.last_change(&conversation).await?;
    if room.name == LOBBY {
        let online = state.presence.online_count();
        let joined = viewer.is_some();
        return Ok(RoomInfo {
            name: room.name,
            title: room.title,
            private: false,
            members: online,
            online,
            joined,
            last_seq,
            last_change,
        });
    }
    let members = state.store.room_members(&room.name).await?;
    let online = state.presence.count_online(&members);
    Ok(RoomInfo {
        joined: viewer.is_some_and(|viewer| members.contains(&viewer)),
        members: members.len(),
        online,
        name: room.name,
        title: room.title,
        private: room.private,
        last_seq,
        last_change,
    })
}

/// Creates the room `request` asks for with `creator` as its first member,
/// and tells everyone else of a public one. Without a name, the name comes
/// from the title; if that one is taken, a number or a few random letters
/// follow it.
pub async fn create(
    state: &AppState,
    creator: &User,
    address: Option<IpAddr>,
    request: &CreateRoomRequest,
) -> Result<RoomInfo, ChatError> {
    let private = request.private;
    let (name, title) = match (request.name.as_deref(), request.title.as_deref()) {
        (Some(name), title) => {
            let name = validate_room_name(name)?;
            (Some(name.to_owned()), validate_room_title(title.unwrap_or(name))?)
        }
        (None, Some(title)) => (None, validate_room_title(title)?),
        (None, None) => return Err(ChatError::InvalidPayload("a room needs a `title` or a `name`".into())),
    };
    check_room_cap(state, creator.id).await?;
    // Public rooms are everyone's list: a few guests from one address must
    // not be able to bury it (nor cost every socket a frame per room).
    if !private {
        state.limits.public_room_created(creator.id, address)?;
    }
    // Rooms outlive their members, so creating is capped on its own.
    let max = state.config.max_rooms_per_user;
    if state.store.rooms_created_by(creator.id).await? >= max {
        return Err(ChatError::TooManyRooms { max });
    }
    let room = match name {
        Some(name) => state.store.create_room(&name, title, private, creator.id, now_ms()).await?,
        None => create_named_after(state, title, private, creator.id).await?,
    };
    let room = room.ok_or(ChatError::RoomExists)?;
    state.outbound.subscribe(creator.id, &room.name, true).await;
    let info = describe(state, room, Some(creator.id)).await?;
    if !info.private {
        // As everyone else sees it: not (yet) theirs.
        state.room_feed.announce(RoomInfo { joined: false, ..info.clone() }, creator.id);
    }
    Ok(info)
}

/// Creates a room titled `title` under the first free name made from it:
/// `design-team`, `design-team-2` … `design-team-4`, then with random
/// letters (`room-…` at once for a title with no ASCII letter or digit).
async fn create_named_after(
    state: &AppState,
    title: &str,
    private: bool,
    creator: UserId,
) -> StoreResult<Option<Room>> {
    let made = room_name_from_title(title);
    // A title with no ASCII letter or digit names nothing: random letters.
    let numbered = if made.is_empty() { 0 } else { 4 };
    let base = if made.is_empty() { "room".to_owned() } else { made };
    let numbered = (1..=numbered).map(|n| if n == 1 { base.clone() } else { format!("{base}-{n}") });
    let random = (0..3).map(|_| {
        let mut letters = [0u8; 3];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut letters);
        format!("{base}-{}", hex::encode(letters))
    });
    for name in numbered.chain(random) {
        let name = fit_room_name(&name);
        if let Some(room) = state.store.create_room(&name, title, private, creator, now_ms()).await? {
            return Ok(Some(room));
        }
    }
    Ok(None)
}

/// `name` cut to the longest room name, keeping its ending (the number or
/// the random letters that tell it apart).
fn fit_room_name(name: &str) -> String {
    let Some(extra) = name.len().checked_sub(MAX_ROOM_NAME_CHARS).filter(|extra| *extra > 0) else {
        return name.to_owned();
    };
    match name.rsplit_once('-') {
        Some((base, ending)) => {
            let keep = base.len().saturating_sub(extra).max(1);
            format!("{}-{ending}", base[..keep].trim_end_matches('-'))
        }
        None => name[..MAX_ROOM_NAME_CHARS].to_owned(),
    }
}

async fn check_room_cap(state: &AppState, user: UserId) -> Result<(), ChatError> {
    let max = state.config.max_rooms_per_user;
    if state.store.memberships(user).await?.len() >= max {
        return Err(ChatError::TooManyRooms { max });
    }
    Ok(())
}

/// `user` joins the public room `name` (or one they are in already).
pub async fn join(state: &AppState, user: &User, name: &str) -> Result<RoomInfo, ChatError> {
    let room = room_asked_for(state, user, name, "everyone is in the lobby already").await?;
    add_to_room(state, user.id, &room).await?;
    describe(state, room, Some(user.id)).await
}

/// `user` stops being a member of `name` (the lobby cannot be left).
pub async fn leave(state: &AppState, user: &User, name: &str) -> Result<RoomInfo, ChatError> {
    let room = room_asked_for(state, user, name, "everyone stays in the lobby").await?;
    state.store.remove_member(&room.name, user.id).await?;
    state.outbound.subscribe(user.id, &room.name, false).await;
    // Not typing in a room one is not in.
    state.typing.stopped(&ConversationId::room(room.name.as_str()), user);
    describe(state, room, Some(user.id)).await
}

/// The room (not the lobby) a join or a leave names, if `user` can see it.
async fn room_asked_for(state: &AppState, user: &User, name: &str, about_the_lobby: &str) -> Result<Room, ChatError> {
    if name == LOBBY {
        return Err(ChatError::InvalidPayload(about_the_lobby.into()));
    }
    visible_room(state, Some(user.id), name).await?.ok_or(ChatError::NoSuchRoom)
}

/// Who is in the room `name` (if `viewer` can see it): online members
/// first, then the others with when they were last seen, each by name. The
/// lobby's are everyone online.
pub async fn members(state: &AppState, viewer: UserId, name: &str) -> Result<RoomMembers, ChatError> {
    let online = |user: User| RoomMember { id: user.id, name: user.name, online: true, last_seen: None };
    if name == LOBBY {
        let mut members: Vec<RoomMember> = state.presence.users().into_iter().map(online).collect();
        let more = members.len() > MAX_LISTED_MEMBERS;
        members.truncate(MAX_LISTED_MEMBERS);
        return Ok(RoomMembers { members, more });
    }
    visible_room(state, Some(viewer), name).await?.ok_or(ChatError::NoSuchRoom)?;
    let online_ids = state.presence.online_ids();
    let listed = state.store.room_member_list(name, &online_ids, MAX_LISTED_MEMBERS + 1).await?;
    let more = listed.len() > MAX_LISTED_MEMBERS;
    let listed: Vec<_> = listed.into_iter().take(MAX_LISTED_MEMBERS).collect();
    // Their names as they are online now, under one lock.
    let now = state.presence.online_users(listed.iter().map(|(user, _)| user.id));
    let mut members: Vec<RoomMember> = listed
        .into_iter()
        .zip(now)
        .map(|((user, last_seen), now)| match now {
            Some(now) => online(now),
            None => {
                let last_seen = state.last_seen.unwritten(user.id).or(last_seen);
                RoomMember { id: user.id, name: user.name, online: false, last_seen }
            }
        })
        .collect();
    members.sort_by_cached_key(|member| (!member.online, member.name.to_lowercase()));
    Ok(RoomMembers { members, more })
}

/// A member of the private room `name` adds `guest` to it; the guest's open
/// sockets join at once and are told with `invited`.
pub async fn invite(state: &AppState, host: &User, name: &str, guest: UserId) -> Result<RoomInfo, ChatError> {
    check_can_post(state, host.id, name).await?;
    let room = state.store.room(name).await?.ok_or(ChatError::NoSuchRoom)?;
    if !room.private {
        return Err(ChatError::InvalidPayload("only private rooms take invitations; anyone can join this one".into()));
    }
    let guest = state.store.user(guest).await?.ok_or(ChatError::NoSuchUser)?;
    add_to_room(state, guest.id, &room).await?;
    let info = describe(state, room, Some(guest.id)).await?;
    state.outbound.tell(guest.id, event::INVITED, &info).await;
    Ok(info)
}

/// Makes `user` a member of `room` (within their room limit) and moves
/// their open sockets in.
async fn add_to_room(state: &AppState, user: UserId, room: &Room) -> Result<(), ChatError> {
    if !state.store.is_member(&room.name, user).await? {
        check_room_cap(state, user).await?;
        state.store.add_member(&room.name, user, now_ms()).await?;
        // What was said before they came is history, not news.
        let conversation = ConversationId::room(room.name.as_str());
        let last = state.store.last_seq(&conversation).await?;
        state.store.mark_read(user, &conversation, last).await?;
    }
    state.outbound.subscribe(user, &room.name, true).await;
    Ok(())
}
