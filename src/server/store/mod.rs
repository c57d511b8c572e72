//! Storage behind a narrow interface: everything the chat persists goes
//! through [`Store`]. SQLite ([`sqlite::SqliteStore`]) is the embedded
//! default; a PostgreSQL backend implements the same trait later.
//!
//! Contract for implementors: `insert_message` returns only after the row is
//! committed (acks depend on it), and a repeated `(user, cid)` returns the
//! first row as [`Insert::Duplicate`] instead of storing twice. A message
//! that carries an upload links it in the same transaction, and only if the
//! sender owns it and no other message carries it yet. A message for
//! members only is checked against the membership in that transaction too,
//! so someone removed from a room a moment ago cannot post into it.

pub mod sqlite;

use async_trait::async_trait;

use crate::protocol::{ChatMessage, ConversationSummary, Media, SecretMessage, User, UserId};

/// A storage failure. Details go to the log; clients see `internal`.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("storage: {0}")]
    Sqlx(#[from] sqlx::Error),
    /// From the SQLite message writer (`sqlite::group_commit`).
    #[error("storage: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("storage: the database writer has stopped")]
    WriterGone,
    /// A batch of writes failed as a whole (the lock, the disk).
    #[error("storage: {0}")]
    Batch(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// A message as stored: a room message, or a private one (`to` is set).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMessage {
    pub id: i64,
    pub seq: i64,
    pub room: String,
    pub from: User,
    pub to: Option<User>,
    pub text: String,
    pub at: i64,
    pub cid: Option<String>,
    pub media: Option<Media>,
}

impl StoredMessage {
    pub fn into_chat(self) -> ChatMessage {
        ChatMessage {
            id: self.id,
            seq: self.seq,
            room: self.room,
            from: self.from,
            text: self.text,
            at: self.at,
            cid: self.cid,
            media: self.media,
        }
    }

    /// `None` for a room message.
    pub fn into_secret(self) -> Option<SecretMessage> {
        let to = self.to?;
        Some(SecretMessage {
            id: self.id,
            seq: self.seq,
            from: self.from,
            to,
            text: self.text,
            at: self.at,
            cid: self.cid,
            media: self.media,
        })
    }
}

/// Where a history page starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cursor {
    After(i64),
    Before(i64),
}

/// What to store.
#[derive(Debug, Clone, Copy)]
pub struct NewMessage<'a> {
    pub room: &'a str,
    pub from: &'a User,
    pub to: Option<&'a User>,
    /// Only members of `room` may post (a room other than the lobby).
    pub members_only: bool,
    pub text: &'a str,
    pub cid: Option<&'a str>,
    pub at: i64,
    /// The id of an upload of `from`'s that this message carries.
    pub media: Option<&'a str>,
}

/// The result of `insert_message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Insert {
    Stored(StoredMessage),
    /// The same `(user, cid)` was stored before: this is that first copy.
    Duplicate(StoredMessage),
    /// The file is not the sender's, or another message carries it.
    MediaRefused,
    /// The room is for members only and the sender is not one.
    NotAMember,
}

/// Told of every commit of messages, in commit order and before any of its
/// callers hears back: for each conversation it touched, the first and last
/// `seq` it stored. Messages committed together reach their callers all at
/// once and in any order, so live delivery uses this to know where a
/// conversation it has not seen yet starts, and which seqs are still due.
/// Called from the store's writer thread (not a runtime thread); it may
/// block, which holds up storing: the fan-out uses that as back-pressure.
pub trait CommitObserver: Send + Sync + 'static {
    fn committed(&self, conversation: &str, first_seq: i64, last_seq: i64);
}

/// A room besides the lobby's implicit membership (the lobby has a row too).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Room {
    pub name: String,
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
}

/// A guest to create, with its first session (only the token's hash).
#[derive(Debug, Clone, Copy)]
pub struct NewGuest<'a> {
    pub name: &'a str,
    /// The name as compared (`server::names::name_key`).
    pub name_key: &'a str,
    pub at: i64,
    pub token_hash: &'a [u8],
    pub expires_at: i64,
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

/// Where an upload ended up: the message that carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Carrier {
    pub room: String,
    pub from: UserId,
    /// Set for a private message.
    pub to: Option<UserId>,
}

/// An upload as the media routes need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadRecord {
    pub media: Media,
    pub sha256: String,
    pub owner: UserId,
    pub thumb_mime: Option<String>,
    /// `None` until a message carries it.
    pub carrier: Option<Carrier>,
}

