//! How far each person has read, in SQLite: one row per person and
//! conversation, written through the pool (it is no message: nothing
//! waits on its order).

use sqlx::Row;

use super::rows::{conversation_of_key, key_of};
use super::SqliteStore;
use crate::protocol::{ConversationId, ReadState, UserId, LOBBY, MAX_UNREAD};
use crate::server::store::{StoreError, StoreResult};

impl SqliteStore {
    pub(super) async fn write_read(&self, user: UserId, conversation: &ConversationId, seq: i64) -> StoreResult<i64> {
        // Never back: a tab that read less, later, changes nothing.
        Ok(sqlx::query_scalar(
            "INSERT INTO read_state (user_id, room, seq) VALUES (?, ?, ?)
             ON CONFLICT (user_id, room) DO UPDATE SET seq = MAX(seq, excluded.seq)
             RETURNING seq",
        )
        .bind(user)
        .bind(key_of(conversation))
        .bind(seq.max(0))
        .fetch_one(&self.pool)
        .await?)
    }

    pub(super) async fn read_lines(
        &self,
        user: UserId,
        conversations: &[ConversationId],
    ) -> StoreResult<Vec<ReadState>> {
        let keys: Vec<String> = conversations.iter().map(key_of).collect();
        let keys = serde_json::to_string(&keys).map_err(StoreError::backend)?;
        // One statement for all: each count stops at MAX_UNREAD rows of the
        // (room, seq) index. The other party's row is read for private
        // conversations only: in a room, where others are is theirs.
        // Someone who never read the lobby has read all of it that came
        // before they did: its history is not news to a newcomer (a room's
        // is marked read on joining).
        let rows = sqlx::query(
            "SELECT k.value AS room, r.seq AS seq,
                    (SELECT COUNT(*) FROM (SELECT 1 FROM messages m
                                           WHERE m.room = k.value AND m.seq > r.seq AND m.user_id != ?1
                                           LIMIT ?3)) AS unread,
                    CASE WHEN k.value LIKE 'dm:%' THEN
                         (SELECT p.seq FROM read_state p WHERE p.room = k.value AND p.user_id != ?1) END AS peer_seq
             FROM json_each(?2) k JOIN (
                 SELECT k2.value AS room,
                        COALESCE(
                            (SELECT seq FROM read_state WHERE user_id = ?1 AND room = k2.value),
                            CASE WHEN k2.value = ?4 THEN
                                (SELECT m.seq FROM messages m
                                 WHERE m.room = k2.value
                                   AND m.created_at < (SELECT created_at FROM users WHERE id = ?1)
                                 ORDER BY m.seq DESC LIMIT 1) END,
                            0) AS seq
                 FROM json_each(?2) k2) r ON r.room = k.value",
        )
        .bind(user)
        .bind(keys)
        .bind(i64::try_from(MAX_UNREAD).unwrap_or(i64::MAX))
        .bind(LOBBY)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let conversation = conversation_of_key(&row.try_get::<String, _>("room")?)?;
                Ok(ReadState {
                    seq: row.try_get("seq")?,
                    unread: usize::try_from(row.try_get::<i64, _>("unread")?).unwrap_or(0),
                    peer_seq: match conversation {
                        ConversationId::Pair(..) => Some(row.try_get::<Option<i64>, _>("peer_seq")?.unwrap_or(0)),
                        ConversationId::Room(_) => None,
                    },
                    ..ReadState::at(&conversation)
                })
            })
            .collect()
    }
}
