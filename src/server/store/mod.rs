//! Storage behind a contract: everything the chat persists goes through one
//! trait per aggregate ([`IdentityStore`], [`MessageStore`], [`RoomStore`],
//! [`MediaStore`], [`PushStore`]), and [`Store`] is all five. SQLite ([`sqlite`]) is the
//! embedded default, PostgreSQL ([`postgres`]) the store several nodes
//! share; [`open`] picks the backend from the database URL's scheme.
//! `tests/it/store` is the conformance suite every backend must pass.
//! Both write messages through one writer thread (`writer`, group
//! commit), decode rows alike (`columns`), index text alike for search
//! (`search_terms`) and close their pools alike (`pool`).
//!
//! # The contract
//!
//! - **Commits before acks.** `insert_message` returns only once the row is
//!   committed; a client is acked on that.
//! - **`seq` has no gaps.** Within one conversation, messages are numbered
//!   from 1 in commit order, every number used once. Clients detect lost
//!   messages by a skipped `seq`, and resume by `seq`.
//! - **Commits are reported in order.** Every committed message reaches the
//!   [`CommitSink`], in commit order (so in `seq` order within each
//!   conversation), before its caller hears back. Live delivery relies on
//!   that order and adds none of its own.
//! - **Retries are stored once.** A repeated `(user, cid)` returns the first
//!   row as [`Insert::Duplicate`] and stores nothing.
//! - **Checks in the same transaction.** A message for members only is
//!   checked against the membership, and a file it carries is linked (only
//!   if its sender uploaded it and no other message carries it), in the
//!   transaction that stores it: someone removed from a room a moment ago
//!   cannot post into it, and one upload never goes out twice. A reply
//!   answers a message of its own conversation, or is refused; so does a
//!   thread reply, whose root's summary (replies, last) changes in the
//!   same transaction and reaches the sink right after the reply, as a
//!   change.
//! - **Changes are numbered like messages.** An edit, a deletion or a
//!   reaction takes its conversation's next change number (from 1, no
//!   gaps, in commit order), stored on the message it changed, and reaches
//!   the [`CommitSink`] in the same stream as new messages, in commit
//!   order: a change never overtakes the message it changes. Who may
//!   make it is checked in its transaction. A deletion keeps nothing of
//!   what the message said: its text, its reactions and its file's upload
//!   go (the blob follows with the sweep, once no upload uses it).

mod columns;
mod error;
mod pool;
pub(crate) mod postgres;
pub mod read_marks;
mod search_terms;
pub(crate) mod sqlite;
mod writer;

use std::sync::Arc;

use async_trait::async_trait;

pub use error::{StoreError, StoreResult};

use crate::protocol::{
    ConversationId, ConversationSummary, InThread, Media, Mentions, Message, Notify, PushSubscription, ReadState,
    SearchQuery, User, UserId,
};
use crate::server::names::NameKeys;

/// Copies the database `url` names to the new file `dest`, consistent as
/// of one moment, while a server may be writing to it; the copy gets a new
/// history epoch (restored, it rewinds `seq`: clients must start over).
pub async fn backup(url: &str, dest: &std::path::Path) -> StoreResult<()> {
    match url.split_once("://").map(|(scheme, _)| scheme) {
        Some("sqlite") => sqlite::backup(url, dest).await,
        _ => Err(StoreError::Unsupported(format!("{url}: `rtca backup` copies SQLite databases only"))),
    }
}

/// Opens the store the URL names, by its scheme: `sqlite://FILE` (created
/// if missing), or `postgres://…` (a database that exists; its tables are
/// created). `sink` hears of every commit of messages.
pub async fn open(url: &str, connections: u32, sink: Option<Arc<dyn CommitSink>>) -> StoreResult<Arc<dyn Store>> {
    match url.split_once("://").map(|(scheme, _)| scheme) {
        Some("sqlite") => Ok(Arc::new(sqlite::SqliteStore::open(url, connections, sink).await?)),
        Some("postgres" | "postgresql") => Ok(Arc::new(postgres::PostgresStore::open(url, connections, sink).await?)),
        _ => Err(StoreError::Unsupported(format!(
            "{url}: give a database URL such as sqlite://rtca.db or postgres://user@host/rtca"
        ))),
    }
}

