//! Rooms on the wire: how one is listed for a viewer, the listing's pages
//! and search (`rooms`), its announcements (`room_created`,
//! `rooms_created`), the requests that change membership, and the rules for
//! a room's name (its key, in addresses and the protocol) and its title
//! (what people read, in any script).

use serde::{Deserialize, Serialize};

use super::{is_invisible_format, UserId, LOBBY};
use crate::error::InvalidInput;

/// The most public rooms one listing returns (by name), besides the lobby
/// and the viewer's own rooms, which are always listed.
pub const MAX_LISTED_ROOMS: usize = 100;
/// Longest room name, in characters.
pub const MAX_ROOM_NAME_CHARS: usize = 32;
/// Longest room title, in characters.
pub const MAX_ROOM_TITLE_CHARS: usize = 64;

/// A room as listed for one viewer.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct RoomInfo {
    /// The room's key: in its address (`/r/{name}`) and every request.
    pub name: String,
    /// What people read ("Design Team", "中文"); a room made before titles,
    /// or by a client that gave only a name, has its name as its title.
    #[serde(default)]
    pub title: String,
    pub private: bool,
    /// How many users are members, and how many of them are online.
    pub members: usize,
    pub online: usize,
    /// Whether the viewer is a member.
    pub joined: bool,
    /// The room's newest `seq` (0 when empty): what a resuming client compares.
    #[serde(default)]
    pub last_seq: i64,
    /// Its newest change number (0: nothing changed), compared likewise.
    #[serde(default)]
    pub last_change: i64,
}

/// `rooms`: a page of the rooms I can see. With neither field (or no
/// payload at all): the lobby, every room I am in, then the first
/// [`MAX_LISTED_ROOMS`] public ones by name. `after` (the last public
/// room's name of the page before) pages on through public rooms only.
/// `query` keeps rooms whose name or title contains it, in any case.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct RoomsRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
}

impl RoomsRequest {
    /// The query as rooms are compared (trimmed, ASCII letters in lower
    /// case; empty when there is none), or why it cannot match any room.
    pub fn query(&self) -> Result<String, InvalidInput> {
        let query = self.query.as_deref().unwrap_or_default().trim().to_ascii_lowercase();
        if query.chars().count() > MAX_ROOM_TITLE_CHARS {
            return Err(InvalidInput::InvalidRoomTitle { max: MAX_ROOM_TITLE_CHARS });
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

/// `create_room`: a `title` in any script, a `name` (the key), or both.
/// Without a name, the server makes one from the title; without a title,
/// the name is the title too.
#[derive(Serialize, Deserialize, Clone, Debug, Default)]
pub struct CreateRoomRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default)]
    pub private: bool,
}

impl RoomInfo {
    /// What to call the room on screen.
    pub fn shown_title(&self) -> &str {
        if self.title.is_empty() {
            &self.name
        } else {
            &self.title
        }
    }
}

/// Checks a room title: 1–64 characters once trimmed, any script, no
/// control characters (so no line breaks) and no invisible ones (as names).
pub fn validate_room_title(title: &str) -> Result<&str, InvalidInput> {
    let title = title.trim();
    let unseen = |c: char| c.is_control() || is_invisible_format(c);
    if title.is_empty() || title.chars().count() > MAX_ROOM_TITLE_CHARS || title.chars().any(unseen) {
        return Err(InvalidInput::InvalidRoomTitle { max: MAX_ROOM_TITLE_CHARS });
    }
    Ok(title)
}

/// A room name (key) made from a title: its ASCII letters and digits in
/// lower case, other runs of characters as one `-`, at most 32; empty
/// when the title has no ASCII letter or digit ("中文").
pub fn room_name_from_title(title: &str) -> String {
    let mut name = String::new();
    for c in title.chars() {
        if c.is_ascii_alphanumeric() {
            name.push(c.to_ascii_lowercase());
        } else if !name.is_empty() && !name.ends_with('-') {
            name.push('-');
        }
    }
    name.truncate(MAX_ROOM_NAME_CHARS);
    name.trim_end_matches('-').to_owned()
}

/// `join_room`, `leave_room`.
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct RoomRequest {
    pub room: String,
}

/// The most members `room_members` lists (online ones first).
pub const MAX_LISTED_MEMBERS: usize = 500;

/// One member of a room, as `room_members` lists them.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct RoomMember {
    pub id: UserId,
    pub name: String,
    pub online: bool,
    /// When they were last connected (ms since the epoch), while offline;
    /// absent when nobody knows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<i64>,
}

/// Ack body of `room_members`: online members first, then the others, each
/// by name; `more` when there are more than [`MAX_LISTED_MEMBERS`].
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct RoomMembers {
    pub members: Vec<RoomMember>,
    #[serde(default)]
    pub more: bool,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_take_any_script_and_make_a_name() {
        assert_eq!(validate_room_title("  Design Team "), Ok("Design Team"));
        assert_eq!(validate_room_title("中文"), Ok("中文"));
        assert!(validate_room_title(" ").is_err());
        assert!(validate_room_title("two\nlines").is_err());
        assert!(validate_room_title("gen\u{200B}eral").is_err(), "an invisible character");
        assert!(validate_room_title(&"x".repeat(MAX_ROOM_TITLE_CHARS + 1)).is_err());
        assert_eq!(room_name_from_title("Design Team"), "design-team");
        assert_eq!(room_name_from_title("  Q4 — plans!"), "q4-plans");
        assert_eq!(room_name_from_title("中文"), "");
        assert_eq!(room_name_from_title(&"abc ".repeat(20)).len(), MAX_ROOM_NAME_CHARS - 1, "no dash at the end");
        assert!(validate_room_name(&room_name_from_title("Café & Crème")).is_ok());
    }
}
