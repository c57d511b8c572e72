//! Rooms on the wire: how one is listed for a viewer, the listing's pages
//! and search (`rooms`), its announcements (`room_created`,
//! `rooms_created`), the requests that change membership, and the rule for
//! a room's name.

use serde::{Deserialize, Serialize};

use super::{UserId, LOBBY};
use crate::error::InvalidInput;

/// The most public rooms one listing returns (by name), besides the lobby
/// and the viewer's own rooms, which are always listed.
pub const MAX_LISTED_ROOMS: usize = 100;
/// Longest room name, in characters.
pub const MAX_ROOM_NAME_CHARS: usize = 32;

/// A room as listed for one viewer.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct RoomInfo {
    pub name: String,
    pub private: bool,
    /// How many users are members, and how many of them are online.
    pub members: usize,
    pub online: usize,
    /// Whether the viewer is a member.
    pub joined: bool,
    /// The room's newest `seq` (0 when empty): what a resuming client compares.
    #[serde(default)]
    pub last_seq: i64,
}

/// `rooms`: a page of the rooms I can see. With neither field (or no
/// payload at all): the lobby, every room I am in, then the first
/// [`MAX_LISTED_ROOMS`] public ones by name. `after` (the last public
/// room's name of the page before) pages on through public rooms only.
/// `query` keeps names that contain it, in any case.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct RoomsRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
}

impl RoomsRequest {
    /// The query as room names are written (trimmed, lower case; empty
    /// when there is none), or why it cannot match any room.
    pub fn query(&self) -> Result<String, InvalidInput> {
        let query = self.query.as_deref().unwrap_or_default().trim().to_ascii_lowercase();
        if query.chars().count() > MAX_ROOM_NAME_CHARS {
            return Err(InvalidInput::InvalidRoomName { max: MAX_ROOM_NAME_CHARS });
        }
        Ok(query)
    }
}

/// Ack body of `rooms`.
#[derive(Serialize, Deserialize, Clone, Debug, Default)]
pub struct RoomList {
    pub rooms: Vec<RoomInfo>,
    /// More public rooms follow: ask again with `after` the last one.
    #[serde(default)]
    pub more: bool,
}

/// Where the page after `rooms` starts, if `more` follow: the last public
/// room listed that is not mine (the server lists those last, by name).
pub fn next_rooms_after(rooms: &[RoomInfo], more: bool) -> Option<String> {
    let public = |room: &&RoomInfo| !room.joined && room.name != LOBBY;
    more.then(|| rooms.iter().rev().find(public).map(|room| room.name.clone())).flatten()
}

/// `rooms_created`: public rooms created close together, as everyone
/// but their creators sees them. `more`: others were created too, which
/// only `rooms` lists. The shape of a `rooms` page (one decoder in the
/// browser for both).
pub type RoomsCreated = RoomList;

/// `create_room`.
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct CreateRoomRequest {
    pub name: String,
    #[serde(default)]
    pub private: bool,
}

/// `join_room`, `leave_room`.
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct RoomRequest {
    pub room: String,
}

/// `invite`: add `user` to the private room `room`.
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct InviteRequest {
    pub room: String,
    pub user: UserId,
}

/// Checks a room name: 1–32 lowercase letters, digits, `-` or `_`, so it
/// reads the same everywhere and goes into a URL (`/r/{name}`) as is.
pub fn validate_room_name(name: &str) -> Result<&str, InvalidInput> {
    let name = name.trim();
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_';
    if name.is_empty() || name.len() > MAX_ROOM_NAME_CHARS || !name.chars().all(allowed) {
        return Err(InvalidInput::InvalidRoomName { max: MAX_ROOM_NAME_CHARS });
    }
    Ok(name)
}
