//! Conversations and their messages in SQLite. Messages are written by the
//! writer thread (`group_commit`); they are read here, through the pool.

use async_trait::async_trait;

use super::SqliteStore;
use crate::protocol::{ConversationId, ConversationSummary, Message, Notify, ReadState, SearchQuery, UserId, LOBBY};
use crate::server::store::columns::{conversation_summary_from_row, key_of, message_from_row};
use crate::server::store::writer::Written;
use crate::server::store::{
    ChangeOutcome, Cursor, Insert, MessageChange, MessageStore, NewMessage, ReadMark, StoreError, StoreResult,
};

#[async_trait]
impl MessageStore for SqliteStore {
    async fn history_epoch(&self) -> StoreResult<String> {
        Ok(sqlx::query_scalar("SELECT value FROM meta WHERE key = 'history_epoch'").fetch_one(&self.pool).await?)
    }

    async fn insert_message(&self, m: NewMessage<'_>) -> StoreResult<Insert> {
        Ok(match self.writer.insert(m).await? {
            Written::Stored { id, seq } => Insert::Stored { id, seq },
            Written::Duplicate(id) => {
                let row = sqlx::query(select_messages!("WHERE m.id = ?")).bind(id).fetch_one(&self.pool).await?;
                Insert::Duplicate(Box::new(message_from_row(&row)?))
            }
            Written::MediaRefused => Insert::MediaRefused,
            Written::NotAMember => Insert::NotAMember,
            Written::ReplyRefused => Insert::ReplyRefused,
        })
    }

    async fn recent(&self, conversation: &ConversationId, limit: usize) -> StoreResult<Vec<Message>> {
        self.read(conversation, None, limit).await
    }

    async fn page(&self, conversation: &ConversationId, cursor: Cursor, limit: usize) -> StoreResult<Vec<Message>> {
        self.read(conversation, Some(cursor), limit).await
    }

    async fn last_seq(&self, conversation: &ConversationId) -> StoreResult<i64> {
        Ok(sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM messages WHERE room = ?")
            .bind(key_of(conversation))
            .fetch_one(&self.pool)
            .await?)
    }

    async fn change_message(&self, change: MessageChange<'_>) -> StoreResult<ChangeOutcome> {
        self.writer.change(change).await
    }

    async fn thread_replies(
        &self,
        conversation: &ConversationId,
        root: i64,
        after: i64,
        limit: usize,
    ) -> StoreResult<Vec<Message>> {
        let rows = sqlx::query(select_messages!(
            "WHERE m.thread_root = ? AND m.room = ? AND m.seq > ? ORDER BY m.seq LIMIT ?"
        ))
        .bind(root)
        .bind(key_of(conversation))
        .bind(after)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(message_from_row).collect()
    }

    async fn last_change(&self, conversation: &ConversationId) -> StoreResult<i64> {
        Ok(sqlx::query_scalar("SELECT COALESCE(MAX(change_seq), 0) FROM messages WHERE room = ? AND change_seq > 0")
            .bind(key_of(conversation))
            .fetch_one(&self.pool)
            .await?)
    }

    async fn heads(&self, conversations: &[ConversationId]) -> StoreResult<Vec<(i64, i64)>> {
        // SQLite serves one node: nobody asks for many at once.
        let mut heads = Vec::with_capacity(conversations.len());
        for conversation in conversations {
            heads.push((self.last_seq(conversation).await?, self.last_change(conversation).await?));
        }
        Ok(heads)
    }