/// What to do the moment a message is committed, before anyone else hears
/// of it: its sender's ack, so that the ack arrives before the message. The
/// store carries it to the [`CommitSink`] untouched, and runs it itself
/// when there is no sink; a message that is not stored drops it uncalled.
pub type OnCommit = Box<dyn FnOnce(&Message) + Send>;

/// Runs the `on_commit` of every message of a batch that nobody will
/// deliver, so that each is still acked.
pub fn acknowledge(batch: Vec<Committed>) {
    for Committed { message, on_commit, .. } in batch {
        if let Some(ack) = on_commit {
            ack(&message);
        }
    }
}

/// A committed message on its way to delivery: new, or in its state after
/// a change (`changed`).
pub struct Committed {
    pub message: Message,
    pub changed: bool,
    pub on_commit: Option<OnCommit>,
}

/// Hears of every committed message, in commit order and before the
/// commit's callers hear back. Called from the store's writer (a thread,
/// not the async runtime); it may block, which holds up storing: delivery
/// uses that as back-pressure.
pub trait CommitSink: Send + Sync + 'static {
    fn committed(&self, batch: Vec<Committed>);
}

/// A message to store.
pub struct NewMessage<'a> {
    pub conversation: &'a ConversationId,
    pub from: &'a User,
    /// In a pair's conversation, the other party.
    pub to: Option<&'a User>,
    /// Only members may post (a room other than the lobby).
    pub members_only: bool,
    pub text: &'a str,
    pub cid: Option<&'a str>,
    pub at: i64,
    /// The id of an upload of `from`'s that this message carries.
    pub media: Option<&'a str>,
    /// The id of the message of the same conversation it answers.
    pub reply_to: Option<i64>,
    /// A reply in the thread of this root, of the same conversation.
    pub thread: Option<InThread>,
    /// Whom it calls, as sent: stored with it and delivered with it.
    pub mentions: Mentions,
    /// Who it called (people who can read it, checked by the caller):
    /// counted in their unread mentions. Ids that name nobody are skipped.
    pub called: Vec<UserId>,
    pub on_commit: Option<OnCommit>,
}

/// The outcome of `insert_message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Insert {
    /// Committed as row `id`, at `seq` in its conversation.
    Stored { id: i64, seq: i64 },
    /// The same `(user, cid)` was stored before: this is that first copy
    /// (boxed: retries are rare).
    Duplicate(Box<Message>),
    /// The file is not the sender's, or another message carries it.
    MediaRefused,
    /// The room is for members only and the sender is not one.
    NotAMember,
    /// The message it answers, or the thread's root, is not one of its
    /// conversation's (or the root is a reply in a thread itself).
    ReplyRefused,
}

/// What a change does to a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edit<'a> {
    /// New text (empty only for a message with a file).
    Text(&'a str),
    Delete,
    /// Adds this reaction of the changer's, or takes it back.
    React(&'a str),
}

/// A change to store.
pub struct MessageChange<'a> {
    pub id: i64,
    /// Who makes it: the author, to edit or delete; anyone who may post
    /// in the conversation, to react.
    pub by: UserId,
    pub edit: Edit<'a>,
    pub at: i64,
    /// The most different emoji the message may carry.
    pub max_reactions: usize,
    /// Runs once it is committed, as for a new message.
    pub on_commit: Option<OnCommit>,
}

/// The outcome of `change_message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeOutcome {
    /// Committed: the message in its new state (boxed: it is large).
    Changed(Box<Message>),
    /// Nothing to change (the same text again, a message deleted already):
    /// its state, untouched; `on_commit` is dropped uncalled.
    Unchanged(Box<Message>),
    /// No such message, or none `by` may read.
    NoSuchMessage,
    /// Only its author may edit or delete it.
    NotYours,
    /// It was deleted: there is nothing left to edit or react to.
    Deleted,
    /// Reacting in a room takes being a member, as posting does.
    NotAMember,
    /// It carries `max_reactions` different emoji already.
    TooManyReactions,
    /// Its new text is empty, and it has no file to keep it.
    EmptyText,
}

