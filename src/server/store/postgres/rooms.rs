//! Rooms and their members in PostgreSQL.

use async_trait::async_trait;

use super::messages::limit;
use super::PostgresStore;
use crate::protocol::{User, UserId, LOBBY};
use crate::server::store::columns::room_page_from_rows;
use crate::server::store::{Room, RoomFilter, RoomPage, RoomStore, StoreResult};

#[async_trait]
impl RoomStore for PostgresStore {
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
            "INSERT INTO rooms (name, title, private, created_by, created_at) VALUES ($1, $2, $3, $4, $5)
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
        sqlx::query("INSERT INTO room_members (room, user_id, joined_at) VALUES ($1, $2, $3)")
            .bind(name)
            .bind(creator)
            .bind(at)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Some(Room { name: name.to_owned(), title: title.to_owned(), private }))
    }

    async fn room(&self, name: &str) -> StoreResult<Option<Room>> {
        let found: Option<(String, bool)> = sqlx::query_as("SELECT title, private FROM rooms WHERE name = $1")
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
        count: usize,
    ) -> StoreResult<RoomPage> {
        // As SQLite's (`sqlite::rooms`): one statement, the rooms picked
        // first by name alone, then only those counted. The newest `seq`
        // and change come from the conversation's counter row. One more
        // public room than asked for says whether more follow.
        let rows = sqlx::query(
            "WITH mine AS (SELECT room AS name FROM room_members WHERE user_id = $1),
                  picked AS (
                      SELECT name, 0::bigint AS rank FROM rooms
                      WHERE name = $4 AND $5::text IS NULL
                            AND (strpos(name, $6) > 0 OR strpos(lower(title), $6) > 0)
                      UNION ALL SELECT m.name, 1::bigint FROM mine m JOIN rooms r ON r.name = m.name
                      WHERE m.name <> $4 AND $5::text IS NULL
                            AND (strpos(m.name, $6) > 0 OR strpos(lower(r.title), $6) > 0)
                      UNION ALL (
                          SELECT name, 2::bigint FROM rooms
                          WHERE NOT private AND name <> $4 AND name NOT IN (SELECT name FROM mine)
                                AND ($5::text IS NULL OR name > $5)
                                AND (strpos(name, $6) > 0 OR strpos(lower(title), $6) > 0)
                          ORDER BY name LIMIT $3))
             SELECT r.name, r.title, r.private, p.rank,
                    (SELECT COUNT(*) FROM room_members m WHERE m.room = r.name) AS members,
                    (SELECT COUNT(*) FROM room_members m WHERE m.room = r.name AND m.user_id = ANY ($2)) AS online,
                    EXISTS (SELECT 1 FROM room_members m WHERE m.room = r.name AND m.user_id = $1) AS joined,
                    COALESCE(c.last_seq, 0) AS last_seq, COALESCE(c.last_change, 0) AS last_change
             FROM picked p
             JOIN rooms r ON r.name = p.name
             LEFT JOIN conversations c ON c.room = r.name
             ORDER BY p.rank, r.name",
        )
        .bind(viewer)
        .bind(online)
        .bind(limit(count).saturating_add(1))
        .bind(LOBBY)
        .bind(filter.after)
        .bind(filter.query)
        .fetch_all(&self.pool)
        .await?;
        room_page_from_rows(&rows, count)
    }

    async fn rooms_created_by(&self, user: UserId) -> StoreResult<usize> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM rooms WHERE created_by = $1")
            .bind(user)
            .fetch_one(&self.pool)
            .await?;
        Ok(usize::try_from(n).unwrap_or(0))
    }

    async fn is_member(&self, room: &str, user: UserId) -> StoreResult<bool> {
        Ok(sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM room_members WHERE room = $1 AND user_id = $2)")
            .bind(room)
            .bind(user)
            .fetch_one(&self.pool)
            .await?)
    }

    async fn add_member(&self, room: &str, user: UserId, at: i64) -> StoreResult<()> {
        sqlx::query("INSERT INTO room_members (room, user_id, joined_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
            .bind(room)
            .bind(user)
            .bind(at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn remove_member(&self, room: &str, user: UserId) -> StoreResult<()> {
        sqlx::query("DELETE FROM room_members WHERE room = $1 AND user_id = $2")
            .bind(room)
            .bind(user)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn members_among(&self, room: &str, users: &[UserId]) -> StoreResult<Vec<UserId>> {
        if users.is_empty() {
            return Ok(Vec::new());
        }
        let found: Vec<UserId> = if room == LOBBY {
            sqlx::query_scalar("SELECT id FROM users WHERE id = ANY($1)").bind(users).fetch_all(&self.pool).await?
        } else {
            sqlx::query_scalar("SELECT user_id FROM room_members WHERE room = $1 AND user_id = ANY($2)")
                .bind(room)
                .bind(users)
                .fetch_all(&self.pool)
                .await?
        };
        Ok(users.iter().copied().filter(|user| found.contains(user)).collect())
    }

    async fn some_members(&self, room: &str, count: usize) -> StoreResult<Vec<UserId>> {
        Ok(sqlx::query_scalar("SELECT user_id FROM room_members WHERE room = $1 LIMIT $2")
            .bind(room)
            .bind(limit(count))
            .fetch_all(&self.pool)
            .await?)
    }

    async fn room_members(&self, room: &str) -> StoreResult<Vec<UserId>> {
        Ok(sqlx::query_scalar("SELECT user_id FROM room_members WHERE room = $1")
            .bind(room)
            .fetch_all(&self.pool)
            .await?)
    }

    async fn room_member_list(
        &self,
        room: &str,
        online: &[UserId],
        count: usize,
    ) -> StoreResult<Vec<(User, Option<i64>)>> {
        let rows: Vec<(i64, String, Option<i64>)> = sqlx::query_as(
            "SELECT u.id, u.name, u.last_seen_at FROM room_members m JOIN users u ON u.id = m.user_id
             WHERE m.room = $1
             ORDER BY u.id = ANY ($2) DESC, u.last_seen_at DESC NULLS LAST
             LIMIT $3",
        )
        .bind(room)
        .bind(online)
        .bind(limit(count))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(id, name, last_seen)| (User { id, name }, last_seen)).collect())
    }

    async fn memberships(&self, user: UserId) -> StoreResult<Vec<String>> {
        Ok(sqlx::query_scalar("SELECT room FROM room_members WHERE user_id = $1 ORDER BY room")
            .bind(user)
            .fetch_all(&self.pool)
            .await?)
    }
}
