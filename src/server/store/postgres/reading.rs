//! How far each person has read, in PostgreSQL: one row per person and
//! conversation, written through the pool, many marks to a statement
//! (`store::read_marks`).

use super::PostgresStore;
use crate::protocol::{ConversationId, Notify, ReadState, UserId, LOBBY, MAX_UNREAD};
use crate::server::store::columns::{key_of, levels_of_rows, read_state_from_row};
use crate::server::store::{ReadMark, StoreError, StoreResult};

impl PostgresStore {
    pub(super) async fn write_read(&self, user: UserId, conversation: &ConversationId, seq: i64) -> StoreResult<i64> {
        // Never back: a tab that read less, later, changes nothing.
        Ok(sqlx::query_scalar(
            "INSERT INTO read_state (user_id, room, seq) VALUES ($1, $2, $3)
             ON CONFLICT (user_id, room) DO UPDATE SET seq = GREATEST(read_state.seq, excluded.seq)
             RETURNING seq",
        )
        .bind(user)
        .bind(key_of(conversation))
        .bind(seq.max(0))
        .fetch_one(&self.pool)
        .await?)
    }

    pub(super) async fn write_reads(&self, marks: &[ReadMark]) -> StoreResult<()> {
        let users: Vec<i64> = marks.iter().map(|mark| mark.user).collect();
        let rooms: Vec<String> = marks.iter().map(|mark| key_of(&mark.conversation)).collect();
        let seqs: Vec<i64> = marks.iter().map(|mark| mark.seq.max(0)).collect();
        // One statement for all; one row per person and conversation (an
        // upsert may not touch a row twice). A guest swept meanwhile has no
        // row to point at (its foreign key would fail the whole
        // statement), so its marks go with it.
        sqlx::query(
            "INSERT INTO read_state (user_id, room, seq)
             SELECT mark.user_id, mark.room, MAX(mark.seq)
             FROM unnest($1::bigint[], $2::text[], $3::bigint[]) AS mark (user_id, room, seq)
             WHERE EXISTS (SELECT 1 FROM users WHERE id = mark.user_id)
             GROUP BY mark.user_id, mark.room
             ON CONFLICT (user_id, room) DO UPDATE SET seq = GREATEST(read_state.seq, excluded.seq)",
        )
        .bind(users)
        .bind(rooms)
        .bind(seqs)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub(super) async fn read_lines(
        &self,
        user: UserId,
        conversations: &[(ConversationId, i64)],
    ) -> StoreResult<Vec<ReadState>> {
        let rooms: Vec<String> = conversations.iter().map(|(c, _)| key_of(c)).collect();
        let floors: Vec<i64> = conversations.iter().map(|(_, floor)| *floor).collect();
        // As SQLite's (`sqlite::reading`): one statement for all; each
        // count stops at MAX_UNREAD rows of the (room, seq) index; the other
        // party's row only for private conversations; someone who never
        // read the lobby has read all of it that came before they did; a
        // mark not written yet is a floor.
        let rows = sqlx::query(
            "WITH asked AS (SELECT * FROM unnest($2::text[], $3::bigint[]) AS a (room, floor)),
                  r AS (
                      SELECT a.room,
                             GREATEST(a.floor, COALESCE(
                                 (SELECT seq FROM read_state WHERE user_id = $1 AND room = a.room),
                                 CASE WHEN a.room = $5 THEN
                                     (SELECT m.seq FROM messages m
                                      WHERE m.room = a.room
                                        AND m.created_at < (SELECT created_at FROM users WHERE id = $1)
                                      ORDER BY m.seq DESC LIMIT 1) END,
                                 0)) AS seq
                      FROM asked a)
             SELECT r.room, r.seq,
                    (SELECT COUNT(*) FROM (SELECT 1 FROM messages m
                                           WHERE m.room = r.room AND m.seq > r.seq AND m.user_id <> $1
                                           LIMIT $4) n) AS unread,
                    (SELECT COUNT(*) FROM (SELECT 1 FROM mentioned n JOIN messages m ON m.id = n.message_id
                                           WHERE n.user_id = $1 AND n.room = r.room AND n.seq > r.seq
                                             AND m.deleted_at IS NULL
                                           LIMIT $4) c) AS mentions,
                    CASE WHEN r.room LIKE 'dm:%' THEN
                         (SELECT p.seq FROM read_state p WHERE p.room = r.room AND p.user_id <> $1 LIMIT 1) END
                        AS peer_seq
             FROM r",
        )
        .bind(user)
        .bind(rooms)
        .bind(floors)
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
            sqlx::query("DELETE FROM notify_levels WHERE user_id = $1 AND room = $2")
                .bind(user)
                .bind(key_of(conversation))
                .execute(&self.pool)
                .await?;
        } else {
            sqlx::query(
                "INSERT INTO notify_levels (user_id, room, level) VALUES ($1, $2, $3)
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
            sqlx::query_as("SELECT room, level FROM notify_levels WHERE user_id = $1 ORDER BY room LIMIT $2")
                .bind(user)
                .bind(i64::try_from(limit).map_err(StoreError::backend)?)
                .fetch_all(&self.pool)
                .await?;
        levels_of_rows(rows)
    }
}
