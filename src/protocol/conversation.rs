//! One conversation model for both sides. A room and the private
//! conversation of two people are both a [`ConversationId`], and every
//! message of either is one [`Message`]: stored, paged, delivered and shown
//! the same way.
//!
//! Only the wire tells them apart, in the prototype's two shapes: a room's
//! message travels as a `message` event ([`ChatMessage`]), a pair's as a
//! `secret` ([`SecretMessage`]), both defined here. [`Message::into_wire`]
//! and the `From` conversions below are the only places that know it.

use serde::{Deserialize, Serialize};

use super::{Everyone, HistoryPage, InThread, Media, Mentions, Quote, Reaction, Revision, ThreadSummary, User, UserId};

/// Which conversation: a room, by name, or the private conversation of two
/// users (their ids, the lower first, whoever writes).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ConversationId {
    Room(String),
    Pair(UserId, UserId),
}

impl ConversationId {
    pub fn room(name: impl Into<String>) -> ConversationId {
        ConversationId::Room(name.into())
    }

    /// The private conversation of `a` and `b`, the same either way round.
    pub fn pair(a: UserId, b: UserId) -> ConversationId {
        ConversationId::Pair(a.min(b), a.max(b))
    }

    /// The room's name, for a room.
    pub fn room_name(&self) -> Option<&str> {
        match self {
            ConversationId::Room(name) => Some(name),
            ConversationId::Pair(..) => None,
        }
    }

    /// For a pair that `me` is part of, the other one.
    pub fn peer_of(&self, me: UserId) -> Option<UserId> {
        match *self {
            ConversationId::Pair(a, b) if a == me => Some(b),
            ConversationId::Pair(a, b) if b == me => Some(a),
            _ => None,
        }
    }
}

/// One message of any conversation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub id: i64,
    /// Its place in its conversation: from 1, without gaps.
    pub seq: i64,
    pub conversation: ConversationId,
    pub from: User,
    /// In a pair's conversation, the other party (the recipient).
    pub to: Option<User>,
    pub text: String,
    pub at: i64,
    pub cid: Option<String>,
    pub media: Option<Media>,
    /// The message it answers, quoted.
    pub reply_to: Option<Quote>,
    /// A reply in a thread: which, and whether it is in the conversation too.
    pub in_thread: Option<InThread>,
    /// Edits, deletion and reactions since it was sent.
    pub revision: Revision,
    /// Whom it calls.
    pub mentions: Mentions,
}

/// A message in its wire shape.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WireMessage {
    /// `message`, to everyone in the room.
    Room(ChatMessage),
    /// `secret`, to the two parties.
    Pair(SecretMessage),
}

/// `message` as delivered to every member of the room.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ChatMessage {
    pub id: i64,
    pub seq: i64,
    pub room: String,
    pub from: User,
    pub text: String,
    pub at: i64,
    pub cid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media: Option<Media>,
    /// The message it answers, quoted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<Quote>,
    /// When its text was last edited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited_at: Option<i64>,
    /// Deleted by its author: `text` is empty and there is no `media`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub deleted: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reactions: Vec<Reaction>,
    /// The change number of its latest change, if it ever changed.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub change: i64,
    /// A reply in a thread: its root's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread: Option<i64>,
    /// A thread reply sent to the conversation as well.
    #[serde(default, skip_serializing_if = "is_false")]
    pub in_conversation: bool,
    /// A thread's root: its replies, and when the last came.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread_summary: Option<ThreadSummary>,
    /// The ids of the people it names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mentions: Vec<UserId>,
    /// It calls the room's online members (`here`) or all of them (`room`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub everyone: Option<Everyone>,
}

