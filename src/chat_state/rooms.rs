//! Rooms in the browser: the messages I have of each, the list of rooms I
//! can see, and unread counts per room.

use leptos::prelude::*;

use super::{insert_by_seq, ChatState, Conversation, Gap};
use crate::protocol::{ChatMessage, RoomInfo};

impl ChatState {
    /// A room message: shown, and counted unread unless I wrote it or I am
    /// looking at its room. Returns the gap before it, if it skipped some
    /// `seq` after the newest I have (a room's `seq` has no holes).
    pub(super) fn add_room_message(&self, message: ChatMessage) -> Option<Gap> {
        let mine = self.is_me(message.from.id);
        let watching = self.active.with_untracked(|a| matches!(a, Conversation::Room(r) if *r == message.room));
        let room = message.room.clone();
        let mut added = false;
        let mut gap = None;
        self.room_messages.update(|rooms| {
            let list = rooms.entry(message.room.clone()).or_default();
            if let Some(seen) = list.last().map(|m| m.seq).filter(|seen| message.seq > seen + 1) {
                gap = Some(Gap::Room { room: message.room.clone(), seen });
            }
            added = insert_by_seq(list, message, |m| m.seq, |m| m.id);
        });
        if added && !mine && !watching {
            self.room_unread.update(|unread| *unread.entry(room).or_default() += 1);
        }
        gap
    }

    /// Messages of a room that I missed (after a reconnect, or to fill a
    /// gap): shown and counted unread like live ones.
    pub fn receive_missed_room(&self, missed: Vec<ChatMessage>) {
        for message in missed {
            self.add_room_message(message);
        }
    }

    /// Merges a page of a room's history that I asked for.
    pub fn merge_room(&self, room: &str, page: Vec<ChatMessage>) {
        self.room_messages.update(|rooms| {
            let list = rooms.entry(room.to_owned()).or_default();
            for message in page {
                insert_by_seq(list, message, |m| m.seq, |m| m.id);
            }
        });
    }

    /// Replaces what I have of a room with its latest page (the gap was too
    /// large to fill), keeping what arrived live after that page was read.
    pub fn restart_room(&self, room: &str, page: Vec<ChatMessage>) {
        let newest = page.last().map(|m| m.seq);
        self.room_messages.update(|rooms| {
            let later =
                rooms.remove(room).unwrap_or_default().into_iter().filter(|m| newest.is_some_and(|n| m.seq > n));
            let mut list = page;
            list.extend(later);
            rooms.insert(room.to_owned(), list);
        });
    }

    /// The newest `seq` I have of a room, if I have any of it.
    pub fn last_room_seq(&self, room: &str) -> Option<i64> {
        self.room_messages.with_untracked(|rooms| rooms.get(room).and_then(|list| list.last()).map(|m| m.seq))
    }

    /// After leaving: a private room I left is no longer mine to see.
    pub fn forget_room_if_hidden(&self, room: RoomInfo) {
        if room.private && !room.joined {
            let name = room.name;
            self.rooms.update(|rooms| rooms.retain(|r| r.name != name));
            self.room_messages.update(|rooms| {
                rooms.remove(&name);
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
}
