//! The real-time contract in code: event names, payload types and limits,
//! shared by the server and the WASM client so both sides agree by
//! construction. docs/protocol.md is the prose version of this file; change
//! them together.
//!
//! Times (`at`) are milliseconds since the Unix epoch, so a JavaScript client
//! can pass them straight to `new Date(at)`.

use serde::{Deserialize, Serialize};

use crate::error::{ChatError, InvalidInput};

mod address;
mod changes;
mod conversation;
mod media;
mod mentions;
mod name_order;
mod notify;
mod push;
mod reading;
mod reply;
mod rooms;
mod search;
mod snapshot;
mod typing;
pub use address::{percent_decode, percent_encode, Page};
pub use changes::*;
pub use conversation::*;
pub use media::*;
pub use mentions::*;
pub use name_order::{by_name, starts_with_folded};
pub use notify::*;
pub use push::*;
pub use reading::*;
pub use reply::*;
pub use rooms::*;
pub use search::*;
pub use snapshot::{ChatSnapshot, RefusedForm};
pub use typing::*;

/// Event names. Extend the list, never rename an entry: the prototype's
/// clients depend on them.
pub mod event {
    pub const ONLINE: &str = "online";
    pub const OFFLINE: &str = "offline";
    /// Server → client: everyone online (`PresenceList`). Client → server,
    /// with ack: send me that list again (after a skipped `version`).
    pub const PRESENCE: &str = "presence";
    /// Who came online and who left, batched; only to sockets that asked
    /// for it at the handshake (`auth: {presence: "batched"}`).
    pub const PRESENCE_CHANGES: &str = "presence_changes";
    pub const MESSAGE: &str = "message";
    pub const SECRET: &str = "secret";
    /// Server → client, right after connect: who this socket is (or `null`).
    pub const SESSION: &str = "session";
    /// Server → client: an error that has no ack to travel in.
    pub const ERROR: &str = "error";
    /// Client → server, with ack: a page of one conversation's history, by
    /// `seq` cursor. Resuming after a reconnect is `history {after: lastSeq}`.
    pub const HISTORY: &str = "history";
    /// Client → server, with ack: my private conversations, most recent
    /// first, each with its last `seq` (what a resuming client compares).
    pub const CONVERSATIONS: &str = "conversations";
    /// Client → server, with ack: the lobby, my rooms and public ones, a
    /// page at a time (`{query?, after?}`, see `RoomsRequest`).
    pub const ROOMS: &str = "rooms";
    /// Client → server, with ack: `{title?, name?, private?}`.
    pub const CREATE_ROOM: &str = "create_room";
    /// Client → server, with ack: `{room}`.
    pub const JOIN_ROOM: &str = "join_room";
    /// Client → server, with ack: `{room}`.
    pub const LEAVE_ROOM: &str = "leave_room";
    /// Client → server, with ack: `{room, user}` (private rooms).
    pub const INVITE: &str = "invite";
    /// Client → server, with ack: `{room}`: who is in it (`RoomMembers`).
    pub const ROOM_MEMBERS: &str = "room_members";
    /// Server → everyone: a public room was created.
    pub const ROOM_CREATED: &str = "room_created";
    /// Server → everyone: several public rooms were created within one
    /// second (`RoomsCreated`), announced together.
    pub const ROOMS_CREATED: &str = "rooms_created";
    /// Server → the invitee's sockets: you were added to a private room.
    pub const INVITED: &str = "invited";
    /// Client → server, with ack: `{id, text}`, new text for my message.
    pub const EDIT: &str = "edit";
    /// Client → server, with ack: `{id}`, my message deleted for everyone.
    pub const DELETE: &str = "delete";
    /// Client → server, with ack: `{id, emoji}`, my reaction on or off.
    pub const REACT: &str = "react";
    /// Client → server, with ack: `{room?, with?, after}`, the messages
    /// changed since a change number (`ChangesRequest`).
    pub const CHANGES: &str = "changes";
    /// Server → a room's members: a message of it changed, in its current
    /// state (a `message`'s shape).
    pub const MESSAGE_CHANGED: &str = "message_changed";
    /// Server → the two parties: a private message changed (a `secret`'s
    /// shape).
    pub const SECRET_CHANGED: &str = "secret_changed";
    /// Client → server, with ack: `{room?, with?}`, I am typing there.
    /// Server → a conversation's sockets: who is typing there now
    /// (`Typing`), at most once a second.
    pub const TYPING: &str = "typing";
    /// Client → server, with ack: `{room?, with?, seq}`, I read up to
    /// `seq`. Server → my other sockets: where I am now (`ReadState`).
    pub const READ: &str = "read";
    /// Client → server, with ack: where I am in every conversation of mine
    /// (`ReadStates`).
    pub const READS: &str = "reads";
    /// Server → the other party of a private conversation: how far it was
    /// read (`Seen`).
    pub const SEEN: &str = "seen";
    /// Client → server, with ack: `{q, before?}`, the messages I may read
    /// that match (`SearchPage`), newest first.
    pub const SEARCH: &str = "search";
    /// Client → server, with ack: the messages that called me, newest
    /// first, a page at a time (`{before?}`; the ack is a search's page).
    pub const MENTIONS: &str = "mentions";
    /// Client → server, with ack: `{room? | with?, level}`, how much of a
    /// conversation notifies me (`NotifySetting`). Server → my other
    /// sockets: the same `NotifySetting`.
    pub const NOTIFY: &str = "notify";
    /// Client → server, with ack: `PushSubscription`, keep this device's
    /// Web Push subscription for my session.
    pub const PUSH_SUBSCRIBE: &str = "push_subscribe";
    /// Client → server, with ack: `{endpoint}`, forget it.
    pub const PUSH_UNSUBSCRIBE: &str = "push_unsubscribe";
}

