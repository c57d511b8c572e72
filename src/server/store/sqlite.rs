//! The embedded SQLite store: WAL mode, migrations applied at start-up.
//!
//! sqlx runs each SQLite connection on its own thread, so no query blocks the
//! async runtime. `synchronous=FULL` makes every commit reach the disk before
//! its ack goes out. Chat messages are written by one thread, many to a commit
//! (`group_commit.rs`); everything else goes through the pool. `rows.rs`
//! reads message rows back.

use std::str::FromStr;
use std::sync::Arc;

use async_trait::async_trait;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};

use super::{
    BlobInfo, Carrier, CommitObserver, Cursor, Insert, NewGuest, NewMessage, NewUpload, Room, RoomListing, Store,
    StoreError, StoreResult, StoredMessage, UploadRecord,
};
use crate::protocol::{ConversationSummary, User, UserId};

pub struct SqliteStore {
    pool: SqlitePool,
    /// Every chat message and guest sign-up goes through this one writer
    /// (group commit).
    writer: Writer,
}

impl SqliteStore {
    /// Opens (creating if missing) the database at `url` and migrates it.
    /// `observer` hears of every commit of messages (see [`CommitObserver`]).
    pub async fn open(
        url: &str,
        max_connections: u32,
        observer: Option<Arc<dyn CommitObserver>>,
    ) -> StoreResult<SqliteStore> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(std::time::Duration::from_secs(10));
        let file = options.get_filename().to_owned();
        // The writer opens the file again: an in-memory database would be
        // a different one.
        if file.as_os_str() == ":memory:" || url.contains("mode=memory") {
            return Err(StoreError::Sqlx(sqlx::Error::Configuration(
                "RTCA needs a database file, not :memory:".into(),
            )));
        }
        let pool = SqlitePoolOptions::new().max_connections(max_connections).connect_with(options).await?;
        sqlx::migrate!("./migrations").run(&pool).await.map_err(sqlx::Error::from)?;
        let writer = Writer::start(file, observer)?;
        Ok(SqliteStore { pool, writer })
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

// Declared first: `select_messages!` is used below.
#[macro_use]
mod rows;
mod group_commit;
use group_commit::{stored_without_file, Writer, Written};
use rows::{dimension, media_from_row, message_from_row};

#[async_trait]
impl Store for SqliteStore {
    async fn history_epoch(&self) -> StoreResult<String> {
        Ok(sqlx::query_scalar("SELECT value FROM meta WHERE key = 'history_epoch'").fetch_one(&self.pool).await?)
    }

    async fn create_guest_with_session(&self, guest: NewGuest<'_>) -> StoreResult<User> {
        let id = self.writer.create_guest(guest).await?;
        Ok(User { id, name: guest.name.to_owned() })
    }

    async fn create_member(
        &self,
        name: &str,
        name_key: &str,
        password_hash: &str,
        at: i64,
    ) -> StoreResult<Option<User>> {
        // The unique index on registered name keys decides races.
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO users (name, name_key, kind, password_hash, created_at) VALUES (?, ?, 'member', ?, ?)
             ON CONFLICT DO NOTHING RETURNING id",
        )
        .bind(name)
        .bind(name_key)
        .bind(password_hash)
        .bind(at)
        .fetch_optional(&self.pool)
        .await?;
        Ok(id.map(|id| User { id, name: name.to_owned() }))
    }