/// Where a history page starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cursor {
    After(i64),
    Before(i64),
}

/// A guest to create, with its first session (only the token's hash).
#[derive(Debug, Clone, Copy)]
pub struct NewGuest<'a> {
    pub name: &'a str,
    /// The name as compared (`server::names`).
    pub keys: &'a NameKeys,
    pub at: i64,
    pub token_hash: &'a [u8],
    pub expires_at: i64,
}

/// Who holds a name (see [`IdentityStore::name_holder`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameHolder {
    Member,
    Guest,
}

/// A registered account to create.
#[derive(Debug, Clone, Copy)]
pub struct NewMember<'a> {
    pub name: &'a str,
    pub keys: &'a NameKeys,
    /// argon2id, as a PHC string.
    pub password_hash: &'a str,
    pub at: i64,
}

/// A room (the lobby is one too, with no membership rows).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Room {
    pub name: String,
    /// What people read, in any script (the name for rooms made before).
    pub title: String,
    pub private: bool,
}

/// One line of a room listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomListing {
    pub room: Room,
    pub members: usize,
    pub online: usize,
    pub joined: bool,
    pub last_seq: i64,
    pub last_change: i64,
}

/// Which rooms a listing holds. The first page (`after: None`) holds the
/// lobby and the viewer's own rooms, whatever their number, then up to
/// `limit` public rooms by name; a later page holds only public rooms
/// after `after`. `query` (lower case, possibly empty) keeps only names
/// that contain it.
#[derive(Debug, Clone, Copy, Default)]
pub struct RoomFilter<'a> {
    pub query: &'a str,
    pub after: Option<&'a str>,
}

/// A page of a room listing, and whether more public rooms follow it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoomPage {
    pub rooms: Vec<RoomListing>,
    pub more: bool,
}

/// A finished upload to record: its bytes are already in the blob store.
#[derive(Debug, Clone, Copy)]
pub struct NewUpload<'a> {
    pub id: &'a str,
    pub sha256: &'a str,
    pub owner: UserId,
    pub name: &'a str,
    pub mime: &'a str,
    pub size: u64,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub thumb_mime: Option<&'a str>,
    pub at: i64,
}

/// What is known about stored bytes, so a second upload of them skips the
/// thumbnailing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobInfo {
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub thumb_mime: Option<String>,
}

/// An upload as the media routes need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadRecord {
    pub media: Media,
    pub sha256: String,
    pub owner: UserId,
    pub thumb_mime: Option<String>,
    /// The conversation of the message that carries it; `None` until one does.
    pub carried_in: Option<ConversationId>,
}