/// Where the browser turns a session token into the session cookie (the
/// `adopt_session` server function).
pub const ADOPT_SESSION_PATH: &str = "/api/adopt_session";

/// The default room. Every socket joins it on connect, so a visitor who has
/// not picked a name yet still watches the conversation live.
pub const LOBBY: &str = "lobby";
/// Longest message text, in characters (Unicode scalar values).
pub const MAX_TEXT_CHARS: usize = 4000;
/// Longest display name, in characters.
pub const MAX_NAME_CHARS: usize = 32;
/// Password length range, in characters. The upper bound keeps hashing
/// cheap and is long enough for any passphrase.
pub const MIN_PASSWORD_CHARS: usize = 8;
pub const MAX_PASSWORD_CHARS: usize = 256;
/// Longest client message id (`cid`), in bytes.
pub const MAX_CID_BYTES: usize = 64;
/// How many messages a history page holds (the SSR page shows one page).
pub const HISTORY_PAGE: usize = 50;
/// The most messages one `history` request returns.
pub const MAX_HISTORY_PAGE: usize = 500;
/// The most private conversations `conversations` lists (most recent first).
pub const MAX_CONVERSATIONS: usize = 200;

pub type UserId = i64;

/// A chat identity as everyone else sees it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Hash)]
pub struct User {
    pub id: UserId,
    pub name: String,
}

// ---- client → server -------------------------------------------------------

/// `online`: take a display name. The prototype sent a bare string; both forms
/// are accepted.
#[derive(Deserialize, Serialize, Clone, Debug)]
#[serde(untagged)]
pub enum OnlineRequest {
    Named { name: String },
    Bare(String),
}

impl OnlineRequest {
    pub fn name(&self) -> &str {
        match self {
            OnlineRequest::Named { name } | OnlineRequest::Bare(name) => name,
        }
    }
}

/// `message`: post to a room (default [`LOBBY`]).
#[derive(Deserialize, Serialize, Clone, Debug)]
pub struct MessageRequest {
    /// May be empty when `media` is given (a caption is optional).
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub cid: Option<String>,
    #[serde(default)]
    pub room: Option<String>,
    /// The id of an upload of mine (see [`UPLOAD_PATH`]) this message carries.
    #[serde(default)]
    pub media: Option<String>,
    /// The id of the message of this room it answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<i64>,
    /// The id of the thread's root (a message of the same conversation)
    /// this is a reply in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread: Option<i64>,
    /// A thread reply that is sent to the conversation as well.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub also_to_conversation: bool,
    /// The ids of the people it names (`@name` in the text), at most
    /// [`MAX_MENTIONS`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mentions: Vec<UserId>,
    /// `here` or `room`: it calls the room's online members, or all of them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub everyone: Option<Everyone>,
}

