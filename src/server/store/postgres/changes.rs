//! Changes to messages in PostgreSQL: edits, deletions and reactions,
//! written by the writer (`store::writer`, `writer`) in the same batches
//! as new messages, so that both reach delivery in one commit order. Each
//! takes its conversation's next change number from the counter row, as
//! `seq` is taken.

use sqlx::postgres::PgConnection;
use sqlx::Connection;

use super::search;
use crate::protocol::{ConversationId, Message, UserId, LOBBY};
use crate::server::store::columns::{conversation_of_key, message_from_row};
use crate::server::store::writer::{ChangeJob, OwnedEdit};
use crate::server::store::{ChangeOutcome, StoreResult};

/// Applies one change inside the batch's transaction; a refused one keeps
/// nothing.
pub(super) async fn apply(tx: &mut PgConnection, job: &ChangeJob) -> StoreResult<ChangeOutcome> {
    let mut savepoint = tx.begin().await?;
    // Another node's writer changing it at once waits its turn (its
    // conversation's counter row is locked already, `writer::lock_counters`).
    // NO KEY: a reply's foreign key to it need not wait.
    let found: Option<(String, i64, bool, bool, String)> = sqlx::query_as(
        "SELECT room, user_id, deleted_at IS NOT NULL, media_id IS NOT NULL, text FROM messages WHERE id = $1
         FOR NO KEY UPDATE",
    )
    .bind(job.id)
    .fetch_optional(&mut *savepoint)
    .await?;
    let Some((key, author, deleted, has_media, text)) = found else { return Ok(ChangeOutcome::NoSuchMessage) };
    let conversation = conversation_of_key(&key)?;
    let (may_read, may_post) = rights(&mut savepoint, &conversation, &key, job.by).await?;
    if !may_read {
        return Ok(ChangeOutcome::NoSuchMessage);
    }
    let refused = match &job.edit {
        OwnedEdit::Text(_) | OwnedEdit::Delete if author != job.by => Some(ChangeOutcome::NotYours),
        OwnedEdit::Text(_) | OwnedEdit::React(_) if deleted => Some(ChangeOutcome::Deleted),
        OwnedEdit::Text(new) if new.is_empty() && !has_media => Some(ChangeOutcome::EmptyText),
        OwnedEdit::React(_) if !may_post => Some(ChangeOutcome::NotAMember),
        _ => None,
    };
    if let Some(refused) = refused {
        return Ok(refused);
    }
    let unchanged = match &job.edit {
        OwnedEdit::Text(new) => *new == text,
        OwnedEdit::Delete => deleted,
        OwnedEdit::React(emoji) if !toggle(&mut savepoint, job, emoji).await? => {
            savepoint.rollback().await?;
            return Ok(ChangeOutcome::TooManyReactions);
        }
        OwnedEdit::React(_) => false,
    };
    if unchanged {
        let message = read_message(&mut savepoint, job.id).await?;
        return Ok(message.map_or(ChangeOutcome::NoSuchMessage, |message| ChangeOutcome::Unchanged(Box::new(message))));
    }
    let change = next_change(&mut savepoint, &key).await?;
    match &job.edit {
        OwnedEdit::Text(new) => {
            // Found by its new words only.
            sqlx::query(
                "UPDATE messages SET text = $1, edited_at = $2, change_seq = $3, search = to_tsvector('simple', $4)
                 WHERE id = $5",
            )
            .bind(new)
            .bind(job.at)
            .bind(change)
            .bind(search::body(new))
            .bind(job.id)
            .execute(&mut *savepoint)
            .await?;
        }
        OwnedEdit::Delete => {
            // Nothing of what it said stays: not its text, not who reacted,
            // not whom it called, not its file (whose bytes the sweep
            // removes once unused).
            sqlx::query(
                "UPDATE messages SET text = '', edited_at = NULL, media_id = NULL, deleted_at = $1, change_seq = $2,
                                     search = NULL, mentions = NULL, everyone = NULL
                 WHERE id = $3",
            )
            .bind(job.at)
            .bind(change)
            .bind(job.id)
            .execute(&mut *savepoint)
            .await?;
            sqlx::query("DELETE FROM reactions WHERE message_id = $1").bind(job.id).execute(&mut *savepoint).await?;
            sqlx::query("DELETE FROM mentioned WHERE message_id = $1").bind(job.id).execute(&mut *savepoint).await?;
            sqlx::query("DELETE FROM uploads WHERE message_id = $1").bind(job.id).execute(&mut *savepoint).await?;
        }
        OwnedEdit::React(_) => {
            sqlx::query("UPDATE messages SET change_seq = $1 WHERE id = $2")
                .bind(change)
                .bind(job.id)
                .execute(&mut *savepoint)
                .await?;
        }
    }
    let message = read_message(&mut savepoint, job.id).await?;
    savepoint.commit().await?;
    Ok(message.map_or(ChangeOutcome::NoSuchMessage, |message| ChangeOutcome::Changed(Box::new(message))))
}

