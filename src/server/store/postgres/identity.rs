//! Users, sessions and accounts in PostgreSQL. Guests are created by the
//! writer (`store::writer`), a user and its session in one commit;
//! everything else goes through the pool.

use async_trait::async_trait;
use sqlx::Row;

use super::PostgresStore;
use crate::protocol::{User, UserId};
use crate::server::names::NameKeys;
use crate::server::store::columns::user_from_row;
use crate::server::store::{IdentityStore, NameHolder, NewGuest, NewMember, StoreError, StoreResult};

/// How many user ids one statement of the guest sweep looks at.
const GUEST_SWEEP_WINDOW: i64 = 2_000;

#[async_trait]
impl IdentityStore for PostgresStore {
    async fn create_guest_with_session(&self, guest: NewGuest<'_>) -> StoreResult<User> {
        let id = self.writer.create_guest(guest).await?;
        Ok(User { id, name: guest.name.to_owned() })
    }

    async fn create_member(&self, m: NewMember<'_>) -> StoreResult<Option<User>> {
        // Two sign-ups racing for one name: the unique index on registered
        // name keys settles it. For two look-alikes (the skeleton, which
        // no index holds unique), a transaction-scoped advisory lock on
        // the skeleton makes the second wait for the first to commit, so
        // its NOT EXISTS sees it.
        let mut tx = self.pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext('rtca name ' || $1))")
            .bind(&m.keys.skeleton)
            .execute(&mut *tx)
            .await?;
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO users (name, name_key, name_skeleton, kind, password_hash, created_at)
             SELECT $1, $2, $3, 'member', $4, $5
             WHERE NOT EXISTS (SELECT 1 FROM users WHERE kind = 'member' AND (name_key = $2 OR name_skeleton = $3))
             ON CONFLICT DO NOTHING RETURNING id",
        )
        .bind(m.name)
        .bind(&m.keys.folded)
        .bind(&m.keys.skeleton)
        .bind(m.password_hash)
        .bind(m.at)
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(id.map(|id| User { id, name: m.name.to_owned() }))
    }

    async fn member(&self, name_key: &str) -> StoreResult<Option<(User, String)>> {
        let row = sqlx::query("SELECT id, name, password_hash FROM users WHERE name_key = $1 AND kind = 'member'")
            .bind(name_key)
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some((user_from_row(&row)?, row.try_get("password_hash")?)))
    }

    async fn name_holder(&self, keys: &NameKeys, except: Option<UserId>, now: i64) -> StoreResult<Option<NameHolder>> {
        let kind: Option<String> = sqlx::query_scalar(
            "SELECT kind FROM users u
             WHERE (name_key = $1 OR name_skeleton = $2) AND id IS DISTINCT FROM $3
               AND (kind = 'member'
                    OR EXISTS (SELECT 1 FROM sessions s
                               WHERE s.user_id = u.id AND s.expires_at > $4 AND s.presented))
             ORDER BY kind = 'member' DESC LIMIT 1",
        )
        .bind(&keys.folded)
        .bind(&keys.skeleton)
        .bind(except)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        Ok(kind.map(|kind| if kind == "member" { NameHolder::Member } else { NameHolder::Guest }))
    }

    async fn is_registered(&self, id: UserId) -> StoreResult<bool> {
        let kind: Option<String> =
            sqlx::query_scalar("SELECT kind FROM users WHERE id = $1").bind(id).fetch_optional(&self.pool).await?;
        Ok(kind.as_deref() == Some("member"))
    }

    async fn rename_user(&self, id: UserId, name: &str, keys: &NameKeys) -> StoreResult<()> {
        sqlx::query("UPDATE users SET name = $1, name_key = $2, name_skeleton = $3 WHERE id = $4")
            .bind(name)
            .bind(&keys.folded)
            .bind(&keys.skeleton)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn set_last_seen(&self, seen: &[(UserId, i64)]) -> StoreResult<()> {
        let ids: Vec<i64> = seen.iter().map(|(id, _)| *id).collect();
        let times: Vec<i64> = seen.iter().map(|(_, at)| *at).collect();
        sqlx::query(
            "UPDATE users SET last_seen_at = s.at
             FROM (SELECT id, MAX(at) AS at FROM unnest($1::bigint[], $2::bigint[]) AS s (id, at) GROUP BY id) s
             WHERE users.id = s.id",
        )
        .bind(ids)
        .bind(times)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn user(&self, id: UserId) -> StoreResult<Option<User>> {
        let row = sqlx::query("SELECT id, name FROM users WHERE id = $1").bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(user_from_row).transpose().map_err(StoreError::from)
    }

    async fn create_session(&self, token_hash: &[u8], user: UserId, at: i64, expires_at: i64) -> StoreResult<()> {
        sqlx::query("INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
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
            "SELECT u.id, u.name, s.presented FROM sessions s JOIN users u ON u.id = s.user_id
             WHERE s.token_hash = $1 AND s.expires_at > $2",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        // Once per session: later presentations only read.
        if !row.try_get::<bool, _>("presented")? {
            sqlx::query("UPDATE sessions SET presented = TRUE WHERE token_hash = $1")
                .bind(token_hash)
                .execute(&self.pool)
                .await?;
        }
        Ok(Some(user_from_row(&row)?))
    }

    async fn delete_session(&self, token_hash: &[u8]) -> StoreResult<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash).execute(&self.pool).await?;
        Ok(())
    }

    async fn renew_session(&self, token_hash: &[u8], now: i64, expires_at: i64) -> StoreResult<bool> {
        let renewed = sqlx::query("UPDATE sessions SET expires_at = $1 WHERE token_hash = $2 AND expires_at > $3")
            .bind(expires_at)
            .bind(token_hash)
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(renewed.rows_affected() > 0)
    }

    async fn delete_expired_sessions(&self, now: i64) -> StoreResult<u64> {
        let deleted = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1").bind(now).execute(&self.pool).await?;
        Ok(deleted.rows_affected())
    }

    async fn delete_abandoned_guests(&self, created_before: i64, online: &[UserId]) -> StoreResult<u64> {
        let last: Option<i64> = sqlx::query_scalar("SELECT MAX(id) FROM users").fetch_one(&self.pool).await?;
        let mut deleted = 0;
        // A window of ids per statement, each test an index lookup, as in
        // SQLite (`sqlite::identity`).
        let mut start = 0;
        while start < last.unwrap_or(0) {
            let end = start.saturating_add(GUEST_SWEEP_WINDOW);
            let window = sqlx::query(
                "DELETE FROM users WHERE id IN (
                     SELECT u.id FROM users u
                     WHERE u.id > $1 AND u.id <= $2 AND u.kind = 'guest' AND u.created_at < $3
                       AND u.id <> ALL ($4)
                       AND NOT EXISTS (SELECT 1 FROM sessions s WHERE s.user_id = u.id)
                       AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.user_id = u.id)
                       AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.to_user_id = u.id)
                       AND NOT EXISTS (SELECT 1 FROM uploads p WHERE p.owner = u.id)
                       AND NOT EXISTS (SELECT 1 FROM rooms r WHERE r.created_by = u.id)
                       AND NOT EXISTS (SELECT 1 FROM reactions x WHERE x.user_id = u.id))",
            )
            .bind(start)
            .bind(end)
            .bind(created_before)
            .bind(online)
            .execute(&self.pool)
            .await?;
            deleted += window.rows_affected();
            start = end;
            tokio::task::yield_now().await;
        }
        Ok(deleted)
    }
}
