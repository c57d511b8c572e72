//! Uploads and blobs in PostgreSQL.

use async_trait::async_trait;
use sqlx::Row;

use super::messages::limit;
use super::PostgresStore;
use crate::server::store::columns::{conversation_of_key, dimension, media_from_row};
use crate::server::store::{BlobInfo, MediaStore, NewUpload, StoreError, StoreResult, UploadRecord};

#[async_trait]
impl MediaStore for PostgresStore {
    async fn insert_upload(&self, u: NewUpload<'_>) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO media_blobs (sha256, size, width, height, thumb_mime, last_used)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (sha256) DO UPDATE SET last_used = excluded.last_used,
                 width = excluded.width, height = excluded.height, thumb_mime = excluded.thumb_mime",
        )
        .bind(u.sha256)
        .bind(i64::try_from(u.size).unwrap_or(i64::MAX))
        .bind(u.width.map(i64::from))
        .bind(u.height.map(i64::from))
        .bind(u.thumb_mime)
        .bind(u.at)
        .execute(&mut *tx)
        .await?;
        sqlx::query("INSERT INTO uploads (id, sha256, owner, name, mime, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
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
        let row = sqlx::query("SELECT width, height, thumb_mime FROM media_blobs WHERE sha256 = $1")
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
                    m.room
             FROM uploads u JOIN media_blobs b ON b.sha256 = u.sha256
                  LEFT JOIN messages m ON m.id = u.message_id
             WHERE u.id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let Some(media) = media_from_row(&row)? else { return Ok(None) };
        let carried_in = match row.try_get::<Option<String>, _>("room")? {
            Some(key) => Some(conversation_of_key(&key)?),
            None => None,
        };
        Ok(Some(UploadRecord {
            media,
            sha256: row.try_get("sha256")?,
            owner: row.try_get("owner")?,
            thumb_mime: row.try_get("thumb_mime")?,
            carried_in,
        }))
    }

    async fn delete_unlinked_uploads(&self, cutoff: i64) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM uploads WHERE message_id IS NULL AND created_at < $1")
            .bind(cutoff)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    async fn unused_blobs(&self, cutoff: i64, count: usize) -> StoreResult<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT sha256 FROM media_blobs b
             WHERE last_used < $1 AND NOT EXISTS (SELECT 1 FROM uploads u WHERE u.sha256 = b.sha256) LIMIT $2",
        )
        .bind(cutoff)
        .bind(limit(count))
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
        // The DELETE locks the blob's row, which an upload of the same
        // bytes must update: it either came first (and `last_used` no
        // longer matches) or waits until the bytes are gone, then writes
        // the row, and its bytes, anew.
        let gone: Option<String> = sqlx::query_scalar(
            "DELETE FROM media_blobs
             WHERE sha256 = $1 AND last_used < $2 AND NOT EXISTS (SELECT 1 FROM uploads WHERE sha256 = $1)
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
            return Err(StoreError::Io(error));
        }
        tx.commit().await?;
        Ok(true)
    }
}