/// `history`: a page of the lobby (default) or, with `with`, of my private
/// conversation with that user. `after` pages forward from a `seq` (resume),
/// `before` pages back (scrolling up); neither gives the latest page.
#[derive(Deserialize, Serialize, Clone, Debug, Default)]
pub struct HistoryRequest {
    #[serde(default)]
    pub room: Option<String>,
    #[serde(default)]
    pub with: Option<UserId>,
    #[serde(default)]
    pub before: Option<i64>,
    #[serde(default)]
    pub after: Option<i64>,
    #[serde(default)]
    pub limit: Option<usize>,
    /// The replies of the thread whose root this is, instead (by `seq`,
    /// with `after`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread: Option<i64>,
}

/// Ack body of `history`: messages in `seq` order, oldest first. Room pages
/// fill `messages`, private pages fill `secrets`; both are always present. `more` says the page was
/// cut at `limit`: there is more in the direction asked.
#[derive(Serialize, Deserialize, Clone, Debug, Default)]
pub struct HistoryPage {
    #[serde(default)]
    pub messages: Vec<ChatMessage>,
    #[serde(default)]
    pub secrets: Vec<SecretMessage>,
    pub more: bool,
    /// Which history this is. A client that sees it change drops what it
    /// has and starts over: the server's history was reset.
    #[serde(default)]
    pub epoch: String,
    /// The conversation's change number when the page was read (read
    /// first): the page shows every change up to it.
    #[serde(default)]
    pub changes: i64,
}

/// `secret`: a private message to one user, relayed by the server.
#[derive(Deserialize, Serialize, Clone, Debug)]
pub struct SecretRequest {
    pub to: UserId,
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub cid: Option<String>,
    /// As in [`MessageRequest::media`].
    #[serde(default)]
    pub media: Option<String>,
    /// The id of the message of this conversation it answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<i64>,
    /// The id of the thread's root (a message of the same conversation)
    /// this is a reply in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread: Option<i64>,
    /// A thread reply that is sent to the conversation as well.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub also_to_conversation: bool,
    /// The ids of the people it names (`@name` in the text), at most
    /// [`MAX_MENTIONS`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mentions: Vec<UserId>,
    /// `here` or `room`: it calls the room's online members, or all of them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub everyone: Option<Everyone>,
}

// ---- server → client -------------------------------------------------------

/// Ack body of a successful `online`.
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct OnlineAck {
    pub user: User,
    /// A session token: pass it as handshake `auth: {token}` to come back as
    /// the same user without another `online`.
    pub token: String,
}

/// Ack body of a successful `message` or `secret`, sent after the commit.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct MessageAck {
    pub id: i64,
    pub seq: i64,
    pub at: i64,
}

/// `online` broadcast, and `offline` broadcast: a user came or went.
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct PresenceChange {
    pub user: User,
    pub at: i64,
}

/// `presence_changes`: the changes since the last one, each user at most
/// once. Apply `offline` (remove) and `online` (add, or rename by id).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct PresenceChanges {
    pub online: Vec<User>,
    pub offline: Vec<User>,
    pub at: i64,
    /// Counts batches from 1 since the server started. One skipped means a
    /// batch was lost on the way (a full socket queue): ask for the list.
    #[serde(default)]
    pub version: u64,
}

/// The handshake's `auth` value that asks for `presence_changes` instead of
/// one `online`/`offline` event per change.
pub const BATCHED_PRESENCE: &str = "batched";

/// The handshake's `auth` payload. Both fields are optional: the prototype's
/// client sends none. No `Debug`: it can hold a session token, which must
/// never reach a log.
#[derive(Serialize, Deserialize, Default)]
pub struct HandshakeAuth {
    /// A session token, for clients without the session cookie.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// [`BATCHED_PRESENCE`] asks for `presence_changes`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presence: Option<String>,
}

/// `presence`: everyone online now.
#[derive(Serialize, Deserialize, Clone, Debug, Default)]
pub struct PresenceList {
    pub users: Vec<User>,
    /// The `version` of the last `presence_changes` batch the list includes;
    /// the next batch is `version + 1`.
    #[serde(default)]
    pub version: u64,
}

/// One of my private conversations, as `conversations` lists it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ConversationSummary {
    /// The other party.
    pub with: User,
    /// The conversation's newest `seq`.
    pub last_seq: i64,
    /// When its newest message was sent.
    pub last_at: i64,
    /// Its newest change number (edits, deletions, reactions; 0: none).
    #[serde(default)]
    pub last_change: i64,
}

