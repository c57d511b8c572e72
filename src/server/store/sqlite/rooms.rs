//! Rooms and their members in SQLite.

use async_trait::async_trait;

use super::SqliteStore;
use crate::protocol::{User, UserId, LOBBY};
use crate::server::store::columns::room_page_from_rows;
use crate::server::store::{Room, RoomFilter, RoomPage, RoomStore, StoreError, StoreResult};

#[async_trait]
impl RoomStore for SqliteStore {
    async fn create_room(
        &self,
        name: &str,
        title: &str,
        private: bool,
        creator: UserId,
        at: i64,
    ) -> StoreResult<Option<Room>> {
        let mut tx = self.pool.begin().await?;
        let created: Option<String> = sqlx::query_scalar(
            "INSERT INTO rooms (name, title, private, created_by, created_at) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT DO NOTHING RETURNING name",
        )
        .bind(name)
        .bind(title)
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
        Ok(Some(Room { name: name.to_owned(), title: title.to_owned(), private }))
    }

    async fn room(&self, name: &str) -> StoreResult<Option<Room>> {
        let found: Option<(String, bool)> = sqlx::query_as("SELECT title, private FROM rooms WHERE name = ?")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        Ok(found.map(|(title, private)| Room { name: name.to_owned(), title, private }))
    }

    async fn room_listing(
        &self,
        viewer: Option<UserId>,
        online: &[UserId],
        filter: RoomFilter<'_>,
        limit: usize,
    ) -> StoreResult<RoomPage> {
        // SQLITE-ONLY: the online ids travel as one JSON array, unpacked by
        // `json_each`; PostgreSQL binds an array (`= ANY($2)`).
        let online = serde_json::to_string(online).unwrap_or_else(|_| "[]".to_owned());
        // One more public room than asked for says whether more follow.
        let public = i64::try_from(limit).unwrap_or(i64::MAX - 1) + 1;
        // One statement. The rooms are picked first, by name alone (the
        // lobby and the viewer's on the first page, then public ones in the
        // key's order), and only those are counted: each count is an index
        // lookup (room_members' key, messages' (room, seq)), however many
        // rooms there are. `instr(name, '')` is 1: no query keeps all. A
        // query matches the name or the title (lower() folds ASCII only,
        // as the query is folded).
        let rows = sqlx::query(
            "WITH mine AS (SELECT room AS name FROM room_members WHERE user_id = ?1),
                  picked AS (
                      SELECT name, 0 AS rank FROM rooms
                      WHERE name = ?4 AND ?5 IS NULL AND (instr(name, ?6) > 0 OR instr(lower(title), ?6) > 0)
                      UNION ALL SELECT m.name, 1 FROM mine m JOIN rooms r ON r.name = m.name
                      WHERE m.name != ?4 AND ?5 IS NULL AND (instr(m.name, ?6) > 0 OR instr(lower(r.title), ?6) > 0)
                      UNION ALL SELECT * FROM (
                          SELECT name, 2 FROM rooms
                          WHERE private = 0 AND name != ?4 AND name NOT IN (SELECT name FROM mine)
                                AND (?5 IS NULL OR name > ?5)
                                AND (instr(name, ?6) > 0 OR instr(lower(title), ?6) > 0)
                          ORDER BY name LIMIT ?3))
             SELECT r.name, r.title, r.private, p.rank,
                    (SELECT COUNT(*) FROM room_members m WHERE m.room = r.name) AS members,
                    (SELECT COUNT(*) FROM room_members m
                     WHERE m.room = r.name AND m.user_id IN (SELECT value FROM json_each(?2))) AS online,
                    EXISTS (SELECT 1 FROM room_members m WHERE m.room = r.name AND m.user_id = ?1) AS joined,
                    (SELECT COALESCE(MAX(seq), 0) FROM messages WHERE room = r.name) AS last_seq,
                    (SELECT COALESCE(MAX(change_seq), 0) FROM messages WHERE room = r.name AND change_seq > 0)
                        AS last_change
             FROM picked p
             JOIN rooms r ON r.name = p.name
             ORDER BY p.rank, r.name",
        )
        .bind(viewer)
        .bind(online)
        .bind(public)
        .bind(LOBBY)
        .bind(filter.after)
        .bind(filter.query)
        .fetch_all(&self.pool)
        .await?;
        room_page_from_rows(&rows, limit)
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

    async fn room_member_list(
        &self,
        room: &str,
        online: &[UserId],
        limit: usize,
    ) -> StoreResult<Vec<(User, Option<i64>)>> {
        // SQLITE-ONLY: the online ids as one JSON array (see room_listing).
        let online = serde_json::to_string(online).unwrap_or_else(|_| "[]".to_owned());
        let rows: Vec<(i64, String, Option<i64>)> = sqlx::query_as(
            "SELECT u.id, u.name, u.last_seen_at FROM room_members m JOIN users u ON u.id = m.user_id
             WHERE m.room = ?1
             ORDER BY u.id IN (SELECT value FROM json_each(?2)) DESC, u.last_seen_at DESC
             LIMIT ?3",
        )
        .bind(room)
        .bind(online)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(id, name, last_seen)| (User { id, name }, last_seen)).collect())
    }

    async fn members_among(&self, room: &str, users: &[UserId]) -> StoreResult<Vec<UserId>> {
        if users.is_empty() {
            return Ok(Vec::new());
        }
        let asked = serde_json::to_string(users).map_err(StoreError::backend)?;
        let found: Vec<UserId> = if room == LOBBY {
            sqlx::query_scalar("SELECT id FROM users WHERE id IN (SELECT value FROM json_each(?))")
                .bind(asked)
                .fetch_all(&self.pool)
                .await?
        } else {
            sqlx::query_scalar(
                "SELECT user_id FROM room_members WHERE room = ? AND user_id IN (SELECT value FROM json_each(?))",
            )
            .bind(room)
            .bind(asked)
            .fetch_all(&self.pool)
            .await?
        };
        Ok(users.iter().copied().filter(|user| found.contains(user)).collect())
    }

    async fn some_members(&self, room: &str, limit: usize) -> StoreResult<Vec<UserId>> {
        Ok(sqlx::query_scalar("SELECT user_id FROM room_members WHERE room = ? LIMIT ?")
            .bind(room)
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .fetch_all(&self.pool)
            .await?)
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
}