/// Whether `user` may read the conversation, and post in it (which
/// reacting takes): a pair's two parties; anyone in the lobby; a room's
/// members, and readers only of a public room.
async fn rights(
    tx: &mut PgConnection,
    conversation: &ConversationId,
    key: &str,
    user: UserId,
) -> StoreResult<(bool, bool)> {
    Ok(match conversation {
        ConversationId::Pair(a, b) => {
            let party = user == *a || user == *b;
            (party, party)
        }
        ConversationId::Room(name) if name == LOBBY => (true, true),
        ConversationId::Room(_) => {
            let (member, public): (bool, bool) = sqlx::query_as(
                "SELECT EXISTS (SELECT 1 FROM room_members WHERE room = $1 AND user_id = $2),
                        EXISTS (SELECT 1 FROM rooms WHERE name = $1 AND NOT private)",
            )
            .bind(key)
            .bind(user)
            .fetch_one(&mut *tx)
            .await?;
            (member || public, member)
        }
    })
}

/// Adds `job.by`'s reaction `emoji`, or takes it back. Returns false when
/// it would be one emoji too many.
async fn toggle(tx: &mut PgConnection, job: &ChangeJob, emoji: &str) -> StoreResult<bool> {
    let removed = sqlx::query("DELETE FROM reactions WHERE message_id = $1 AND emoji = $2 AND user_id = $3")
        .bind(job.id)
        .bind(emoji)
        .bind(job.by)
        .execute(&mut *tx)
        .await?;
    if removed.rows_affected() > 0 {
        return Ok(true);
    }
    let (kinds, present): (i64, bool) = sqlx::query_as(
        "SELECT COUNT(DISTINCT emoji), EXISTS (SELECT 1 FROM reactions WHERE message_id = $1 AND emoji = $2)
         FROM reactions WHERE message_id = $1",
    )
    .bind(job.id)
    .bind(emoji)
    .fetch_one(&mut *tx)
    .await?;
    if !present && usize::try_from(kinds).unwrap_or(usize::MAX) >= job.max_reactions {
        return Ok(false);
    }
    sqlx::query("INSERT INTO reactions (message_id, emoji, user_id, created_at) VALUES ($1, $2, $3, $4)")
        .bind(job.id)
        .bind(emoji)
        .bind(job.by)
        .bind(job.at)
        .execute(&mut *tx)
        .await?;
    Ok(true)
}

/// The next change number of the conversation stored under `key`: its
/// counter row, bumped (and locked until the transaction ends).
async fn next_change(tx: &mut PgConnection, key: &str) -> StoreResult<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO conversations (room, last_change) VALUES ($1, 1)
         ON CONFLICT (room) DO UPDATE SET last_change = conversations.last_change + 1
         RETURNING last_change",
    )
    .bind(key)
    .fetch_one(&mut *tx)
    .await?)
}

/// A thread's root after a new reply at `at`: one reply more, its last
/// now, and the change that says so. Returns the root in its new state.
pub(super) async fn new_reply(tx: &mut PgConnection, root: i64, key: &str, at: i64) -> StoreResult<Option<Message>> {
    let change = next_change(tx, key).await?;
    sqlx::query(
        "UPDATE messages SET thread_replies = thread_replies + 1, thread_last_at = $1, change_seq = $2 WHERE id = $3",
    )
    .bind(at)
    .bind(change)
    .bind(root)
    .execute(&mut *tx)
    .await?;
    read_message(tx, root).await
}

/// A message as it stands now.
pub(super) async fn read_message(tx: &mut PgConnection, id: i64) -> StoreResult<Option<Message>> {
    let row = sqlx::query(select_messages!("WHERE m.id = $1")).bind(id).fetch_optional(&mut *tx).await?;
    row.as_ref().map(message_from_row).transpose()
}
