//! The chat as reactive signals: who I am, who is online, the rooms, every
//! conversation's messages and the connection's state. The server renders
//! the first frame from a [`ChatSnapshot`]; in the browser the socket
//! client feeds every event through [`ChatState::apply`], so one function
//! decides how the view changes.
//!
//! Rooms and private conversations are one thing here, as on the server:
//! messages are kept per [`ConversationId`] (`conversations.rs`), however
//! they arrived (`message` or `secret`, live or paged).

mod calendar;
mod changes;
mod conversations;
mod drafts;
mod mentions;
mod notify;
mod outbox;
mod presence;
mod reading;
mod rooms;
mod uploads;

pub use calendar::{iso_day, iso_instant, LocalClock};
pub use conversations::Conversation;
pub use mentions::{typed_mention, Offer, MAX_OFFERED};
pub use outbox::{Outgoing, MAX_OUTBOX};
pub use uploads::{Upload, MAX_TRAY};

use std::collections::{HashMap, HashSet};

use leptos::prelude::*;

use crate::i18n::{fill, words};
pub use crate::protocol::ChatSnapshot;
use crate::protocol::{
    event, next_rooms_after, ChatMessage, ConversationId, ConversationSummary, HistoryPage, Message, Notify,
    NotifySetting, PresenceChange, PresenceChanges, PresenceList, Quote, ReadState, RoomInfo, RoomMember, RoomsCreated,
    SecretMessage, Seen, SessionInfo, Typing, User, UserId,
};

/// Messages kept per conversation in the browser; older ones are dropped.
pub const MAX_KEPT_MESSAGES: usize = 1000;
/// Gaps kept for the next reconnect when filling them failed; the oldest
/// go first.
pub const MAX_UNFILLED_GAPS: usize = 64;

/// Something I missed while connected, for the session to fetch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Gap {
    /// A live message arrived with a `seq` past the next one expected, so
    /// some never reached me: the server drops packets for a socket whose
    /// queue is full (a tab that stalled, a slow link) rather than let one
    /// reader hold everyone back. `seen` is the newest `seq` I had before
    /// the jump.
    Conversation { id: ConversationId, seen: i64 },
    /// A live change to a message skipped a change number after `seen`,
    /// the newest I had in that conversation: ask for what changed since.
    Changes { id: ConversationId, seen: i64 },
    /// A `presence_changes` batch was skipped: ask for the whole list.
    Presence,
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
            ConnStatus::Connecting => words().status_connecting().inner().into(),
            ConnStatus::Connected => words().status_connected().inner().into(),
            ConnStatus::Reconnecting { attempt } if attempt <= 1 => words().status_reconnecting().inner().into(),
            ConnStatus::Reconnecting { attempt } => {
                fill(words().status_reconnecting_attempt().inner(), &[("attempt", &attempt.to_string())])
            }
            ConnStatus::Offline => words().status_offline().inner().into(),
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

/// What the interface says of who is typing: "Alice is typing…", "Alice
/// and Bob are typing…", "Several people are typing…" (in the page's
/// language); nothing when nobody is.
pub fn typing_line(users: &[String]) -> String {
    let words = words();
    match users {
        [] => String::new(),
        [one] => fill(words.typing_one().inner(), &[("name", one)]),
        [one, two] => fill(words.typing_two().inner(), &[("one", one), ("two", two)]),
        _ => words.typing_many().inner().to_owned(),
    }
}

