//! SQLite's side of group commit (`store::writer`): how one batch of
//! messages, changes and guest sign-ups is written, on the writer thread's
//! own rusqlite connection, in one IMMEDIATE transaction with
//! `synchronous=FULL`.
//!
//! Why rusqlite rather than sqlx here: sqlx runs each SQLite connection on
//! a thread of its own and every statement is a round trip to it, two
//! futex wake-ups. Profiles of the sqlx writer showed those hops, not
//! SQLite, as most of the CPU, and they serialised the batch: about 110 µs
//! per message. Here the whole batch is one hop. The rest of the store
//! stays on sqlx, whose pool suits concurrent reads.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior};

use super::changes;
use super::search;
use crate::server::store::columns::media;
use crate::server::store::writer::{Batches, Carried, Done, Failed, GuestJob, Job, MessageJob, Write, Written};
use crate::server::store::StoreError;

impl From<rusqlite::Error> for StoreError {
    fn from(error: rusqlite::Error) -> StoreError {
        StoreError::backend(error)
    }
}

/// The writer thread's connection.
pub(super) struct SqliteBatches {
    connection: Connection,
}

impl SqliteBatches {
    /// Opens the writer's connection to the database at `path` (migrated
    /// already).
    pub(super) fn open(path: &Path) -> rusqlite::Result<SqliteBatches> {
        let connection = Connection::open(path)?;
        connection.busy_timeout(Duration::from_secs(10))?;
        connection.pragma_update(None, "synchronous", "FULL")?;
        connection.pragma_update(None, "foreign_keys", true)?;
        Ok(SqliteBatches { connection })
    }
}

impl Batches for SqliteBatches {
    fn commit(&mut self, jobs: &[Job]) -> Result<Vec<(Done, Carried)>, Failed> {
        let failed = |error: rusqlite::Error| Failed::Transaction(Box::new(error));
        // IMMEDIATE takes the write lock up front (waiting out the busy
        // timeout if a room or upload write holds it); a deferred
        // transaction that reads first could not upgrade later under
        // contention.
        let mut tx = self.connection.transaction_with_behavior(TransactionBehavior::Immediate).map_err(failed)?;
        let mut results = Vec::with_capacity(jobs.len());
        for (at, job) in jobs.iter().enumerate() {
            let done = match &job.write {
                Write::Message(message) => {
                    insert_one(&mut tx, message).map(|(written, file)| (Done::Message(written), file))
                }
                Write::Guest(guest) => insert_guest(&tx, guest).map(|id| (Done::Guest(id), Carried::default())),
                Write::Change(change) => {
                    changes::apply(&mut tx, change).map(|outcome| (Done::Change(outcome), Carried::default()))
                }
            };
            results.push(done.map_err(|error| Failed::Job(at, error.into()))?);
        }
        tx.commit().map_err(failed)?;
        Ok(results)
    }
}

/// A guest and its session inside the batch's transaction.
fn insert_guest(tx: &Transaction<'_>, guest: &GuestJob) -> rusqlite::Result<i64> {
    let id: i64 = tx
        .prepare_cached(
            "INSERT INTO users (name, name_key, name_skeleton, kind, created_at) VALUES (?, ?, ?, 'guest', ?) RETURNING id",
        )?
        .query_row(rusqlite::params![guest.name, guest.name_key, guest.name_skeleton, guest.at], |row| row.get(0))?;
    tx.prepare_cached("INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)")?
        .execute(rusqlite::params![guest.token_hash, id, guest.at, guest.expires_at])?;
    Ok(id)
}

/// Who message `id` called, counted for each of them; an id that names
/// nobody (a guest swept since) is skipped.
fn called(tx: &Connection, job: &MessageJob, id: i64, seq: i64) -> rusqlite::Result<()> {
    let mut insert = tx.prepare_cached(
        "INSERT INTO mentioned (user_id, room, seq, message_id) SELECT ?1, ?2, ?3, ?4
         WHERE EXISTS (SELECT 1 FROM users WHERE id = ?1) ON CONFLICT DO NOTHING",
    )?;
    for user in &job.called {
        insert.execute(rusqlite::params![user, job.key, seq, id])?;
    }
    Ok(())
}

