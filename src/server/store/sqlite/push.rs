//! Web Push devices, the kept VAPID key and who chose what, in SQLite.

use async_trait::async_trait;

use super::SqliteStore;
use crate::protocol::{ConversationId, Notify, PushKeys, PushSubscription, UserId};
use crate::server::store::columns::key_of;
use crate::server::store::{PushStore, StoreError, StoreResult};

#[async_trait]
impl PushStore for SqliteStore {
    async fn keep_meta(&self, key: &str, value: &str) -> StoreResult<String> {
        sqlx::query("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING")
            .bind(key)
            .bind(value)
            .execute(&self.pool)
            .await?;
        Ok(sqlx::query_scalar("SELECT value FROM meta WHERE key = ?").bind(key).fetch_one(&self.pool).await?)
    }

    async fn add_push_device(
        &self,
        user: UserId,
        session_hash: &[u8],
        device: &PushSubscription,
        at: i64,
        keep: usize,
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO push_subscriptions (endpoint, session_hash, user_id, p256dh, auth, created_at)
             VALUES (?, ?, ?, ?, ?, ?)
             ON CONFLICT (endpoint) DO UPDATE SET session_hash = excluded.session_hash, user_id = excluded.user_id,
                 p256dh = excluded.p256dh, auth = excluded.auth, created_at = excluded.created_at
             WHERE push_subscriptions.user_id = excluded.user_id
                 OR (push_subscriptions.p256dh = excluded.p256dh AND push_subscriptions.auth = excluded.auth)",
        )
        .bind(&device.endpoint)
        .bind(session_hash)
        .bind(user)
        .bind(&device.keys.p256dh)
        .bind(&device.keys.auth)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "DELETE FROM push_subscriptions WHERE user_id = ?1 AND endpoint NOT IN (
                 SELECT endpoint FROM push_subscriptions WHERE user_id = ?1
                 ORDER BY created_at DESC, endpoint LIMIT ?2)",
        )
        .bind(user)
        .bind(i64::try_from(keep).map_err(StoreError::backend)?)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn remove_push_device(&self, endpoint: &str, user: Option<UserId>) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM push_subscriptions WHERE endpoint = ? AND (?2 IS NULL OR user_id = ?2)")
            .bind(endpoint)
            .bind(user)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn push_devices(&self, users: &[UserId]) -> StoreResult<Vec<(UserId, PushSubscription)>> {
        let users = serde_json::to_string(users).map_err(StoreError::backend)?;
        let rows: Vec<(UserId, String, String, String)> = sqlx::query_as(
            "SELECT user_id, endpoint, p256dh, auth FROM push_subscriptions
             WHERE user_id IN (SELECT value FROM json_each(?))",
        )
        .bind(users)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(user, endpoint, p256dh, auth)| {
                (user, PushSubscription { endpoint, keys: PushKeys { p256dh, auth } })
            })
            .collect())
    }

    async fn levels_for(&self, conversation: &ConversationId, users: &[UserId]) -> StoreResult<Vec<(UserId, Notify)>> {
        let users = serde_json::to_string(users).map_err(StoreError::backend)?;
        let rows: Vec<(UserId, String)> = sqlx::query_as(
            "SELECT user_id, level FROM notify_levels
             WHERE room = ? AND user_id IN (SELECT value FROM json_each(?))",
        )
        .bind(key_of(conversation))
        .bind(users)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().filter_map(|(user, level)| Some((user, Notify::parse(&level)?))).collect())
    }
}
