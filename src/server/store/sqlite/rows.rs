//! How a message row reads back: the one `SELECT` every message read starts
//! with, and the decoding of its columns (the file, if any, included).

use sqlx::sqlite::SqliteRow;
use sqlx::Row;

use super::super::StoredMessage;
use crate::protocol::{Media, MediaKind, User};

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

pub(super) fn message_from_row(row: &SqliteRow) -> Result<StoredMessage, sqlx::Error> {
    let to = match (row.try_get::<Option<i64>, _>("to_user_id")?, row.try_get::<Option<String>, _>("to_name")?) {
        (Some(id), Some(name)) => Some(User { id, name }),
        _ => None,
    };
    Ok(StoredMessage {
        id: row.try_get("id")?,
        seq: row.try_get("seq")?,
        room: row.try_get("room")?,
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
    let mime: String = row.try_get("media_mime")?;
    Ok(Some(Media {
        id,
        name: row.try_get("media_name")?,
        kind: MediaKind::of_mime(&mime),
        mime,
        size: u64::try_from(row.try_get::<i64, _>("media_size")?).unwrap_or(0),
        width: dimension(row, "media_width")?,
        height: dimension(row, "media_height")?,
    }))
}