    async fn member(&self, name_key: &str) -> StoreResult<Option<(User, String)>> {
        let row = sqlx::query("SELECT id, name, password_hash FROM users WHERE name_key = ? AND kind = 'member'")
            .bind(name_key)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(row) => {
                Some((User { id: row.try_get("id")?, name: row.try_get("name")? }, row.try_get("password_hash")?))
            }
            None => None,
        })
    }

    async fn is_registered(&self, id: UserId) -> StoreResult<bool> {
        let kind: Option<String> =
            sqlx::query_scalar("SELECT kind FROM users WHERE id = ?").bind(id).fetch_optional(&self.pool).await?;
        Ok(kind.as_deref() == Some("member"))
    }

    async fn rename_user(&self, id: UserId, name: &str, name_key: &str) -> StoreResult<()> {
        sqlx::query("UPDATE users SET name = ?, name_key = ? WHERE id = ?")
            .bind(name)
            .bind(name_key)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn user(&self, id: UserId) -> StoreResult<Option<User>> {
        let row = sqlx::query("SELECT id, name FROM users WHERE id = ?").bind(id).fetch_optional(&self.pool).await?;
        Ok(match row {
            Some(row) => Some(User { id: row.try_get("id")?, name: row.try_get("name")? }),
            None => None,
        })
    }

    async fn create_session(&self, token_hash: &[u8], user: UserId, at: i64, expires_at: i64) -> StoreResult<()> {
        sqlx::query("INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)")
            .bind(token_hash)
            .bind(user)
            .bind(at)
            .bind(expires_at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn session_user(&self, token_hash: &[u8], now: i64) -> StoreResult<Option<User>> {
        let row = sqlx::query(
            "SELECT u.id, u.name FROM sessions s JOIN users u ON u.id = s.user_id
             WHERE s.token_hash = ? AND s.expires_at > ?",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        Ok(match row {
            Some(row) => Some(User { id: row.try_get("id")?, name: row.try_get("name")? }),
            None => None,
        })
    }

    async fn delete_session(&self, token_hash: &[u8]) -> StoreResult<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = ?").bind(token_hash).execute(&self.pool).await?;
        Ok(())
    }

    async fn insert_message(&self, m: NewMessage<'_>) -> StoreResult<Insert> {
        let message_by_id = |id: i64| async move {
            let row = sqlx::query(select_messages!("WHERE m.id = ?")).bind(id).fetch_one(&self.pool).await?;
            message_from_row(&row).map_err(StoreError::from)
        };
        Ok(match self.writer.insert(&m).await? {
            Written::Stored { id, seq, with_file: false } => Insert::Stored(stored_without_file(&m, id, seq)),
            Written::Stored { id, with_file: true, .. } => Insert::Stored(message_by_id(id).await?),
            Written::Duplicate(id) => Insert::Duplicate(message_by_id(id).await?),
            Written::MediaRefused => Insert::MediaRefused,
            Written::NotAMember => Insert::NotAMember,
        })
    }

    async fn page(&self, room: &str, cursor: Cursor, limit: usize) -> StoreResult<Vec<StoredMessage>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let query = match cursor {
            Cursor::After(seq) => {
                sqlx::query(select_messages!("WHERE m.room = ? AND m.seq > ? ORDER BY m.seq ASC LIMIT ?"))
                    .bind(room)
                    .bind(seq)
            }
            Cursor::Before(seq) => {
                sqlx::query(select_messages!("WHERE m.room = ? AND m.seq < ? ORDER BY m.seq DESC LIMIT ?"))
                    .bind(room)
                    .bind(seq)
            }
        };
        let rows = query.bind(limit).fetch_all(&self.pool).await?;
        let mut messages = rows.iter().map(message_from_row).collect::<Result<Vec<_>, _>>()?;
        if matches!(cursor, Cursor::Before(_)) {
            messages.reverse();
        }
        Ok(messages)
    }

    async fn conversations(&self, user: UserId, limit: usize) -> StoreResult<Vec<ConversationSummary>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        // Sent and received are read apart so each side uses its own index.
        let rows = sqlx::query(
            "SELECT c.peer, u.name, MAX(c.last_seq) AS last_seq, MAX(c.last_at) AS last_at
             FROM (SELECT room, to_user_id AS peer, MAX(seq) AS last_seq, MAX(created_at) AS last_at
                   FROM messages WHERE user_id = ?1 AND to_user_id IS NOT NULL GROUP BY room
                   UNION ALL
                   SELECT room, user_id AS peer, MAX(seq) AS last_seq, MAX(created_at) AS last_at
                   FROM messages WHERE to_user_id = ?1 GROUP BY room) c
             JOIN users u ON u.id = c.peer
             GROUP BY c.room ORDER BY last_at DESC, c.peer LIMIT ?2",
        )
        .bind(user)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(ConversationSummary {
                    with: User { id: row.try_get("peer")?, name: row.try_get("name")? },
                    last_seq: row.try_get("last_seq")?,
                    last_at: row.try_get("last_at")?,
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()
            .map_err(StoreError::from)
    }

    async fn recent(&self, room: &str, limit: usize) -> StoreResult<Vec<StoredMessage>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = sqlx::query(select_messages!("WHERE m.room = ? ORDER BY m.seq DESC LIMIT ?"))
            .bind(room)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        let mut messages = rows.iter().map(message_from_row).collect::<Result<Vec<_>, _>>()?;
        messages.reverse();
        Ok(messages)
    }

    async fn create_room(&self, name: &str, private: bool, creator: UserId, at: i64) -> StoreResult<Option<Room>> {
        let mut tx = self.pool.begin().await?;
        let created: Option<String> = sqlx::query_scalar(
            "INSERT INTO rooms (name, private, created_by, created_at) VALUES (?, ?, ?, ?)
             ON CONFLICT DO NOTHING RETURNING name",
        )
        .bind(name)
        .bind(private)
        .bind(creator)
        .bind(at)
        .fetch_optional(&mut *tx)
        .await?;
        if created.is_none() {
            return Ok(None);
        }
        sqlx::query("INSERT INTO room_members (room, user_id, joined_at) VALUES (?, ?, ?)")
            .bind(name)
            .bind(creator)
            .bind(at)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Some(Room { name: name.to_owned(), private }))
    }

    async fn room(&self, name: &str) -> StoreResult<Option<Room>> {
        let private: Option<bool> = sqlx::query_scalar("SELECT private FROM rooms WHERE name = ?")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        Ok(private.map(|private| Room { name: name.to_owned(), private }))
    }

    async fn room_listing(
        &self,
        viewer: Option<UserId>,
        online: &[UserId],
        limit: usize,
    ) -> StoreResult<Vec<RoomListing>> {
        let online = serde_json::to_string(online).unwrap_or_else(|_| "[]".to_owned());
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        // One statement; each count is an index lookup (room_members' key,
        // messages' (room, seq)).
        let rows = sqlx::query(
            "SELECT r.name, r.private,
                    (SELECT COUNT(*) FROM room_members m WHERE m.room = r.name) AS members,
                    (SELECT COUNT(*) FROM room_members m
                     WHERE m.room = r.name AND m.user_id IN (SELECT value FROM json_each(?2))) AS online,
                    EXISTS (SELECT 1 FROM room_members m WHERE m.room = r.name AND m.user_id = ?1) AS joined,
                    (SELECT COALESCE(MAX(seq), 0) FROM messages WHERE room = r.name) AS last_seq
             FROM rooms r
             WHERE r.private = 0 OR r.name IN (SELECT room FROM room_members WHERE user_id = ?1)
             ORDER BY r.name LIMIT ?3",
        )
        .bind(viewer)
        .bind(online)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let count = |column: &str| row.try_get::<i64, _>(column).map(|n| usize::try_from(n).unwrap_or(0));
                Ok(RoomListing {
                    room: Room { name: row.try_get("name")?, private: row.try_get("private")? },
                    members: count("members")?,
                    online: count("online")?,
                    joined: row.try_get("joined")?,
                    last_seq: row.try_get("last_seq")?,
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()
            .map_err(StoreError::from)
    }

    async fn rooms_created_by(&self, user: UserId) -> StoreResult<usize> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM rooms WHERE created_by = ?")
            .bind(user)
            .fetch_one(&self.pool)
            .await?;
        Ok(usize::try_from(n).unwrap_or(0))
    }

    async fn is_member(&self, room: &str, user: UserId) -> StoreResult<bool> {
        let found: Option<i64> = sqlx::query_scalar("SELECT 1 FROM room_members WHERE room = ? AND user_id = ?")
            .bind(room)
            .bind(user)
            .fetch_optional(&self.pool)
            .await?;
        Ok(found.is_some())
    }

    async fn add_member(&self, room: &str, user: UserId, at: i64) -> StoreResult<()> {
        sqlx::query("INSERT INTO room_members (room, user_id, joined_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING")
            .bind(room)
            .bind(user)
            .bind(at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn remove_member(&self, room: &str, user: UserId) -> StoreResult<()> {
        sqlx::query("DELETE FROM room_members WHERE room = ? AND user_id = ?")
            .bind(room)
            .bind(user)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn room_members(&self, room: &str) -> StoreResult<Vec<UserId>> {
        Ok(sqlx::query_scalar("SELECT user_id FROM room_members WHERE room = ?")
            .bind(room)
            .fetch_all(&self.pool)
            .await?)
    }

    async fn memberships(&self, user: UserId) -> StoreResult<Vec<String>> {
        Ok(sqlx::query_scalar("SELECT room FROM room_members WHERE user_id = ? ORDER BY room")
            .bind(user)
            .fetch_all(&self.pool)
            .await?)
    }

    async fn insert_upload(&self, u: NewUpload<'_>) -> StoreResult<()> {
        let size = i64::try_from(u.size).unwrap_or(i64::MAX);
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO media_blobs (sha256, size, width, height, thumb_mime, last_used) VALUES (?, ?, ?, ?, ?, ?)
             ON CONFLICT (sha256) DO UPDATE SET last_used = excluded.last_used,
                 width = excluded.width, height = excluded.height, thumb_mime = excluded.thumb_mime",
        )
        .bind(u.sha256)
        .bind(size)
        .bind(u.width)
        .bind(u.height)
        .bind(u.thumb_mime)
        .bind(u.at)
        .execute(&mut *tx)
        .await?;
        sqlx::query("INSERT INTO uploads (id, sha256, owner, name, mime, created_at) VALUES (?, ?, ?, ?, ?, ?)")
            .bind(u.id)
            .bind(u.sha256)
            .bind(u.owner)
            .bind(u.name)
            .bind(u.mime)
            .bind(u.at)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn blob(&self, sha256: &str) -> StoreResult<Option<BlobInfo>> {
        let row = sqlx::query("SELECT width, height, thumb_mime FROM media_blobs WHERE sha256 = ?")
            .bind(sha256)
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(BlobInfo {
            width: dimension(&row, "width")?,
            height: dimension(&row, "height")?,
            thumb_mime: row.try_get("thumb_mime")?,
        }))
    }

    async fn upload(&self, id: &str) -> StoreResult<Option<UploadRecord>> {
        let row = sqlx::query(
            "SELECT u.id AS media_id, u.name AS media_name, u.mime AS media_mime, u.owner, u.sha256,
                    b.size AS media_size, b.width AS media_width, b.height AS media_height, b.thumb_mime,
                    m.room, m.user_id, m.to_user_id
             FROM uploads u JOIN media_blobs b ON b.sha256 = u.sha256
                  LEFT JOIN messages m ON m.id = u.message_id
             WHERE u.id = ?",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let Some(media) = media_from_row(&row)? else { return Ok(None) };
        let carrier = match row.try_get::<Option<String>, _>("room")? {
            Some(room) => Some(Carrier { room, from: row.try_get("user_id")?, to: row.try_get("to_user_id")? }),
            None => None,
        };
        Ok(Some(UploadRecord {
            media,
            sha256: row.try_get("sha256")?,
            owner: row.try_get("owner")?,
            thumb_mime: row.try_get("thumb_mime")?,
            carrier,
        }))
    }

    async fn delete_unlinked_uploads(&self, cutoff: i64) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM uploads WHERE message_id IS NULL AND created_at < ?")
            .bind(cutoff)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    async fn unused_blobs(&self, cutoff: i64, limit: usize) -> StoreResult<Vec<String>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        Ok(sqlx::query_scalar(
            "SELECT sha256 FROM media_blobs b
             WHERE last_used < ? AND NOT EXISTS (SELECT 1 FROM uploads u WHERE u.sha256 = b.sha256) LIMIT ?",
        )
        .bind(cutoff)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    async fn remove_blob(
        &self,
        sha256: &str,
        cutoff: i64,
        remove: &(dyn Fn() -> futures::future::BoxFuture<'static, std::io::Result<()>> + Send + Sync),
    ) -> StoreResult<bool> {
        let mut tx = self.pool.begin().await?;
        // The DELETE takes the write lock, which an upload of the same bytes
        // needs too: it either came first (and `last_used` no longer
        // matches) or waits until the bytes are gone and then writes them.
        let gone: Option<String> = sqlx::query_scalar(
            "DELETE FROM media_blobs
             WHERE sha256 = ?1 AND last_used < ?2 AND NOT EXISTS (SELECT 1 FROM uploads WHERE sha256 = ?1)
             RETURNING sha256",
        )
        .bind(sha256)
        .bind(cutoff)
        .fetch_optional(&mut *tx)
        .await?;
        if gone.is_none() {
            tx.rollback().await?;
            return Ok(false);
        }
        if let Err(error) = remove().await {
            tx.rollback().await?;
            return Err(StoreError::Sqlx(sqlx::Error::Io(error)));
        }
        tx.commit().await?;
        Ok(true)
    }
}
