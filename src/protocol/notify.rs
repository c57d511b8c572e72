//! When a conversation may call me from outside the page: a desktop
//! notification while the tab is hidden (and, later, a push to a device
//! with no tab open). Each person chooses per conversation: every message,
//! only those that call me, or nothing. The choice is the server's to
//! keep, so it follows them to every tab and device; unchosen, private
//! conversations notify of every message and rooms only of mentions.
//!
//! [`notifies`] is the one rule, the same in the browser and the server.

use serde::{Deserialize, Serialize};

use super::{ConversationId, Mentions, UserId};

/// How much of one conversation notifies me.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Notify {
    /// Every message someone else writes.
    All,
    /// Messages that call me (`@me`, `@here`, `@room`).
    Mentions,
    /// Nothing (muted).
    Mute,
}

impl Notify {
    /// In the order a menu offers them.
    pub const ALL: [Notify; 3] = [Notify::All, Notify::Mentions, Notify::Mute];

    /// What a conversation nobody chose for notifies of: a private
    /// conversation is written to me, so all of it; a room, its mentions.
    pub fn default_for(conversation: &ConversationId) -> Notify {
        match conversation {
            ConversationId::Pair(..) => Notify::All,
            ConversationId::Room(_) => Notify::Mentions,
        }
    }

    /// How it is written on the wire and in the store.
    pub fn as_str(self) -> &'static str {
        match self {
            Notify::All => "all",
            Notify::Mentions => "mentions",
            Notify::Mute => "mute",
        }
    }

    /// Read back from [`Notify::as_str`].
    pub fn parse(value: &str) -> Option<Notify> {
        Notify::ALL.into_iter().find(|level| level.as_str() == value)
    }
}

/// Whether a message from `from`, calling `mentions`, notifies `me` in a
/// conversation they set to `level`. My own messages never do.
pub fn notifies(level: Notify, me: UserId, from: UserId, mentions: &Mentions) -> bool {
    if from == me {
        return false;
    }
    match level {
        Notify::All => true,
        Notify::Mentions => mentions.call(me),
        Notify::Mute => false,
    }
}

/// `notify {room? | with?, level}`: how much of this conversation
/// notifies me from now on (the lobby when neither is given).
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct NotifyRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub with: Option<UserId>,
    pub level: Notify,
}

/// One conversation's level: the ack of `notify`, and the `notify` event
/// that tells my other sockets.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct NotifySetting {
    /// A room's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room: Option<String>,
    /// A private conversation: its two parties' ids.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pair: Option<[UserId; 2]>,
    pub level: Notify,
}

impl NotifySetting {
    pub fn new(conversation: &ConversationId, level: Notify) -> NotifySetting {
        match conversation {
            ConversationId::Room(room) => NotifySetting { room: Some(room.clone()), pair: None, level },
            ConversationId::Pair(a, b) => NotifySetting { room: None, pair: Some([*a, *b]), level },
        }
    }

    /// The conversation it is about.
    pub fn conversation(&self) -> Option<ConversationId> {
        match (&self.room, self.pair) {
            (Some(room), None) => Some(ConversationId::room(room.as_str())),
            (None, Some([a, b])) => Some(ConversationId::pair(a, b)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::Everyone;

    const ME: UserId = 1;
    const OTHER: UserId = 2;

    fn naming(users: &[UserId], everyone: Option<Everyone>) -> Mentions {
        Mentions { users: users.to_vec(), everyone }
    }

    #[test]
    fn private_conversations_notify_of_everything_and_rooms_of_mentions_unless_chosen() {
        assert_eq!(Notify::default_for(&ConversationId::pair(ME, OTHER)), Notify::All);
        assert_eq!(Notify::default_for(&ConversationId::room("lobby")), Notify::Mentions);
    }

    #[test]
    fn each_level_decides_as_it_says() {
        let plain = naming(&[], None);
        let calls_me = naming(&[ME], None);
        let calls_another = naming(&[3], None);
        let here = naming(&[], Some(Everyone::Here));
        assert!(notifies(Notify::All, ME, OTHER, &plain));
        assert!(!notifies(Notify::Mentions, ME, OTHER, &plain));
        assert!(notifies(Notify::Mentions, ME, OTHER, &calls_me));
        assert!(!notifies(Notify::Mentions, ME, OTHER, &calls_another));
        assert!(notifies(Notify::Mentions, ME, OTHER, &here));
        assert!(!notifies(Notify::Mute, ME, OTHER, &calls_me));
        assert!(!notifies(Notify::Mute, ME, OTHER, &here));
    }

    #[test]
    fn my_own_messages_never_notify_me() {
        assert!(!notifies(Notify::All, ME, ME, &naming(&[ME], Some(Everyone::Room))));
    }

    #[test]
    fn levels_read_back_as_written_and_nothing_else() {
        for level in Notify::ALL {
            assert_eq!(Notify::parse(level.as_str()), Some(level));
            assert_eq!(serde_json::to_string(&level).ok(), Some(format!("\"{}\"", level.as_str())));
        }
        assert_eq!(Notify::parse("loud"), None);
        assert!(serde_json::from_str::<NotifyRequest>(r#"{"level":"loud"}"#).is_err());
    }
}