/// `secret` as delivered to the sender's and the recipient's sockets only.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct SecretMessage {
    pub id: i64,
    /// Position in this pair's private conversation.
    pub seq: i64,
    pub from: User,
    pub to: User,
    pub text: String,
    pub at: i64,
    pub cid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media: Option<Media>,
    /// The message it answers, quoted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<Quote>,
    /// When its text was last edited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited_at: Option<i64>,
    /// Deleted by its author: `text` is empty and there is no `media`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub deleted: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reactions: Vec<Reaction>,
    /// The change number of its latest change, if it ever changed.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub change: i64,
    /// A reply in a thread: its root's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread: Option<i64>,
    /// A thread reply sent to the conversation as well.
    #[serde(default, skip_serializing_if = "is_false")]
    pub in_conversation: bool,
    /// A thread's root: its replies, and when the last came.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread_summary: Option<ThreadSummary>,
    /// The ids of the people it names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mentions: Vec<UserId>,
    /// It calls the room's online members (`here`) or all of them (`room`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub everyone: Option<Everyone>,
}

fn is_false(value: &bool) -> bool {
    !*value
}

fn is_zero(value: &i64) -> bool {
    *value == 0
}

impl SecretMessage {
    /// The other party, seen from `me`.
    pub fn peer(&self, me: UserId) -> &User {
        if self.from.id == me {
            &self.to
        } else {
            &self.from
        }
    }
}

impl Message {
    /// The event it travels as: `message` in a room, `secret` in a pair.
    pub fn event(&self) -> &'static str {
        match self.conversation {
            ConversationId::Room(_) => super::event::MESSAGE,
            ConversationId::Pair(..) => super::event::SECRET,
        }
    }

    /// What a reply to it shows of it, as it stands now.
    pub fn quote(&self) -> Quote {
        Quote {
            id: self.id,
            seq: self.seq,
            from: self.from.clone(),
            text: self.text.chars().take(super::MAX_QUOTE_CHARS).collect(),
            deleted: self.revision.deleted,
            media: self.media.is_some(),
        }
    }

    /// The event its changes travel as: `message_changed` in a room,
    /// `secret_changed` in a pair.
    pub fn changed_event(&self) -> &'static str {
        match self.conversation {
            ConversationId::Room(_) => super::event::MESSAGE_CHANGED,
            ConversationId::Pair(..) => super::event::SECRET_CHANGED,
        }
    }

    pub fn into_wire(self) -> WireMessage {
        let Message { id, seq, conversation, from, to, text, at, cid, media, reply_to, in_thread, revision, mentions } =
            self;
        let Mentions { users: mentions, everyone } = mentions;
        let Revision { edited_at, deleted, reactions, change, thread: thread_summary } = revision;
        let (thread, in_conversation) = in_thread.map_or((None, false), |t| (Some(t.root), t.in_conversation));
        match conversation {
            ConversationId::Room(room) => WireMessage::Room(ChatMessage {
                id,
                seq,
                room,
                from,
                text,
                at,
                cid,
                media,
                reply_to,
                edited_at,
                deleted,
                reactions,
                change,
                thread,
                in_conversation,
                thread_summary,
                mentions,
                everyone,
            }),
            ConversationId::Pair(a, b) => {
                // Every stored pair message names its recipient; should one
                // not, the id alone still says who it is.
                let to = to.unwrap_or_else(|| User { id: if from.id == a { b } else { a }, name: String::new() });
                WireMessage::Pair(SecretMessage {
                    id,
                    seq,
                    from,
                    to,
                    text,
                    at,
                    cid,
                    media,
                    reply_to,
                    edited_at,
                    deleted,
                    reactions,
                    change,
                    thread,
                    in_conversation,
                    thread_summary,
                    mentions,
                    everyone,
                })
            }
        }
    }
}

impl From<ChatMessage> for Message {
    fn from(m: ChatMessage) -> Message {
        let ChatMessage {
            id,
            seq,
            room,
            from,
            text,
            at,
            cid,
            media,
            reply_to,
            edited_at,
            deleted,
            reactions,
            change,
            thread,
            in_conversation,
            thread_summary,
            mentions,
            everyone,
        } = m;
        let revision = Revision { edited_at, deleted, reactions, change, thread: thread_summary };
        let in_thread = thread.map(|root| InThread { root, in_conversation });
        let conversation = ConversationId::Room(room);
        let mentions = Mentions { users: mentions, everyone };
        Message { id, seq, conversation, from, to: None, text, at, cid, media, reply_to, in_thread, revision, mentions }
    }
}

