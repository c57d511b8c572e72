//! The chat as reactive signals: who I am, who is online, the rooms, my
//! private conversations and the connection's state. The server renders the
//! first frame from a [`ChatSnapshot`]; in the browser the socket client
//! feeds every event through [`ChatState::apply`], so one function decides
//! how the view changes.

mod outbox;
mod presence;
mod private;
mod rooms;
mod uploads;

pub use outbox::{Outgoing, MAX_OUTBOX};
pub use uploads::{Upload, MAX_TRAY};

use std::collections::HashMap;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::protocol::{
    event, ChatMessage, ConversationSummary, PresenceChange, PresenceChanges, PresenceList, RoomInfo, SecretMessage,
    SessionInfo, User, UserId, LOBBY,
};

/// Messages kept per conversation in the browser; older ones are dropped.
pub const MAX_KEPT_MESSAGES: usize = 1000;
/// Gaps kept for the next reconnect when filling them failed; the oldest
/// go first.
pub const MAX_UNFILLED_GAPS: usize = 64;

/// A live message arrived with a `seq` past the next one expected, so some
/// never reached me: the server drops packets for a socket whose queue is
/// full (a tab that stalled, a slow link) rather than let one reader hold
/// everyone back. `seen` is the newest `seq` I had before the jump; the
/// session fetches what came after it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Gap {
    Room {
        room: String,
        seen: i64,
    },
    /// `seen` is `None` for a conversation I knew nothing of, whose first
    /// message I did not get (or which is older than the list I was sent):
    /// its latest page is loaded, none of it counted unread.
    Direct {
        peer: UserId,
        seen: Option<i64>,
    },
    /// A `presence_changes` batch was skipped: ask for the whole list.
    Presence,
}

/// What the server-rendered page starts from.
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
    /// The rooms I can see: the lobby, public rooms, my private ones.
    #[serde(default)]
    pub rooms: Vec<RoomInfo>,
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
    /// The largest file the server takes, so the browser can say so before
    /// sending a byte.
    #[serde(default)]
    pub max_upload_bytes: u64,
}

/// The socket's state as the user sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnStatus {
    /// Before the first connection (and on the server-rendered page).
    Connecting,
    Connected,
    /// The connection dropped; retrying with backoff.
    Reconnecting {
        attempt: u32,
    },
    /// The browser says there is no network.
    Offline,
}

impl ConnStatus {
    pub fn label(self) -> String {
        match self {
            ConnStatus::Connecting => "Connecting…".into(),
            ConnStatus::Connected => "Connected".into(),
            ConnStatus::Reconnecting { attempt } if attempt <= 1 => "Reconnecting…".into(),
            ConnStatus::Reconnecting { attempt } => format!("Reconnecting… (attempt {attempt})"),
            ConnStatus::Offline => "Offline".into(),
        }
    }

    /// A stable token for CSS and tests.
    pub fn key(self) -> &'static str {
        match self {
            ConnStatus::Connecting => "connecting",
            ConnStatus::Connected => "connected",
            ConnStatus::Reconnecting { .. } => "reconnecting",
            ConnStatus::Offline => "offline",
        }
    }
}

/// The conversation on screen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Conversation {
    Room(String),
    Direct(User),
}

impl Conversation {
    pub fn lobby() -> Conversation {
        Conversation::Room(LOBBY.to_owned())
    }

    /// Where this conversation lives: `/`, `/r/{room}` or `/dm/{user id}`.
    pub fn path(&self) -> String {
        match self {
            Conversation::Room(room) if room == LOBBY => "/".to_owned(),
            Conversation::Room(room) => format!("/r/{room}"),
            Conversation::Direct(peer) => format!("/dm/{}", peer.id),
        }
    }
}

#[derive(Clone, Copy)]
pub struct ChatState {
    pub me: RwSignal<Option<User>>,
    /// The messages I have of each room, by room name, in seq order.
    pub room_messages: RwSignal<HashMap<String, Vec<ChatMessage>>>,
    /// The rooms I can see, by name.
    pub rooms: RwSignal<Vec<RoomInfo>>,
    /// Unread messages per room.
    pub room_unread: RwSignal<HashMap<String, usize>>,
    /// The private messages I have loaded, sent or received, by `id`.
    pub secrets: RwSignal<Vec<SecretMessage>>,
    /// My private conversations, most recent first, each with the newest
    /// `seq` I know of (loaded or not).
    pub conversations: RwSignal<Vec<ConversationSummary>>,
    pub online: RwSignal<Vec<User>>,
    /// The `version` of the last presence batch applied to `online`; `None`
    /// until the server's first list or versioned batch.
    pub presence_version: StoredValue<Option<u64>>,
    /// Gaps whose filling failed (the connection dropped meanwhile, say).
    /// The newest `seq` has moved past them, so resuming by `seq` alone
    /// would never ask for them again.
    pub unfilled_gaps: StoredValue<Vec<Gap>>,
    pub status: RwSignal<ConnStatus>,
    pub active: RwSignal<Conversation>,
    /// Unread private messages per peer.
    pub unread: RwSignal<HashMap<UserId, usize>>,
    /// The last error the server pushed without an ack to carry it.
    pub notice: RwSignal<Option<String>>,
    /// Minutes east of UTC for showing times; 0 until the browser says.
    pub utc_offset_minutes: RwSignal<i32>,
    /// Messages I wrote that the server has not confirmed yet, oldest first.
    pub outbox: RwSignal<Vec<Outgoing>>,
    /// The history epoch the messages above belong to.
    pub epoch: StoredValue<String>,
    /// Files being uploaded, in the order they were picked.
    pub uploads: RwSignal<Vec<Upload>>,
    pub max_upload_bytes: StoredValue<u64>,
}