#[derive(Clone, Copy)]
pub struct ChatState {
    pub me: RwSignal<Option<User>>,
    /// The messages I have of each conversation, in seq order.
    pub messages: RwSignal<HashMap<ConversationId, Vec<Message>>>,
    /// Unread messages per conversation.
    pub unread: RwSignal<HashMap<ConversationId, usize>>,
    /// Of those, the ones that call me (`@me`, `@here`, `@room`).
    pub mentioned: RwSignal<HashMap<ConversationId, usize>>,
    /// The conversations whose latest page I hold: opening any other loads
    /// it (it may hold only what arrived live).
    pub loaded: StoredValue<HashSet<ConversationId>>,
    /// The rooms I can see, by name.
    pub rooms: RwSignal<Vec<RoomInfo>>,
    /// Where the next page of public rooms starts, if there is one.
    pub rooms_after: RwSignal<Option<String>>,
    /// The room search typed in the sidebar; `rooms` holds the answer.
    pub room_query: RwSignal<String>,
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
    /// The last error the server pushed without an ack to carry it.
    pub notice: RwSignal<Option<String>>,
    /// The reader's clock for showing times and days: the server's, in
    /// UTC, until the browser says.
    pub clock: RwSignal<LocalClock>,
    /// Now, renewed every 30 s, for what says how long ago ("5 minutes
    /// ago": a thread's last reply, a member's last seen): kept apart from
    /// `clock`, which changes only with the day, because every message's
    /// layout reads that one.
    pub now: RwSignal<i64>,
    /// Messages I wrote that the server has not confirmed yet, oldest first.
    pub outbox: RwSignal<Vec<Outgoing>>,
    /// The history epoch the messages above belong to.
    pub epoch: StoredValue<String>,
    /// The newest change number (edits, deletions, reactions) I know of
    /// per conversation (`changes.rs`).
    pub changes_seen: StoredValue<HashMap<ConversationId, i64>>,
    /// Live changes to conversations whose change number I did not know
    /// yet (no page of them held), kept for their first page, which may
    /// have been read before them (`changes.rs`).
    pub changes_early: StoredValue<HashMap<ConversationId, Vec<Message>>>,
    /// Who is typing where, as the server last said (me left out).
    pub typists: StoredValue<HashMap<ConversationId, Vec<User>>>,
    /// Who is typing in the conversation on screen.
    pub typing: RwSignal<Vec<User>>,
    /// How far I have read each conversation (`reading.rs`).
    pub read_seqs: StoredValue<HashMap<ConversationId, i64>>,
    /// In my private conversations, how far the other one has read.
    pub peer_seen: RwSignal<HashMap<ConversationId, i64>>,
    /// The people picked from the composer's `@` menu for the draft
    /// (`mentions.rs`).
    pub mention_picks: StoredValue<Vec<Offer>>,
    /// The members of the room the `@` menu last opened in, online ones
    /// first, as the server listed them then (`mentions.rs`).
    pub room_people: StoredValue<Option<(String, Vec<RoomMember>)>>,
    /// The message I am answering, shown above the composer.
    pub replying: RwSignal<Option<Quote>>,
    /// The thread open beside the conversation: its root's id.
    pub thread: RwSignal<Option<i64>>,
    /// Where the conversation on screen was read up to when it opened, if
    /// others wrote since: the "New messages" line goes after it.
    pub unread_after: RwSignal<Option<i64>>,
    /// What the composer holds, not sent yet.
    pub draft: RwSignal<String>,
    /// The drafts of the conversations not on screen, oldest first
    /// (`drafts.rs`).
    pub waiting_drafts: StoredValue<Vec<(ConversationId, String)>>,
    /// What the thread's composer holds, not sent yet.
    pub thread_draft: RwSignal<String>,
    /// The drafts of the threads not open, by conversation and root,
    /// oldest first (`drafts.rs`; kept in the page only).
    pub waiting_thread_drafts: StoredValue<Vec<((ConversationId, i64), String)>>,
    /// Files being uploaded, in the order they were picked.
    pub uploads: RwSignal<Vec<Upload>>,
    pub max_upload_bytes: StoredValue<u64>,
    /// The people I can see who share their name with another
    /// ([`ChatState::display_name`]). A signal of a type the app has
    /// anyway, kept by an effect: a memo of a new type would cost the
    /// browser bundle kilobytes of reactive machinery.
    pub namesakes: RwSignal<Vec<User>>,
    /// How much of each conversation notifies me, where I chose
    /// (`notify`): the others notify by `Notify::default_for`.
    pub notify_levels: RwSignal<HashMap<ConversationId, Notify>>,
    /// The server's VAPID key, when it sends Web Pushes.
    pub push_key: StoredValue<Option<String>>,
}