impl From<SecretMessage> for Message {
    fn from(m: SecretMessage) -> Message {
        let SecretMessage {
            id,
            seq,
            from,
            to,
            text,
            at,
            cid,
            media,
            reply_to,
            edited_at,
            deleted,
            reactions,
            change,
            thread,
            in_conversation,
            thread_summary,
            mentions,
            everyone,
        } = m;
        let conversation = ConversationId::pair(from.id, to.id);
        let revision = Revision { edited_at, deleted, reactions, change, thread: thread_summary };
        let in_thread = thread.map(|root| InThread { root, in_conversation });
        let mentions = Mentions { users: mentions, everyone };
        Message {
            id,
            seq,
            conversation,
            from,
            to: Some(to),
            text,
            at,
            cid,
            media,
            reply_to,
            in_thread,
            revision,
            mentions,
        }
    }
}

impl HistoryPage {
    /// A page of one conversation's messages, in their wire shapes: a
    /// room's fill `messages`, a pair's fill `secrets`.
    pub fn of(page: Vec<Message>, more: bool, epoch: String, changes: i64) -> HistoryPage {
        let mut out = HistoryPage { more, epoch, changes, ..HistoryPage::default() };
        for message in page {
            match message.into_wire() {
                WireMessage::Room(message) => out.messages.push(message),
                WireMessage::Pair(secret) => out.secrets.push(secret),
            }
        }
        out
    }

    /// The page's messages, whichever shape they came in, oldest first.
    pub fn into_messages(self) -> Vec<Message> {
        let mut all: Vec<Message> = self.messages.into_iter().map(Message::from).collect();
        all.extend(self.secrets.into_iter().map(Message::from));
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(id: UserId) -> User {
        User { id, name: format!("u{id}") }
    }

    #[test]
    fn a_pair_is_the_same_either_way_round() {
        assert_eq!(ConversationId::pair(7, 3), ConversationId::pair(3, 7));
        assert_eq!(ConversationId::pair(7, 3).peer_of(3), Some(7));
        assert_eq!(ConversationId::pair(7, 3).peer_of(7), Some(3));
        assert_eq!(ConversationId::pair(7, 3).peer_of(5), None);
        assert_eq!(ConversationId::room("lobby").peer_of(3), None);
    }

    #[test]
    fn both_wire_shapes_round_trip() {
        let room = ChatMessage {
            id: 1,
            seq: 4,
            room: "design".into(),
            from: user(2),
            text: "hi".into(),
            at: 9,
            cid: Some("c".into()),
            media: None,
            reply_to: Some(super::super::Quote {
                id: 9,
                seq: 3,
                from: user(3),
                text: "the question".into(),
                deleted: false,
                media: false,
            }),
            edited_at: Some(11),
            deleted: false,
            reactions: vec![super::super::Reaction { emoji: "👍".into(), users: vec![2, 3], count: 2 }],
            change: 2,
            thread: Some(9),
            in_conversation: true,
            thread_summary: None,
            mentions: vec![3],
            everyone: Some(Everyone::Here),
        };
        let message = Message::from(room.clone());
        assert_eq!(message.event(), "message");
        assert_eq!(message.into_wire(), WireMessage::Room(room));
        let secret = SecretMessage {
            id: 2,
            seq: 1,
            from: user(5),
            to: user(3),
            text: "psst".into(),
            at: 10,
            cid: None,
            media: None,
            reply_to: None,
            edited_at: None,
            deleted: true,
            reactions: Vec::new(),
            change: 1,
            thread: None,
            in_conversation: false,
            thread_summary: Some(super::super::ThreadSummary { replies: 2, last_at: 12 }),
            mentions: Vec::new(),
            everyone: None,
        };
        let message = Message::from(secret.clone());
        assert_eq!(message.conversation, ConversationId::Pair(3, 5));
        assert_eq!(message.event(), "secret");
        assert_eq!(message.into_wire(), WireMessage::Pair(secret));
    }
}
