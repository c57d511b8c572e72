//! How rows read back: the one `SELECT` every message read starts with,
//! and the decoding of users, messages and their files.
//!
//! A conversation is stored by its key in `messages.room`: a room's name,
//! or `dm:<low id>:<high id>` for the private conversation of two users
//! (migration 1). Room names cannot contain `:`, so the two never meet.

use sqlx::sqlite::SqliteRow;
use sqlx::Row;

use crate::protocol::{ConversationId, Media, MediaKind, Message, User};
use crate::server::store::{StoreError, StoreResult};

/// Every message read starts with this, so rows always decode the same way.
macro_rules! select_messages {
    ($where:literal) => {
        concat!(
            "SELECT m.id, m.seq, m.room, m.text, m.cid, m.created_at,
                    m.user_id, f.name AS from_name, m.to_user_id, t.name AS to_name,
                    u.id AS media_id, u.name AS media_name, u.mime AS media_mime,
                    b.size AS media_size, b.width AS media_width, b.height AS media_height
             FROM messages m JOIN users f ON f.id = m.user_id LEFT JOIN users t ON t.id = m.to_user_id
                  LEFT JOIN uploads u ON u.id = m.media_id LEFT JOIN media_blobs b ON b.sha256 = u.sha256 ",
            $where
        )
    };
}

/// The key `conversation` is stored under.
pub(super) fn key_of(conversation: &ConversationId) -> String {
    match conversation {
        ConversationId::Room(name) => name.clone(),
        ConversationId::Pair(low, high) => format!("dm:{low}:{high}"),
    }
}

/// The conversation a stored key names.
pub(super) fn conversation_of_key(key: &str) -> StoreResult<ConversationId> {
    let Some(pair) = key.strip_prefix("dm:") else { return Ok(ConversationId::room(key)) };
    let ids = pair.split_once(':').and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?)));
    match ids {
        Some((a, b)) => Ok(ConversationId::pair(a, b)),
        None => Err(StoreError::backend(std::io::Error::other(format!("unreadable conversation key {key:?}")))),
    }
}

pub(super) fn user_from_row(row: &SqliteRow) -> Result<User, sqlx::Error> {
    Ok(User { id: row.try_get("id")?, name: row.try_get("name")? })
}

pub(super) fn message_from_row(row: &SqliteRow) -> StoreResult<Message> {
    let to = match (row.try_get::<Option<i64>, _>("to_user_id")?, row.try_get::<Option<String>, _>("to_name")?) {
        (Some(id), Some(name)) => Some(User { id, name }),
        _ => None,
    };
    Ok(Message {
        id: row.try_get("id")?,
        seq: row.try_get("seq")?,
        conversation: conversation_of_key(&row.try_get::<String, _>("room")?)?,
        from: User { id: row.try_get("user_id")?, name: row.try_get("from_name")? },
        to,
        text: row.try_get("text")?,
        at: row.try_get("created_at")?,
        cid: row.try_get("cid")?,
        media: media_from_row(row)?,
    })
}

/// A pixel size column (NULL for files that are not images).
pub(super) fn dimension(row: &SqliteRow, column: &str) -> Result<Option<u32>, sqlx::Error> {
    Ok(row.try_get::<Option<i64>, _>(column)?.and_then(|n| u32::try_from(n).ok()))
}

/// The `media_*` columns, when the row has a file.
pub(super) fn media_from_row(row: &SqliteRow) -> Result<Option<Media>, sqlx::Error> {
    let Some(id) = row.try_get::<Option<String>, _>("media_id")? else { return Ok(None) };
    Ok(Some(media(
        id,
        row.try_get("media_name")?,
        row.try_get("media_mime")?,
        row.try_get("media_size")?,
        [row.try_get("media_width")?, row.try_get("media_height")?],
    )))
}

/// A file's description from its stored columns (read by sqlx here, and by
/// the writer thread's own connection in `group_commit`).
pub(super) fn media(id: String, name: String, mime: String, size: i64, [width, height]: [Option<i64>; 2]) -> Media {
    let pixels = |n: Option<i64>| n.and_then(|n| u32::try_from(n).ok());
    Media {
        id,
        name,
        kind: MediaKind::of_mime(&mime),
        mime,
        size: u64::try_from(size).unwrap_or(0),
        width: pixels(width),
        height: pixels(height),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversation_keys_round_trip() {
        for conversation in [ConversationId::room("lobby"), ConversationId::room("a-b_c"), ConversationId::pair(9, 2)] {
            assert_eq!(conversation_of_key(&key_of(&conversation)).ok(), Some(conversation));
        }
        assert_eq!(key_of(&ConversationId::pair(9, 2)), "dm:2:9");
        assert!(conversation_of_key("dm:x:1").is_err());
    }
}