impl ChatState {
    pub fn new(snapshot: ChatSnapshot) -> ChatState {
        let me = snapshot.me.as_ref().map(|me| me.id);
        let active = match snapshot.direct {
            Some(peer) => Conversation::Direct(peer),
            None => Conversation::Room(snapshot.room),
        };
        let page = HistoryPage { messages: snapshot.messages, secrets: snapshot.secrets, ..HistoryPage::default() };
        let page = page.into_messages();
        let shown = active.id(me);
        let messages = shown.clone().map(|id| (id, page)).into_iter().collect();
        let changes_seen = shown.clone().map(|id| (id, snapshot.changes)).into_iter().collect();
        let reads = snapshot.reads;
        let levels = snapshot.notify;
        let chat = ChatState {
            me: RwSignal::new(snapshot.me),
            messages: RwSignal::new(messages),
            unread: RwSignal::new(HashMap::new()),
            mentioned: RwSignal::new(HashMap::new()),
            loaded: StoredValue::new(shown.into_iter().collect()),
            rooms_after: RwSignal::new(next_rooms_after(&snapshot.rooms, snapshot.more_rooms)),
            room_query: RwSignal::new(snapshot.room_query),
            rooms: RwSignal::new(snapshot.rooms),
            conversations: RwSignal::new(snapshot.conversations),
            online: RwSignal::new(snapshot.online),
            presence_version: StoredValue::new(None),
            unfilled_gaps: StoredValue::new(Vec::new()),
            status: RwSignal::new(ConnStatus::Connecting),
            active: RwSignal::new(active),
            notice: RwSignal::new(snapshot.notice),
            clock: RwSignal::new(LocalClock { offset_minutes: 0, now_ms: snapshot.now }),
            now: RwSignal::new(snapshot.now),
            outbox: RwSignal::new(Vec::new()),
            epoch: StoredValue::new(snapshot.epoch),
            changes_seen: StoredValue::new(changes_seen),
            changes_early: StoredValue::new(HashMap::new()),
            typists: StoredValue::new(HashMap::new()),
            typing: RwSignal::new(Vec::new()),
            read_seqs: StoredValue::new(HashMap::new()),
            peer_seen: RwSignal::new(HashMap::new()),
            unread_after: RwSignal::new(None),
            mention_picks: StoredValue::new(Vec::new()),
            room_people: StoredValue::new(None),
            replying: RwSignal::new(None),
            thread: RwSignal::new(None),
            draft: RwSignal::new(String::new()),
            waiting_drafts: StoredValue::new(Vec::new()),
            thread_draft: RwSignal::new(String::new()),
            waiting_thread_drafts: StoredValue::new(Vec::new()),
            uploads: RwSignal::new(Vec::new()),
            max_upload_bytes: StoredValue::new(snapshot.max_upload_bytes),
            namesakes: RwSignal::new(Vec::new()),
            notify_levels: RwSignal::new(HashMap::new()),
            push_key: StoredValue::new(snapshot.push_key),
        };
        chat.follow_namesakes();
        chat.choose_levels(&levels);
        chat.apply_reads(reads);
        chat.mark_first_unread();
        chat
    }

    /// The reader's clock at the minute, for what says how long ago
    /// (tracked: it changes every minute).
    pub fn clock_now(&self) -> LocalClock {
        LocalClock { now_ms: self.now.get(), ..self.clock.get() }
    }

    /// Who I am, untracked.
    pub fn me_id(&self) -> Option<UserId> {
        self.me.with_untracked(|me| me.as_ref().map(|me| me.id))
    }

    fn is_me(&self, id: UserId) -> bool {
        self.me_id() == Some(id)
    }

