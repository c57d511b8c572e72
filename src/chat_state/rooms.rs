//! The rooms I can see, in the browser: kept by name (the server's order),
//! with their counts. Their messages are kept like every conversation's
//! (`conversations.rs`).

use leptos::prelude::*;

use super::ChatState;
use crate::protocol::{ConversationId, RoomInfo};

impl ChatState {
    /// After leaving: a private room I left is no longer mine to see.
    pub fn forget_room_if_hidden(&self, room: RoomInfo) {
        if room.private && !room.joined {
            let id = ConversationId::room(room.name.as_str());
            self.rooms.update(|rooms| rooms.retain(|r| r.name != room.name));
            self.messages.update(|all| {
                all.remove(&id);
            });
            self.loaded.update_value(|loaded| {
                loaded.remove(&id);
            });
        } else {
            self.note_room(room);
        }
    }

    /// Adds or updates a room in my list, which is kept by name (the
    /// server's order).
    pub fn note_room(&self, room: RoomInfo) {
        self.rooms.update(|rooms| match rooms.iter_mut().find(|r| r.name == room.name) {
            Some(known) => *known = room,
            None => {
                let at = rooms.partition_point(|r| r.name < room.name);
                rooms.insert(at, room);
            }
        });
    }

    /// A new public room, as everyone but its creator sees it: added if I
    /// do not know it yet (I may be its creator, who knows it better).
    /// While a room search is typed, the list is the server's answer to
    /// it, and a room announced meanwhile is not added to it: clearing
    /// the search lists every room again, this one included.
    pub fn room_announced(&self, room: RoomInfo) {
        if self.room_query.with_untracked(|query| !query.trim().is_empty()) {
            return;
        }
        if !self.rooms.with_untracked(|rooms| rooms.iter().any(|r| r.name == room.name)) {
            self.note_room(room);
        }
    }

    /// Whether I am a member of the room `name` (the lobby is everyone's).
    pub fn joined(&self, name: &str) -> bool {
        self.rooms.with(|rooms| rooms.iter().any(|r| r.name == name && r.joined))
    }

    /// What to call the room `name` on screen: its title when I know it.
    pub fn room_title(&self, name: &str) -> String {
        self.rooms.with(|rooms| {
            rooms.iter().find(|r| r.name == name).map_or_else(|| name.to_owned(), |r| r.shown_title().to_owned())
        })
    }
}
