//! What each person has read: the last `seq` they read in each
//! conversation, kept by the server so that unread counts survive a
//! reload and agree across tabs and devices. In a private conversation
//! the other party learns it too ("Seen"); in rooms it stays private, and
//! only counts are shown.

use serde::{Deserialize, Serialize};

use super::{ConversationId, UserId};

/// Unread counts stop here ("99+").
pub const MAX_UNREAD: usize = 100;

/// `read {room?, with?, seq}`: I have read this conversation up to `seq`.
#[derive(Serialize, Deserialize, Clone, Debug, Default)]
pub struct ReadRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub with: Option<UserId>,
    pub seq: i64,
}

/// Where I am in one conversation: the ack of `read`, the `read` event to
/// my other sockets, an item of `reads`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct ReadState {
    /// A room's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room: Option<String>,
    /// A private conversation: its two parties' ids.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pair: Option<[UserId; 2]>,
    /// The last `seq` I read (0: none).
    pub seq: i64,
    /// Messages after it that others wrote, up to [`MAX_UNREAD`].
    pub unread: usize,
    /// Those of them that call me (see [`super::Mentions`]), up to
    /// [`MAX_UNREAD`].
    #[serde(default, skip_serializing_if = "is_zero")]
    pub mentions: usize,
    /// In a private conversation, the last `seq` the other one read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer_seq: Option<i64>,
}

impl ReadState {
    /// The conversation it is about.
    pub fn conversation(&self) -> Option<ConversationId> {
        match (&self.room, self.pair) {
            (Some(room), None) => Some(ConversationId::room(room.as_str())),
            (None, Some([a, b])) => Some(ConversationId::pair(a, b)),
            _ => None,
        }
    }

    /// `where` as a state's `room` or `pair`.
    pub fn at(conversation: &ConversationId) -> ReadState {
        match conversation {
            ConversationId::Room(room) => ReadState { room: Some(room.clone()), ..ReadState::default() },
            ConversationId::Pair(a, b) => ReadState { pair: Some([*a, *b]), ..ReadState::default() },
        }
    }
}

/// Ack body of `reads`: where I am in the lobby, my rooms and my private
/// conversations.
#[derive(Serialize, Deserialize, Clone, Debug, Default)]
pub struct ReadStates {
    pub reads: Vec<ReadState>,
    /// The levels I chose (`notify`), wherever I chose one; every other
    /// conversation notifies by [`super::Notify::default_for`].
    #[serde(default)]
    pub notify: Vec<super::NotifySetting>,
}

/// `seen`: the other party of a private conversation read it up to `seq`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Seen {
    pub pair: [UserId; 2],
    pub user: UserId,
    pub seq: i64,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}