impl ChatState {
    pub fn new(snapshot: ChatSnapshot) -> ChatState {
        ChatState {
            me: RwSignal::new(snapshot.me),
            room_messages: RwSignal::new(HashMap::from([(snapshot.room.clone(), snapshot.messages)])),
            rooms: RwSignal::new(snapshot.rooms),
            room_unread: RwSignal::new(HashMap::new()),
            secrets: RwSignal::new(snapshot.secrets),
            conversations: RwSignal::new(snapshot.conversations),
            online: RwSignal::new(snapshot.online),
            presence_version: StoredValue::new(None),
            unfilled_gaps: StoredValue::new(Vec::new()),
            status: RwSignal::new(ConnStatus::Connecting),
            active: RwSignal::new(match snapshot.direct {
                Some(peer) => Conversation::Direct(peer),
                None => Conversation::Room(snapshot.room),
            }),
            unread: RwSignal::new(HashMap::new()),
            notice: RwSignal::new(snapshot.notice),
            utc_offset_minutes: RwSignal::new(0),
            outbox: RwSignal::new(Vec::new()),
            epoch: StoredValue::new(snapshot.epoch),
            uploads: RwSignal::new(Vec::new()),
            max_upload_bytes: StoredValue::new(snapshot.max_upload_bytes),
        }
    }

    fn is_me(&self, id: UserId) -> bool {
        self.me.with_untracked(|me| me.as_ref().is_some_and(|me| me.id == id))
    }

    /// Applies one server event, its payload as JSON text. Unknown events
    /// and unreadable payloads are ignored: a newer server may send more
    /// than this client knows. Returns the gap a live message revealed, for
    /// the caller to fill.
    pub fn apply(&self, name: &str, data: &str) -> Option<Gap> {
        match name {
            event::SESSION => {
                if let Ok(info) = serde_json::from_str::<SessionInfo>(data) {
                    self.me.set(info.user);
                }
            }
            event::PRESENCE => {
                if let Ok(list) = serde_json::from_str::<PresenceList>(data) {
                    self.set_presence(list);
                }
            }
            event::PRESENCE_CHANGES => {
                if let Ok(changes) = serde_json::from_str::<PresenceChanges>(data) {
                    return self.change_presence(changes);
                }
            }
            event::ONLINE => {
                if let Ok(change) = serde_json::from_str::<PresenceChange>(data) {
                    self.came_online(change.user);
                }
            }
            event::OFFLINE => {
                if let Ok(change) = serde_json::from_str::<PresenceChange>(data) {
                    self.went_offline(&change.user);
                }
            }
            event::MESSAGE => {
                if let Ok(message) = serde_json::from_str::<ChatMessage>(data) {
                    if let Some(cid) = message.cid.as_deref().filter(|_| self.is_me(message.from.id)) {
                        self.confirm(cid);
                    }
                    return self.add_room_message(message);
                }
            }
            event::SECRET => {
                if let Ok(secret) = serde_json::from_str::<SecretMessage>(data) {
                    if let Some(cid) = secret.cid.as_deref().filter(|_| self.is_me(secret.from.id)) {
                        self.confirm(cid);
                    }
                    return self.add_secret(secret);
                }
            }
            event::ROOM_CREATED | event::INVITED => {
                if let Ok(room) = serde_json::from_str::<RoomInfo>(data) {
                    self.note_room(room);
                }
            }
            event::ERROR => {
                if let Ok(error) = serde_json::from_str::<crate::error::ApiError>(data) {
                    self.notice.set(Some(error.message));
                }
            }
            _ => {}
        }
        None
    }

    /// Keeps a gap that could not be filled now, for the next resume.
    pub fn keep_unfilled(&self, gap: Gap) {
        self.unfilled_gaps.update_value(|gaps| {
            if !gaps.contains(&gap) {
                if gaps.len() == MAX_UNFILLED_GAPS {
                    gaps.remove(0);
                }
                gaps.push(gap);
            }
        });
    }

    /// The server's history was reset (`epoch` is new): nothing I have
    /// lines up with it any more, so drop it all and start over. Unsent
    /// messages stay in the outbox.
    pub fn start_over(&self, epoch: String) {
        self.epoch.set_value(epoch);
        self.room_messages.set(HashMap::new());
        self.secrets.set(Vec::new());
        self.conversations.set(Vec::new());
        self.unread.set(HashMap::new());
        self.unfilled_gaps.set_value(Vec::new());
    }

    pub fn open(&self, conversation: Conversation) {
        match &conversation {
            Conversation::Direct(peer) => self.unread.update(|unread| {
                unread.remove(&peer.id);
            }),
            Conversation::Room(room) => self.room_unread.update(|unread| {
                unread.remove(room);
            }),
        }
        self.active.set(conversation);
    }
}

/// Keeps `list` ordered by seq whatever order messages arrive in, and never
/// shows one message twice. Returns whether `item` was new.
fn insert_by_seq<T>(list: &mut Vec<T>, item: T, seq: impl Fn(&T) -> i64, id: impl Fn(&T) -> i64) -> bool {
    if list.iter().rev().any(|m| id(m) == id(&item)) {
        return false;
    }
    let position = list.iter().rposition(|m| seq(m) < seq(&item)).map_or(0, |p| p + 1);
    list.insert(position, item);
    if list.len() > MAX_KEPT_MESSAGES {
        list.remove(0);
    }
    true
}

/// `HH:MM` for a millisecond timestamp, shifted by `offset_minutes`.
pub fn clock_time(at_ms: i64, offset_minutes: i32) -> String {
    let minutes = (at_ms / 60_000 + i64::from(offset_minutes)).rem_euclid(24 * 60);
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

#[cfg(test)]
mod tests;