/// Users, their sessions and their accounts.
#[async_trait]
pub trait IdentityStore: Send + Sync {
    /// A guest and its first session, in one commit.
    async fn create_guest_with_session(&self, guest: NewGuest<'_>) -> StoreResult<User>;
    /// A registered account; `None` if the name, or a look-alike (either
    /// key), is registered already.
    async fn create_member(&self, member: NewMember<'_>) -> StoreResult<Option<User>>;
    /// A registered account by name key, with its password hash.
    async fn member(&self, name_key: &str) -> StoreResult<Option<(User, String)>>;
    /// Who holds the name `keys` (either key equal), other than `except`:
    /// an account, which holds its name for good, before a guest with a
    /// session live at `now` and presented at least once, who holds it
    /// until the session ends. A session never presented (a prototype
    /// client's, which forgets its token) keeps no name: nobody could
    /// ever come back to it.
    async fn name_holder(&self, keys: &NameKeys, except: Option<UserId>, now: i64) -> StoreResult<Option<NameHolder>>;
    /// Whether `id` is a registered account (not a guest).
    async fn is_registered(&self, id: UserId) -> StoreResult<bool>;
    async fn rename_user(&self, id: UserId, name: &str, keys: &NameKeys) -> StoreResult<()>;
    /// Each `(user, at)`: that user's last connection closed at `at`. One
    /// transaction for all.
    async fn set_last_seen(&self, seen: &[(UserId, i64)]) -> StoreResult<()>;
    async fn user(&self, id: UserId) -> StoreResult<Option<User>>;
    async fn create_session(&self, token_hash: &[u8], user: UserId, at: i64, expires_at: i64) -> StoreResult<()>;
    /// The user a live (unexpired) session token hash belongs to. The
    /// session counts as presented from then on (see `name_holder`).
    async fn session_user(&self, token_hash: &[u8], now: i64) -> StoreResult<Option<User>>;
    /// Ends a session (logout). Unknown hashes are no error.
    async fn delete_session(&self, token_hash: &[u8]) -> StoreResult<()>;
    /// Moves a live session's end to `expires_at`; `false` if it is
    /// unknown or over at `now`.
    async fn renew_session(&self, token_hash: &[u8], now: i64, expires_at: i64) -> StoreResult<bool>;
    /// Forgets every session over at `now`; returns how many.
    async fn delete_expired_sessions(&self, now: i64) -> StoreResult<u64>;
    /// Forgets guests nobody can be any more: created before
    /// `created_before`, holding no session (a guest has no password, so
    /// without one nobody can speak for them again), not in `online`, who
    /// never posted, were never written to privately, own no upload and
    /// created no room. Their memberships go with them. Returns how many.
    async fn delete_abandoned_guests(&self, created_before: i64, online: &[UserId]) -> StoreResult<u64>;
}

/// Conversations and their messages.
#[async_trait]
pub trait MessageStore: Send + Sync {
    /// Names the history this store holds. It changes only when history
    /// starts again (a new database, a restored backup), so that clients
    /// know their `seq`s are stale.
    async fn history_epoch(&self) -> StoreResult<String>;
    /// Stores a message, unless it is refused (nothing is stored then).
    /// Returns once it is committed; see the contract above.
    async fn insert_message(&self, message: NewMessage<'_>) -> StoreResult<Insert>;
    /// The last `limit` messages of a conversation, oldest first.
    async fn recent(&self, conversation: &ConversationId, limit: usize) -> StoreResult<Vec<Message>>;
    /// Up to `limit` messages next to a `seq` cursor, oldest first: those
    /// right after `Cursor::After(seq)` or right before `Cursor::Before(seq)`.
    async fn page(&self, conversation: &ConversationId, cursor: Cursor, limit: usize) -> StoreResult<Vec<Message>>;
    /// Up to `limit` replies in the thread of `root` (a message of
    /// `conversation`) after `after`, oldest first.
    async fn thread_replies(
        &self,
        conversation: &ConversationId,
        root: i64,
        after: i64,
        limit: usize,
    ) -> StoreResult<Vec<Message>>;
    /// A conversation's newest `seq`, 0 when it has none.
    async fn last_seq(&self, conversation: &ConversationId) -> StoreResult<i64>;
    /// Edits, deletes or reacts to a message, unless refused (nothing is
    /// stored then). Returns once it is committed; see the contract above.
    async fn change_message(&self, change: MessageChange<'_>) -> StoreResult<ChangeOutcome>;
    /// A conversation's newest change number, 0 when nothing changed.
    async fn last_change(&self, conversation: &ConversationId) -> StoreResult<i64>;
    /// Each conversation's newest `seq` and change number (0 for none), in
    /// one read: how far the store is, for nodes checking that they missed
    /// nothing live (`server::cluster`).
    async fn heads(&self, conversations: &[ConversationId]) -> StoreResult<Vec<(i64, i64)>>;
    /// Up to `limit` messages whose latest change is numbered after
    /// `after`, in their current state, by change number.
    async fn changed_since(&self, conversation: &ConversationId, after: i64, limit: usize)
        -> StoreResult<Vec<Message>>;
    /// `user` has read `conversation` up to `seq`. Never moves back: returns
    /// how far they have read now.
    async fn mark_read(&self, user: UserId, conversation: &ConversationId, seq: i64) -> StoreResult<i64>;
    /// Each mark's person has read its conversation up to its `seq`, all
    /// in one transaction. Never moves anyone back.
    async fn mark_reads(&self, marks: &[ReadMark]) -> StoreResult<()>;
    /// Where `user` is in each of `conversations`, having read at least up
    /// to the `seq` beside it (a mark not written yet; 0 for none): the
    /// last `seq` read (0 for none), how many messages after it others
    /// wrote (at most `MAX_UNREAD`), and in a private conversation, how far
    /// the other one read.
    async fn read_states(&self, user: UserId, conversations: &[(ConversationId, i64)]) -> StoreResult<Vec<ReadState>>;
    /// How much of `conversation` notifies `user` from now on; its
    /// default ([`Notify::default_for`]) is kept as no choice.
    async fn set_notify(&self, user: UserId, conversation: &ConversationId, level: Notify) -> StoreResult<()>;
    /// Up to `limit` of the levels `user` chose (every other conversation
    /// notifies by default).
    async fn notify_levels(&self, user: UserId, limit: usize) -> StoreResult<Vec<(ConversationId, Notify)>>;
    /// `user`'s private conversations, most recently active first.
    async fn conversations(&self, user: UserId, limit: usize) -> StoreResult<Vec<ConversationSummary>>;
    /// Up to `limit` messages that called `user` ([`NewMessage::called`]),
    /// older than the message `before`, newest first: in conversations
    /// they may still read (a private room they left no longer shows),
    /// never a deleted one.
    async fn mentions_of(&self, user: UserId, before: Option<i64>, limit: usize) -> StoreResult<Vec<Message>>;
    /// Up to `limit` messages that `reader` (`None`: someone not signed
    /// in) may read and that match `query`, older than the message
    /// `before`, newest first: in the lobby and public rooms, private rooms
    /// they are in, their own private conversations, never a deleted one.
    /// Every word is found whatever its case and accents, and inside a run
    /// of Chinese or Japanese characters.
    async fn search(
        &self,
        reader: Option<UserId>,
        query: &SearchQuery,
        before: Option<i64>,
        limit: usize,
    ) -> StoreResult<Vec<Message>>;
}

/// Rooms and who is in them.
#[async_trait]
pub trait RoomStore: Send + Sync {
    /// A new room with `creator` as its first member; `None` if the name
    /// is taken.
    async fn create_room(
        &self,
        name: &str,
        title: &str,
        private: bool,
        creator: UserId,
        at: i64,
    ) -> StoreResult<Option<Room>>;
    async fn room(&self, name: &str) -> StoreResult<Option<Room>>;
    /// A page of the rooms `viewer` can see (see [`RoomFilter`]), counted
    /// in one query: members, how many of `online` are members, whether
    /// `viewer` is one, the newest seq. The lobby comes first, then
    /// `viewer`'s rooms, then public ones, each by name: however many rooms
    /// others create, `viewer`'s own are listed, outside `limit` (a user
    /// is in at most `RTCA_MAX_ROOMS_PER_USER`).
    async fn room_listing(
        &self,
        viewer: Option<UserId>,
        online: &[UserId],
        filter: RoomFilter<'_>,
        limit: usize,
    ) -> StoreResult<RoomPage>;
    /// How many rooms `user` has created.
    async fn rooms_created_by(&self, user: UserId) -> StoreResult<usize>;
    async fn is_member(&self, room: &str, user: UserId) -> StoreResult<bool>;
    /// Adds a member (no error if they already are).
    async fn add_member(&self, room: &str, user: UserId, at: i64) -> StoreResult<()>;
    async fn remove_member(&self, room: &str, user: UserId) -> StoreResult<()>;
    async fn room_members(&self, room: &str) -> StoreResult<Vec<UserId>>;
    /// Which of `users` are members of `room`, in the order given; in the
    /// lobby, which has no membership rows, which of them exist.
    async fn members_among(&self, room: &str, users: &[UserId]) -> StoreResult<Vec<UserId>>;
    /// Up to `limit` members of `room`, in no set order.
    async fn some_members(&self, room: &str, limit: usize) -> StoreResult<Vec<UserId>>;
    /// Up to `limit` members of `room` with their names and when each was
    /// last seen (see `IdentityStore::set_last_seen`): those in `online`
    /// first, then the most recently seen.
    async fn room_member_list(
        &self,
        room: &str,
        online: &[UserId],
        limit: usize,
    ) -> StoreResult<Vec<(User, Option<i64>)>>;
    /// The rooms `user` is a member of, by name.
    async fn memberships(&self, user: UserId) -> StoreResult<Vec<String>>;
}

/// Uploads and the blobs behind them.
#[async_trait]
pub trait MediaStore: Send + Sync {
    /// Records an upload (and its blob, or marks the blob used again).
    async fn insert_upload(&self, upload: NewUpload<'_>) -> StoreResult<()>;
    async fn blob(&self, sha256: &str) -> StoreResult<Option<BlobInfo>>;
    async fn upload(&self, id: &str) -> StoreResult<Option<UploadRecord>>;
    /// Forgets uploads no message took before `cutoff`; returns how many.
    async fn delete_unlinked_uploads(&self, cutoff: i64) -> StoreResult<u64>;
    /// Blobs no upload refers to and nobody uploaded since `cutoff` (at most
    /// `limit`): candidates for [`MediaStore::remove_blob`].
    async fn unused_blobs(&self, cutoff: i64, limit: usize) -> StoreResult<Vec<String>>;
    /// Forgets the blob `sha256` if it is still unused since `cutoff`, and
    /// calls `remove` (which deletes its bytes) before that is committed, so
    /// an upload of the same bytes racing with it either keeps the blob or
    /// writes it anew after. Returns whether it was removed.
    async fn remove_blob(
        &self,
        sha256: &str,
        cutoff: i64,
        remove: &(dyn Fn() -> futures::future::BoxFuture<'static, std::io::Result<()>> + Send + Sync),
    ) -> StoreResult<bool>;
}

/// Web Push: the devices to push to, and what the server keeps for it.
#[async_trait]
pub trait PushStore: Send + Sync {
    /// The `meta` value of `key`, set to `value` first unless it holds one
    /// already: the one every node agrees on.
    async fn keep_meta(&self, key: &str, value: &str) -> StoreResult<String>;
    /// Keeps `device` for the session `session_hash` of `user`: a device
    /// of theirs takes its new keys; one of someone else's moves to them
    /// only with the keys it was kept with (which only it knows: an
    /// endpoint alone takes nothing over); beyond `keep` devices, `user`'s
    /// oldest go.
    async fn add_push_device(
        &self,
        user: UserId,
        session_hash: &[u8],
        device: &PushSubscription,
        at: i64,
        keep: usize,
    ) -> StoreResult<()>;
    /// Forgets the device at `endpoint` (`user`'s only, when given).
    /// Returns whether there was one.
    async fn remove_push_device(&self, endpoint: &str, user: Option<UserId>) -> StoreResult<bool>;
    /// Every device of `users`.
    async fn push_devices(&self, users: &[UserId]) -> StoreResult<Vec<(UserId, PushSubscription)>>;
    /// The levels those of `users` chose for `conversation` (the others
    /// have its default).
    async fn levels_for(&self, conversation: &ConversationId, users: &[UserId]) -> StoreResult<Vec<(UserId, Notify)>>;
}

/// How far one person read one conversation ([`Store::mark_reads`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadMark {
    pub user: UserId,
    pub conversation: ConversationId,
    pub seq: i64,
}

impl ReadMark {
    pub fn new(user: UserId, conversation: &ConversationId, seq: i64) -> ReadMark {
        ReadMark { user, conversation: conversation.clone(), seq }
    }
}

/// The whole store.
#[async_trait]
pub trait Store: IdentityStore + MessageStore + RoomStore + MediaStore + PushStore + 'static {
    /// Writes out what is queued, then lets go of the database. Later
    /// writes fail with [`StoreError::Closed`], later reads with the
    /// backend's own error.
    async fn close(&self);
    /// Whether the database answers (readiness): a trivial query.
    async fn ping(&self) -> StoreResult<()>;
}