/// Ack body of `conversations`.
#[derive(Serialize, Deserialize, Clone, Debug, Default)]
pub struct ConversationList {
    pub conversations: Vec<ConversationSummary>,
}

/// `session`: who the server thinks this socket is.
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct SessionInfo {
    pub user: Option<User>,
}

// ---- validation, shared so the composer can say what is wrong before sending

/// Checks message text; returns it trimmed of surrounding whitespace.
pub fn validate_text(text: &str) -> Result<&str, InvalidInput> {
    let text = text.trim();
    if text.is_empty() {
        return Err(InvalidInput::EmptyText);
    }
    if text.chars().count() > MAX_TEXT_CHARS {
        return Err(InvalidInput::TextTooLong { max: MAX_TEXT_CHARS });
    }
    Ok(text)
}

/// Checks the text of a message that may carry a file: with one, the text
/// is an optional caption.
pub fn validate_body(text: &str, has_media: bool) -> Result<&str, InvalidInput> {
    if has_media && text.trim().is_empty() {
        return Ok("");
    }
    validate_text(text)
}

/// Checks a display name; returns it trimmed.
pub fn validate_name(name: &str) -> Result<&str, InvalidInput> {
    let name = name.trim();
    if name.is_empty() {
        return Err(InvalidInput::InvalidName("a name cannot be empty".into()));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(InvalidInput::InvalidName(format!("a name can have at most {MAX_NAME_CHARS} characters")));
    }
    if name.chars().any(|c| c.is_control() || is_invisible_format(c)) {
        return Err(InvalidInput::InvalidName("a name cannot contain control or invisible characters".into()));
    }
    Ok(name)
}

/// Zero-width and direction-changing characters (the common ones of
/// Unicode category Cf) would let `ali\u{200B}ce` pass for `alice`, or
/// `photo\u{202E}gnp.exe` for `photoexe.png`.
pub fn is_invisible_format(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{061C}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206F}'
            | '\u{FEFF}'
    )
}

/// Checks an optional client message id.
pub fn validate_cid(cid: Option<&str>) -> Result<(), ChatError> {
    match cid {
        Some(cid) if cid.is_empty() || cid.len() > MAX_CID_BYTES => {
            Err(ChatError::InvalidPayload(format!("cid must be 1 to {MAX_CID_BYTES} bytes")))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn online_accepts_object_or_bare_string() {
        let a: OnlineRequest = serde_json::from_str(r#"{"name":"alice"}"#).unwrap();
        let b: OnlineRequest = serde_json::from_str(r#""bob""#).unwrap();
        assert_eq!(a.name(), "alice");
        assert_eq!(b.name(), "bob");
        assert!(serde_json::from_str::<OnlineRequest>("42").is_err());
    }

    #[test]
    fn text_limits_count_characters_not_bytes() {
        assert_eq!(validate_text("  hi  ").unwrap(), "hi");
        assert_eq!(validate_text(" \n ").unwrap_err(), InvalidInput::EmptyText);
        let max = "é".repeat(MAX_TEXT_CHARS);
        assert!(validate_text(&max).is_ok());
        assert!(matches!(validate_text(&format!("{max}x")), Err(InvalidInput::TextTooLong { .. })));
    }

    #[test]
    fn names_are_bounded_and_printable() {
        assert_eq!(validate_name(" Alice ").unwrap(), "Alice");
        assert!(validate_name("").is_err());
        assert!(validate_name("a\u{7}b").is_err());
        assert!(validate_name("ali\u{200B}ce").is_err());
        assert!(validate_name("\u{202E}ecila").is_err());
        assert!(validate_name("Zoë 🦀").is_ok());
        assert!(validate_name(&"n".repeat(MAX_NAME_CHARS + 1)).is_err());
    }

    #[test]
    fn the_handshake_auth_has_the_wire_form_the_server_reads() {
        let auth = HandshakeAuth { presence: Some(BATCHED_PRESENCE.into()), token: None };
        assert_eq!(serde_json::to_string(&auth).unwrap(), r#"{"presence":"batched"}"#);
        let read: HandshakeAuth = serde_json::from_str(r#"{"token":"t"}"#).unwrap();
        assert_eq!((read.token.as_deref(), read.presence), (Some("t"), None));
    }
}
