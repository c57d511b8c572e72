//! Changes to messages in SQLite: edits, deletions and reactions, written
//! by the writer thread (`store::writer`, `group_commit`) in the same batches as new
//! messages, so that both reach delivery in one commit order.
//!
//! Each change takes its conversation's next change number, read under
//! SQLite's one write lock as `seq` is (SQLITE-ONLY: PostgreSQL needs a
//! counter row, as for `seq`).

use rusqlite::{Connection, OptionalExtension, Row, Transaction};

use super::search;
use crate::protocol::{ConversationId, Mentions, Message, Quote, Revision, User, UserId, LOBBY};
use crate::server::store::columns::{conversation_of_key, in_thread, media, revision, thread_summary};
use crate::server::store::writer::{ChangeJob, OwnedEdit};
use crate::server::store::ChangeOutcome;

/// The message as it stands before the change.
struct Found {
    conversation: ConversationId,
    author: UserId,
    deleted: bool,
    has_media: bool,
    text: String,
}

/// Applies one change inside the batch's transaction; a refused one keeps
/// nothing.
pub(super) fn apply(tx: &mut Transaction<'_>, job: &ChangeJob) -> rusqlite::Result<ChangeOutcome> {
    let savepoint = tx.savepoint()?;
    let found = savepoint
        .prepare_cached(
            "SELECT room, user_id, deleted_at IS NOT NULL, media_id IS NOT NULL, text FROM messages WHERE id = ?",
        )?
        .query_row([job.id], |row| Ok((row.get::<_, String>(0)?, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?)))
        .optional()?;
    let Some((key, author, deleted, has_media, text)) = found else { return Ok(ChangeOutcome::NoSuchMessage) };
    let conversation = conversation_of_key(&key).map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
    let found = Found { conversation, author, deleted, has_media, text };
    let (may_read, may_post) = rights(&savepoint, &found.conversation, &key, job.by)?;
    if !may_read {
        return Ok(ChangeOutcome::NoSuchMessage);
    }
    let refused = match &job.edit {
        OwnedEdit::Text(_) | OwnedEdit::Delete if found.author != job.by => Some(ChangeOutcome::NotYours),
        OwnedEdit::Text(_) | OwnedEdit::React(_) if found.deleted => Some(ChangeOutcome::Deleted),
        OwnedEdit::Text(text) if text.is_empty() && !found.has_media => Some(ChangeOutcome::EmptyText),
        OwnedEdit::React(_) if !may_post => Some(ChangeOutcome::NotAMember),
        _ => None,
    };
    if let Some(refused) = refused {
        return Ok(refused);
    }
    let unchanged = match &job.edit {
        OwnedEdit::Text(text) => *text == found.text,
        OwnedEdit::Delete => found.deleted,
        OwnedEdit::React(emoji) if !toggle(&savepoint, job, emoji)? => return Ok(ChangeOutcome::TooManyReactions),
        OwnedEdit::React(_) => false,
    };
    if unchanged {
        return Ok(read_message(&savepoint, job.id)?
            .map_or(ChangeOutcome::NoSuchMessage, |message| ChangeOutcome::Unchanged(Box::new(message))));
    }
    let change = next_change(&savepoint, &key)?;
    match &job.edit {
        OwnedEdit::Text(text) => {
            savepoint
                .prepare_cached("UPDATE messages SET text = ?, edited_at = ?, change_seq = ? WHERE id = ?")?
                .execute(rusqlite::params![text, job.at, change, job.id])?;
            // Found by its new words only.
            search::unindex(&savepoint, job.id, &found.text)?;
            search::index(&savepoint, job.id, text)?;
        }
        OwnedEdit::Delete => {
            // Nothing of what it said stays: not its text, not who reacted,
            // not whom it called, not its file (whose bytes the sweep
            // removes once unused).
            savepoint
                .prepare_cached(
                    "UPDATE messages SET text = '', edited_at = NULL, media_id = NULL, deleted_at = ?, change_seq = ?,
                                         mentions = NULL, everyone = NULL
                     WHERE id = ?",
                )?
                .execute(rusqlite::params![job.at, change, job.id])?;
            savepoint.prepare_cached("DELETE FROM reactions WHERE message_id = ?")?.execute([job.id])?;
            savepoint.prepare_cached("DELETE FROM mentioned WHERE message_id = ?")?.execute([job.id])?;
            savepoint.prepare_cached("DELETE FROM uploads WHERE message_id = ?")?.execute([job.id])?;
            search::unindex(&savepoint, job.id, &found.text)?;
        }
        OwnedEdit::React(_) => {
            savepoint
                .prepare_cached("UPDATE messages SET change_seq = ? WHERE id = ?")?
                .execute(rusqlite::params![change, job.id])?;
        }
    }
    let message = read_message(&savepoint, job.id)?;
    savepoint.commit()?;
    Ok(message.map_or(ChangeOutcome::NoSuchMessage, |message| ChangeOutcome::Changed(Box::new(message))))
}