    /// The conversation on screen, as an id (tracked).
    pub fn active_id(&self) -> Option<ConversationId> {
        let me = self.me.with(|me| me.as_ref().map(|me| me.id));
        self.active.with(|active| active.id(me))
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
                    return self.arrived(message.into());
                }
            }
            event::SECRET => {
                if let Ok(secret) = serde_json::from_str::<SecretMessage>(data) {
                    return self.arrived(secret.into());
                }
            }
            event::MESSAGE_CHANGED => {
                if let Ok(message) = serde_json::from_str::<ChatMessage>(data) {
                    return self.changed(message.into());
                }
            }
            event::SECRET_CHANGED => {
                if let Ok(secret) = serde_json::from_str::<SecretMessage>(data) {
                    return self.changed(secret.into());
                }
            }
            event::READ => {
                if let Ok(read) = serde_json::from_str::<ReadState>(data) {
                    self.apply_reads(vec![read]);
                }
            }
            event::NOTIFY => {
                if let Ok(setting) = serde_json::from_str::<NotifySetting>(data) {
                    self.level_chosen(setting);
                }
            }
            event::SEEN => {
                if let Ok(seen) = serde_json::from_str::<Seen>(data) {
                    self.peer_read(seen);
                }
            }
            event::TYPING => {
                if let Ok(typing) = serde_json::from_str::<Typing>(data) {
                    self.typing_changed(typing);
                }
            }
            event::INVITED => {
                if let Ok(room) = serde_json::from_str::<RoomInfo>(data) {
                    self.note_room(room);
                }
            }
            event::ROOM_CREATED => {
                if let Ok(room) = serde_json::from_str::<RoomInfo>(data) {
                    self.room_announced(room);
                }
            }
            event::ROOMS_CREATED => {
                if let Ok(created) = serde_json::from_str::<RoomsCreated>(data) {
                    created.rooms.into_iter().for_each(|room| self.room_announced(room));
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

    /// A live message: mine confirms its outbox entry, and every one is
    /// shown (see [`ChatState::add_message`]).
    fn arrived(&self, message: Message) -> Option<Gap> {
        if let Some(cid) = message.cid.as_deref().filter(|_| self.is_me(message.from.id)) {
            self.confirm(cid);
        }
        self.add_message(message)
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
        self.messages.set(HashMap::new());
        self.conversations.set(Vec::new());
        self.unread.set(HashMap::new());
        self.mentioned.set(HashMap::new());
        self.loaded.set_value(HashSet::new());
        self.changes_seen.set_value(HashMap::new());
        self.changes_early.set_value(HashMap::new());
        self.unfilled_gaps.set_value(Vec::new());
    }

    /// Puts `conversation` on screen; its messages count as read.
    pub fn open(&self, conversation: Conversation) {
        // A reply, or a thread, belongs to the conversation it was in.
        if self.replying.with_untracked(Option::is_some) {
            self.replying.set(None);
        }
        self.show_thread(None);
        let leaving = self.active.with_untracked(|active| active.id(self.me_id()));
        self.active.set(conversation.clone());
        self.swap_draft(leaving, conversation.id(self.me_id()).as_ref());
        self.forget_picks();
        self.mark_first_unread();
        if let Some(id) = conversation.id(self.me_id()) {
            self.unread.update(|unread| {
                unread.remove(&id);
            });
            if self.mentioned.with_untracked(|mentioned| mentioned.contains_key(&id)) {
                self.mentioned.update(|mentioned| {
                    mentioned.remove(&id);
                });
            }
        }
        self.show_typing();
    }

    /// Who is typing where, as a `typing` event says: the list replaces
    /// the last one of its conversation.
    fn typing_changed(&self, typing: Typing) {
        let Some(id) = typing.conversation() else { return };
        let me = self.me_id();
        let users: Vec<User> = typing.users.into_iter().filter(|user| Some(user.id) != me).collect();
        self.typists.update_value(|typists| {
            if users.is_empty() {
                typists.remove(&id);
            } else {
                typists.insert(id, users);
            }
        });
        self.show_typing();
    }

    /// Puts who is typing in the conversation on screen into `typing`.
    fn show_typing(&self) {
        let now = self.active_id_untracked().and_then(|id| self.typists.with_value(|t| t.get(&id).cloned()));
        let now = now.unwrap_or_default();
        if self.typing.with_untracked(|shown| *shown != now) {
            self.typing.set(now);
        }
    }
}

#[cfg(test)]
mod tests;
