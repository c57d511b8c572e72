//! What a chat page starts from: the server loads it before rendering
//! (`server::chat::snapshot`), the page carries it as JSON for hydration,
//! and `/api/chat` answers it to clients of the HTTP API.

use serde::{Deserialize, Serialize};

use super::{ChatMessage, ConversationSummary, RoomInfo, SecretMessage, User};
use crate::error::ApiError;

#[derive(Serialize, Deserialize, Clone, Debug, Default)]
pub struct ChatSnapshot {
    pub me: Option<User>,
    /// The conversation the URL names: a room (`/`, `/r/{room}`) or, with
    /// `direct`, a private conversation (`/dm/{user}`).
    pub room: String,
    #[serde(default)]
    pub direct: Option<User>,
    /// The latest page of that room, or of that private conversation.
    pub messages: Vec<ChatMessage>,
    #[serde(default)]
    pub secrets: Vec<SecretMessage>,
    /// That conversation's change number when the page was read (see
    /// `HistoryPage::changes`).
    #[serde(default)]
    pub changes: i64,
    /// Where I am in each conversation of mine (unread counts).
    #[serde(default)]
    pub reads: Vec<super::ReadState>,
    /// The levels I chose (see `ReadStates::notify`).
    #[serde(default)]
    pub notify: Vec<super::NotifySetting>,
    /// The rooms I can see: the lobby, my rooms, then a page of public ones
    /// (`rooms` with the address's `?query=&after=`, see `RoomsRequest`).
    #[serde(default)]
    pub rooms: Vec<RoomInfo>,
    /// More public rooms follow those listed.
    #[serde(default)]
    pub more_rooms: bool,
    /// The room search the address asked for (`?query=`), if any.
    #[serde(default)]
    pub room_query: String,
    pub online: Vec<User>,
    /// My private conversations, most recent first.
    #[serde(default)]
    pub conversations: Vec<ConversationSummary>,
    /// The server's history epoch (see `HistoryPage::epoch`).
    #[serde(default)]
    pub epoch: String,
    /// Whether the server lets people join as guests.
    #[serde(default)]
    pub allow_guests: bool,
    /// Something to tell the reader at once (why the address showed the
    /// lobby instead, say).
    #[serde(default)]
    pub notice: Option<String>,
    /// A form post the server refused, shown beside its form: the page
    /// came back with it, signed (`server::http::refusals`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refused: Option<RefusedForm>,
    /// The largest file the server takes, so the browser can say so before
    /// sending a byte.
    #[serde(default)]
    pub max_upload_bytes: u64,
    /// The server's VAPID public key, when it sends Web Pushes: a device
    /// subscribes under it (`push_subscribe`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub push_key: Option<String>,
    /// The server's clock when it rendered the page (ms since the epoch),
    /// so that the first frame says "Today" where the server did.
    #[serde(default)]
    pub now: i64,
}

/// A form post the server refused: the server function's path (so that
/// only its own form shows it) and why.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct RefusedForm {
    pub path: String,
    pub error: ApiError,
}