/// Whether `user` may read the conversation, and post in it (which
/// reacting takes): a pair's two parties; anyone in the lobby; a room's
/// members, and readers only of a public room.
fn rights(tx: &Connection, conversation: &ConversationId, key: &str, user: UserId) -> rusqlite::Result<(bool, bool)> {
    Ok(match conversation {
        ConversationId::Pair(a, b) => {
            let party = user == *a || user == *b;
            (party, party)
        }
        ConversationId::Room(name) if name == LOBBY => (true, true),
        ConversationId::Room(_) => {
            let (member, public): (bool, bool) = tx
                .prepare_cached(
                    "SELECT EXISTS (SELECT 1 FROM room_members WHERE room = ?1 AND user_id = ?2),
                            EXISTS (SELECT 1 FROM rooms WHERE name = ?1 AND NOT private)",
                )?
                .query_row(rusqlite::params![key, user], |row| Ok((row.get(0)?, row.get(1)?)))?;
            (member || public, member)
        }
    })
}

/// Adds `job.by`'s reaction `emoji`, or takes it back. Returns false when
/// it would be one emoji too many (nothing changes then).
fn toggle(tx: &Connection, job: &ChangeJob, emoji: &str) -> rusqlite::Result<bool> {
    let removed = tx
        .prepare_cached("DELETE FROM reactions WHERE message_id = ? AND emoji = ? AND user_id = ?")?
        .execute(rusqlite::params![job.id, emoji, job.by])?;
    if removed > 0 {
        return Ok(true);
    }
    let (kinds, present): (i64, bool) = tx
        .prepare_cached(
            "SELECT COUNT(DISTINCT emoji), EXISTS (SELECT 1 FROM reactions WHERE message_id = ?1 AND emoji = ?2)
             FROM reactions WHERE message_id = ?1",
        )?
        .query_row(rusqlite::params![job.id, emoji], |row| Ok((row.get(0)?, row.get(1)?)))?;
    if !present && usize::try_from(kinds).unwrap_or(usize::MAX) >= job.max_reactions {
        return Ok(false);
    }
    tx.prepare_cached("INSERT INTO reactions (message_id, emoji, user_id, created_at) VALUES (?, ?, ?, ?)")?
        .execute(rusqlite::params![job.id, emoji, job.by, job.at])?;
    Ok(true)
}

/// The next change number of the conversation stored under `key`.
fn next_change(tx: &Connection, key: &str) -> rusqlite::Result<i64> {
    tx.prepare_cached("SELECT COALESCE(MAX(change_seq), 0) + 1 FROM messages WHERE room = ? AND change_seq > 0")?
        .query_row([key], |row| row.get(0))
}

/// A thread's root after a new reply at `at`: one reply more, its last
/// now, and the change that says so. Returns the root in its new state.
pub(super) fn new_reply(tx: &Connection, root: i64, key: &str, at: i64) -> rusqlite::Result<Option<Message>> {
    let change = next_change(tx, key)?;
    tx.prepare_cached(
        "UPDATE messages SET thread_replies = thread_replies + 1, thread_last_at = ?, change_seq = ? WHERE id = ?",
    )?
    .execute(rusqlite::params![at, change, root])?;
    read_message(tx, root)
}

/// A message as it stands now, read the way the pool reads it.
pub(super) fn read_message(tx: &Connection, id: i64) -> rusqlite::Result<Option<Message>> {
    tx.prepare_cached(select_messages!("WHERE m.id = ?"))?.query_row([id], message_from_row).optional()
}

fn message_from_row(row: &Row<'_>) -> rusqlite::Result<Message> {
    let key: String = row.get("room")?;
    let conversation = conversation_of_key(&key).map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
    let to = match (row.get::<_, Option<i64>>("to_user_id")?, row.get::<_, Option<String>>("to_name")?) {
        (Some(id), Some(name)) => Some(User { id, name }),
        _ => None,
    };
    let file = match row.get::<_, Option<String>>("media_id")? {
        Some(id) => Some(media(
            id,
            row.get("media_name")?,
            row.get("media_mime")?,
            row.get("media_size")?,
            [row.get("media_width")?, row.get("media_height")?],
        )),
        None => None,
    };
    Ok(Message {
        id: row.get("id")?,
        seq: row.get("seq")?,
        conversation,
        from: User { id: row.get("user_id")?, name: row.get("from_name")? },
        to,
        text: row.get("text")?,
        at: row.get("created_at")?,
        cid: row.get("cid")?,
        media: file,
        reply_to: match row.get::<_, Option<i64>>("quote_id")? {
            Some(id) => Some(Quote {
                id,
                seq: row.get("quote_seq")?,
                from: User { id: row.get("quote_from")?, name: row.get("quote_name")? },
                text: row.get("quote_text")?,
                deleted: row.get("quote_deleted")?,
                media: row.get("quote_media")?,
            }),
            None => None,
        },
        in_thread: in_thread(row.get("thread_root")?, row.get("in_conversation")?),
        revision: Revision {
            thread: thread_summary(row.get("thread_replies")?, row.get("thread_last_at")?),
            ..revision(
                row.get("edited_at")?,
                row.get::<_, Option<i64>>("deleted_at")?.is_some(),
                row.get("change_seq")?,
                row.get("reactions")?,
            )
        },
        mentions: Mentions::from_columns(
            row.get::<_, Option<String>>("mentions")?.as_deref(),
            row.get::<_, Option<String>>("everyone")?.as_deref(),
        ),
    })
}