/// The name of the private conversation between two users.
pub fn dm_room(a: UserId, b: UserId) -> String {
    format!("dm:{}:{}", a.min(b), a.max(b))
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Names the history this store holds; it changes only when history is
    /// reset (a new database), so clients know their `seq`s are stale.
    async fn history_epoch(&self) -> StoreResult<String>;
    /// A guest and its first session, in one commit.
    async fn create_guest_with_session(&self, guest: NewGuest<'_>) -> StoreResult<User>;
    /// A registered account; `None` if the name is registered already.
    async fn create_member(
        &self,
        name: &str,
        name_key: &str,
        password_hash: &str,
        at: i64,
    ) -> StoreResult<Option<User>>;
    /// A registered account by name key, with its password hash.
    async fn member(&self, name_key: &str) -> StoreResult<Option<(User, String)>>;
    /// Whether `id` is a registered account (not a guest).
    async fn is_registered(&self, id: UserId) -> StoreResult<bool>;
    async fn rename_user(&self, id: UserId, name: &str, name_key: &str) -> StoreResult<()>;
    async fn user(&self, id: UserId) -> StoreResult<Option<User>>;
    async fn create_session(&self, token_hash: &[u8], user: UserId, at: i64, expires_at: i64) -> StoreResult<()>;
    /// The user a live (unexpired) session token hash belongs to.
    async fn session_user(&self, token_hash: &[u8], now: i64) -> StoreResult<Option<User>>;
    /// Ends a session (logout). Unknown hashes are no error.
    async fn delete_session(&self, token_hash: &[u8]) -> StoreResult<()>;
    /// Stores a message, unless it is refused (nothing is stored then).
    async fn insert_message(&self, message: NewMessage<'_>) -> StoreResult<Insert>;
    /// The last `limit` messages of a room, oldest first.
    async fn recent(&self, room: &str, limit: usize) -> StoreResult<Vec<StoredMessage>>;
    /// Up to `limit` messages of a room next to a `seq` cursor, oldest first:
    /// those right after `Cursor::After(seq)` or right before `Cursor::Before(seq)`.
    async fn page(&self, room: &str, cursor: Cursor, limit: usize) -> StoreResult<Vec<StoredMessage>>;
    /// `user`'s private conversations, most recently active first.
    async fn conversations(&self, user: UserId, limit: usize) -> StoreResult<Vec<ConversationSummary>>;

    /// A new room with `creator` as its first member; `None` if the name
    /// is taken.
    async fn create_room(&self, name: &str, private: bool, creator: UserId, at: i64) -> StoreResult<Option<Room>>;
    async fn room(&self, name: &str) -> StoreResult<Option<Room>>;
    /// Public rooms, and the private ones `viewer` is a member of, by name
    /// (at most `limit`), counted in one query: members, how many of
    /// `online` are members, whether `viewer` is one, the newest seq.
    async fn room_listing(
        &self,
        viewer: Option<UserId>,
        online: &[UserId],
        limit: usize,
    ) -> StoreResult<Vec<RoomListing>>;
    /// How many rooms `user` has created.
    async fn rooms_created_by(&self, user: UserId) -> StoreResult<usize>;
    async fn is_member(&self, room: &str, user: UserId) -> StoreResult<bool>;
    /// Adds a member (no error if they already are).
    async fn add_member(&self, room: &str, user: UserId, at: i64) -> StoreResult<()>;
    async fn remove_member(&self, room: &str, user: UserId) -> StoreResult<()>;
    async fn room_members(&self, room: &str) -> StoreResult<Vec<UserId>>;
    /// The rooms `user` is a member of, by name.
    async fn memberships(&self, user: UserId) -> StoreResult<Vec<String>>;

    /// Records an upload (and its blob, or marks the blob used again).
    async fn insert_upload(&self, upload: NewUpload<'_>) -> StoreResult<()>;
    async fn blob(&self, sha256: &str) -> StoreResult<Option<BlobInfo>>;
    async fn upload(&self, id: &str) -> StoreResult<Option<UploadRecord>>;
    /// Forgets uploads no message took before `cutoff`; returns how many.
    async fn delete_unlinked_uploads(&self, cutoff: i64) -> StoreResult<u64>;
    /// Blobs no upload refers to and nobody uploaded since `cutoff` (at most
    /// `limit`): candidates for [`Store::remove_blob`].
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