    async fn changed_since(
        &self,
        conversation: &ConversationId,
        after: i64,
        limit: usize,
    ) -> StoreResult<Vec<Message>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = sqlx::query(select_messages!("WHERE m.room = ? AND m.change_seq > ? ORDER BY m.change_seq LIMIT ?"))
            .bind(key_of(conversation))
            .bind(after.max(0))
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(message_from_row).collect()
    }

    async fn mark_read(&self, user: UserId, conversation: &ConversationId, seq: i64) -> StoreResult<i64> {
        self.write_read(user, conversation, seq).await
    }

    async fn mentions_of(&self, user: UserId, before: Option<i64>, limit: usize) -> StoreResult<Vec<Message>> {
        // By `mentioned_by_user`, newest first. Who may still read which
        // room: as `chat::access` says (a pair's mention is always its
        // party's).
        let rows = sqlx::query(select_messages!(
            "JOIN mentioned n ON n.message_id = m.id
             WHERE n.user_id = ?1 AND n.message_id < ?2 AND m.deleted_at IS NULL
               AND (n.room LIKE 'dm:%' OR n.room = ?3
                    OR EXISTS (SELECT 1 FROM rooms r WHERE r.name = n.room AND r.private = 0)
                    OR EXISTS (SELECT 1 FROM room_members rm WHERE rm.room = n.room AND rm.user_id = ?1))
             ORDER BY n.message_id DESC LIMIT ?4"
        ))
        .bind(user)
        .bind(before.unwrap_or(i64::MAX))
        .bind(LOBBY)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(message_from_row).collect()
    }

    async fn search(
        &self,
        reader: Option<UserId>,
        query: &SearchQuery,
        before: Option<i64>,
        limit: usize,
    ) -> StoreResult<Vec<Message>> {
        let ids = self.search_ids(reader, query, before, limit).await?;
        let ids = serde_json::to_string(&ids).map_err(StoreError::backend)?;
        let rows = sqlx::query(select_messages!(
            "WHERE m.id IN (SELECT value FROM json_each(?)) AND m.deleted_at IS NULL ORDER BY m.id DESC"
        ))
        .bind(ids)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(message_from_row).collect()
    }

    async fn mark_reads(&self, marks: &[ReadMark]) -> StoreResult<()> {
        self.write_reads(marks).await
    }

    async fn read_states(&self, user: UserId, conversations: &[(ConversationId, i64)]) -> StoreResult<Vec<ReadState>> {
        self.read_lines(user, conversations).await
    }

    async fn set_notify(&self, user: UserId, conversation: &ConversationId, level: Notify) -> StoreResult<()> {
        self.write_notify(user, conversation, level).await
    }

    async fn notify_levels(&self, user: UserId, limit: usize) -> StoreResult<Vec<(ConversationId, Notify)>> {
        self.read_notify(user, limit).await
    }

    async fn conversations(&self, user: UserId, limit: usize) -> StoreResult<Vec<ConversationSummary>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        // Sent and received are read apart so each side uses its own index.
        let rows = sqlx::query(
            "SELECT c.peer, u.name, MAX(c.last_seq) AS last_seq, MAX(c.last_at) AS last_at,
                    MAX(c.last_change) AS last_change
             FROM (SELECT room, to_user_id AS peer, MAX(seq) AS last_seq, MAX(created_at) AS last_at,
                          MAX(change_seq) AS last_change
                   FROM messages WHERE user_id = ?1 AND to_user_id IS NOT NULL GROUP BY room
                   UNION ALL
                   SELECT room, user_id AS peer, MAX(seq) AS last_seq, MAX(created_at) AS last_at,
                          MAX(change_seq) AS last_change
                   FROM messages WHERE to_user_id = ?1 GROUP BY room) c
             JOIN users u ON u.id = c.peer
             GROUP BY c.room ORDER BY last_at DESC, c.peer LIMIT ?2",
        )
        .bind(user)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(conversation_summary_from_row).collect()
    }
}

impl SqliteStore {
    /// Up to `limit` messages of `conversation`, oldest first: next to the
    /// cursor, or the newest with none.
    async fn read(
        &self,
        conversation: &ConversationId,
        cursor: Option<Cursor>,
        limit: usize,
    ) -> StoreResult<Vec<Message>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let key = key_of(conversation);
        let query = match cursor {
            Some(Cursor::After(seq)) => {
                sqlx::query(select_messages!("WHERE m.room = ? AND m.seq > ? ORDER BY m.seq ASC LIMIT ?"))
                    .bind(key)
                    .bind(seq)
            }
            Some(Cursor::Before(seq)) => {
                sqlx::query(select_messages!("WHERE m.room = ? AND m.seq < ? ORDER BY m.seq DESC LIMIT ?"))
                    .bind(key)
                    .bind(seq)
            }
            None => sqlx::query(select_messages!("WHERE m.room = ? ORDER BY m.seq DESC LIMIT ?")).bind(key),
        };
        let rows = query.bind(limit).fetch_all(&self.pool).await?;
        let mut messages = rows.iter().map(message_from_row).collect::<StoreResult<Vec<_>>>()?;
        if !matches!(cursor, Some(Cursor::After(_))) {
            messages.reverse();
        }
        Ok(messages)
    }
}
