//! How far each person has read, in SQLite: one row per person and
//! conversation, written through the pool (it is no message: nothing
//! waits on its order), many marks to a statement (`store::read_marks`).

use super::SqliteStore;
use crate::protocol::{ConversationId, Notify, ReadState, UserId, LOBBY, MAX_UNREAD};
use crate::server::store::columns::{key_of, levels_of_rows, read_state_from_row};
use crate::server::store::{ReadMark, StoreError, StoreResult};

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

    pub(super) async fn write_reads(&self, marks: &[ReadMark]) -> StoreResult<()> {
        let marks: Vec<(UserId, String, i64)> =
            marks.iter().map(|mark| (mark.user, key_of(&mark.conversation), mark.seq.max(0))).collect();
        let marks = serde_json::to_string(&marks).map_err(StoreError::backend)?;
        // One statement for all. A guest swept meanwhile has no row to
        // point at (its foreign key would fail the whole statement), so its
        // marks go with it.
        sqlx::query(
            "INSERT INTO read_state (user_id, room, seq)
             SELECT value ->> 0, value ->> 1, value ->> 2 FROM json_each(?)
             WHERE EXISTS (SELECT 1 FROM users WHERE id = value ->> 0)
             ON CONFLICT (user_id, room) DO UPDATE SET seq = MAX(seq, excluded.seq)",
        )
        .bind(marks)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub(super) async fn read_lines(
        &self,
        user: UserId,
        conversations: &[(ConversationId, i64)],
    ) -> StoreResult<Vec<ReadState>> {
        let asked: Vec<(String, i64)> = conversations.iter().map(|(c, floor)| (key_of(c), *floor)).collect();
        let asked = serde_json::to_string(&asked).map_err(StoreError::backend)?;
        // One statement for all: each count stops at MAX_UNREAD rows of the
        // (room, seq) index (mentions: of `mentioned`'s key). The other party's row is read for private
        // conversations only: in a room, where others are is theirs.
        // Someone who never read the lobby has read all of it that came
        // before they did: its history is not news to a newcomer (a room's
        // is marked read on joining). A mark not written yet is a floor.
        let rows = sqlx::query(
            "WITH asked (room, floor) AS (SELECT value ->> 0, value ->> 1 FROM json_each(?2)),
                  r (room, seq) AS (
                      SELECT a.room,
                             MAX(a.floor, COALESCE(
                                 (SELECT seq FROM read_state WHERE user_id = ?1 AND room = a.room),
                                 CASE WHEN a.room = ?4 THEN
                                     (SELECT m.seq FROM messages m
                                      WHERE m.room = a.room
                                        AND m.created_at < (SELECT created_at FROM users WHERE id = ?1)
                                      ORDER BY m.seq DESC LIMIT 1) END,
                                 0))
                      FROM asked a)
             SELECT r.room AS room, r.seq AS seq,
                    (SELECT COUNT(*) FROM (SELECT 1 FROM messages m
                                           WHERE m.room = r.room AND m.seq > r.seq AND m.user_id != ?1
                                           LIMIT ?3)) AS unread,
                    (SELECT COUNT(*) FROM (SELECT 1 FROM mentioned n JOIN messages m ON m.id = n.message_id
                                           WHERE n.user_id = ?1 AND n.room = r.room AND n.seq > r.seq
                                             AND m.deleted_at IS NULL
                                           LIMIT ?3)) AS mentions,
                    CASE WHEN r.room LIKE 'dm:%' THEN
                         (SELECT p.seq FROM read_state p WHERE p.room = r.room AND p.user_id != ?1) END AS peer_seq
             FROM r",
        )
        .bind(user)
        .bind(asked)
        .bind(i64::try_from(MAX_UNREAD).unwrap_or(i64::MAX))
        .bind(LOBBY)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(read_state_from_row).collect()
    }

    pub(super) async fn write_notify(
        &self,
        user: UserId,
        conversation: &ConversationId,
        level: Notify,
    ) -> StoreResult<()> {
        // The default is no row: what a conversation notifies of when
        // nobody chose stays the protocol's to say.
        if level == Notify::default_for(conversation) {
            sqlx::query("DELETE FROM notify_levels WHERE user_id = ? AND room = ?")
                .bind(user)
                .bind(key_of(conversation))
                .execute(&self.pool)
                .await?;
        } else {
            sqlx::query(
                "INSERT INTO notify_levels (user_id, room, level) VALUES (?, ?, ?)
                 ON CONFLICT (user_id, room) DO UPDATE SET level = excluded.level",
            )
            .bind(user)
            .bind(key_of(conversation))
            .bind(level.as_str())
            .execute(&self.pool)
            .await?;
        }
        Ok(())
    }

    pub(super) async fn read_notify(&self, user: UserId, limit: usize) -> StoreResult<Vec<(ConversationId, Notify)>> {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT room, level FROM notify_levels WHERE user_id = ? ORDER BY room LIMIT ?")
                .bind(user)
                .bind(i64::try_from(limit).map_err(StoreError::backend)?)
                .fetch_all(&self.pool)
                .await?;
        levels_of_rows(rows)
    }
}
