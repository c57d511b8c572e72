//! Who is typing, per conversation: never stored, sent at most once a
//! second per conversation however many type, and gone a few seconds
//! after the last news.

use serde::{Deserialize, Serialize};

use super::{ConversationId, User, UserId};

/// How many typists a `typing` event names; `count` says how many in all.
pub const MAX_NAMED_TYPISTS: usize = 5;
/// How often a client says again that its user is still typing, at most.
pub const TYPING_EVERY_MS: u64 = 3_000;

/// `typing {room?, with?}`: I am typing in this conversation (a room, by
/// default the lobby, or my private conversation with `with`).
#[derive(Serialize, Deserialize, Clone, Debug, Default)]
pub struct TypingRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub with: Option<UserId>,
}

/// `typing`: who is typing in a conversation now (the whole list, which
/// replaces the last one; empty when nobody is any more).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct Typing {
    /// A room's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room: Option<String>,
    /// A private conversation: its two parties' ids.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pair: Option<[UserId; 2]>,
    /// The first [`MAX_NAMED_TYPISTS`] typists, first first.
    pub users: Vec<User>,
    /// How many are typing in all.
    pub count: usize,
}

impl Typing {
    /// The conversation it is about.
    pub fn conversation(&self) -> Option<ConversationId> {
        match (&self.room, self.pair) {
            (Some(room), None) => Some(ConversationId::room(room.as_str())),
            (None, Some([a, b])) => Some(ConversationId::pair(a, b)),
            _ => None,
        }
    }

    /// Who is typing in `conversation`, as the event says it.
    pub fn of(conversation: &ConversationId, users: Vec<User>, count: usize) -> Typing {
        match conversation {
            ConversationId::Room(room) => Typing { room: Some(room.clone()), pair: None, users, count },
            ConversationId::Pair(a, b) => Typing { room: None, pair: Some([*a, *b]), users, count },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pairs_typing_names_its_conversation() {
        let pair = Typing::of(&ConversationId::pair(9, 2), vec![], 0);
        assert_eq!((pair.pair, pair.conversation()), (Some([2, 9]), Some(ConversationId::pair(2, 9))));
    }
}