/// One message inside the batch's transaction; a refused one keeps nothing.
fn insert_one(tx: &mut Transaction<'_>, job: &MessageJob) -> rusqlite::Result<(Written, Carried)> {
    // The savepoint lets a refused file undo just this message.
    let savepoint = tx.savepoint()?;
    // SQLITE-ONLY: `seq` is MAX(seq) + 1, read under SQLite's one write lock,
    // which keeps it gapless per conversation. PostgreSQL's writers run
    // concurrently: it needs a counter row per conversation, updated in the
    // insert's transaction. No row comes back for a non-member or a
    // repeated cid. A file id naming no upload stores NULL, which the link
    // below then refuses; so does a reply to no message of this
    // conversation, or in a thread whose root is none (or is a reply).
    let inserted: Option<(i64, i64, Option<i64>, Option<i64>)> = savepoint
        .prepare_cached(
            "INSERT INTO messages (room, seq, user_id, to_user_id, text, cid, created_at, media_id, reply_to,
                                   thread_root, in_conversation, mentions, everyone)
             SELECT ?1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM messages WHERE room = ?1), ?2, ?3, ?4, ?5, ?6,
                    (SELECT id FROM uploads WHERE id = ?7), (SELECT id FROM messages WHERE id = ?9 AND room = ?1),
                    (SELECT id FROM messages WHERE id = ?10 AND room = ?1 AND thread_root IS NULL), ?11, ?12, ?13
             WHERE NOT ?8 OR EXISTS (SELECT 1 FROM room_members WHERE room = ?1 AND user_id = ?2)
             ON CONFLICT (user_id, cid) DO NOTHING
             RETURNING id, seq, reply_to, thread_root",
        )?
        .query_row(
            rusqlite::params![
                job.key,
                job.from.id,
                job.to.as_ref().map(|to| to.id),
                job.text,
                job.cid,
                job.at,
                job.media,
                job.members_only,
                job.reply_to,
                job.thread.map(|t| t.root),
                job.thread.is_some_and(|t| t.in_conversation),
                job.mentions.users_column(),
                job.mentions.everyone_column()
            ],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)),
        )
        .optional()?;
    let Some((id, seq, answered, root)) = inserted else {
        // A unique cid that stored nothing means the membership check failed.
        let Some(cid) = &job.cid else { return Ok((Written::NotAMember, Carried::default())) };
        let first: Option<i64> = savepoint
            .prepare_cached("SELECT id FROM messages WHERE user_id = ? AND cid = ?")?
            .query_row(rusqlite::params![job.from.id, cid], |row| row.get(0))
            .optional()?;
        return Ok((first.map_or(Written::NotAMember, Written::Duplicate), Carried::default()));
    };
    if (job.reply_to.is_some() && answered.is_none()) || (job.thread.is_some() && root.is_none()) {
        // Dropping the savepoint rolls this message back.
        return Ok((Written::ReplyRefused, Carried::default()));
    }
    // Findable from this commit on; rolled back with it if it is refused.
    search::index(&savepoint, id, &job.text)?;
    called(&savepoint, job, id, seq)?;
    let quote = match answered {
        Some(_) => changes::read_message(&savepoint, id)?.and_then(|message| message.reply_to),
        None => None,
    };
    let root = match root {
        Some(root) => changes::new_reply(&savepoint, root, &job.key, job.at)?,
        None => None,
    };
    let Some(file) = &job.media else {
        savepoint.commit()?;
        return Ok((Written::Stored { id, seq }, Carried { file: None, quote, root }));
    };
    let linked = savepoint
        .prepare_cached("UPDATE uploads SET message_id = ? WHERE id = ? AND owner = ? AND message_id IS NULL")?
        .execute(rusqlite::params![id, file, job.from.id])?;
    if linked == 0 {
        // Dropping the savepoint rolls this message back.
        return Ok((Written::MediaRefused, Carried::default()));
    }
    // The file's description goes out with the message.
    let described = savepoint
        .prepare_cached(
            "SELECT u.id, u.name, u.mime, b.size, b.width, b.height
             FROM uploads u JOIN media_blobs b ON b.sha256 = u.sha256 WHERE u.id = ?",
        )?
        .query_row([file], |row| {
            Ok(media(row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?, [row.get(4)?, row.get(5)?]))
        })?;
    savepoint.commit()?;
    Ok((Written::Stored { id, seq }, Carried { file: Some(described), quote, root }))
}
