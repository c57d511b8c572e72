//! Group commit: one writer thread stores every chat message (and every
//! guest sign-up, a user and its session), many to a transaction. With
//! `synchronous=FULL` a commit costs an fsync, and one commit per message
//! capped durable writes near 1 500/s; now the writes that arrive while a
//! batch is being written go in the next one together.
//!
//! Guarantees are the ones the [`Store`](super::super::Store) contract
//! states: a caller hears back only after the transaction holding its
//! message has committed, and a message is stored once per `(user, cid)`.
//! A write that fails is answered with its error and the rest of its batch
//! is committed without it, so one bad message never costs the others
//! theirs.
//!
//! Nothing waits for a batch to fill: a lone message is committed at once,
//! and batches form only while the writer is busy. The queue is bounded, so
//! under overload senders wait for room instead of piling up memory.
//!
//! Why a thread with rusqlite rather than a task with sqlx: sqlx runs each
//! SQLite connection on a thread of its own and every statement is a round
//! trip to it, two futex wake-ups. Profiles of the sqlx writer showed those
//! hops, not SQLite, as most of the CPU, and they serialised the batch: about
//! 110 µs per message. Here the whole batch is one hop. The rest of the store
//! stays on sqlx, whose pool suits concurrent reads.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior};
use tokio::sync::{mpsc, oneshot};

use super::{CommitObserver, NewGuest, NewMessage, StoreError, StoreResult, StoredMessage};

/// Writes waiting for the writer; a full queue makes senders wait.
const QUEUE: usize = 1024;
/// Writes in one transaction at most, so one commit's latency stays short.
const MAX_BATCH: usize = 256;

/// What the writer did with one message. Rows with a file, and earlier
/// copies of a retry, are read back through the pool by the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Written {
    /// Stored as row `id` with `seq`. A message without a file is
    /// otherwise just what the caller sent.
    Stored {
        id: i64,
        seq: i64,
        with_file: bool,
    },
    /// Row `id` holds the first copy of this `(user, cid)`.
    Duplicate(i64),
    MediaRefused,
    NotAMember,
}

/// What the writer did with one job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Done {
    Message(Written),
    /// The new guest's user id.
    Guest(i64),
}

type Reply = oneshot::Sender<StoreResult<Done>>;

/// One write and who waits for it, owned so it can cross to the thread.
struct Job {
    write: Write,
    reply: Reply,
}

enum Write {
    Message(MessageJob),
    /// A guest and its first session: two rows, one commit. A crowd signing
    /// up at once (a join storm) otherwise costs two commits each.
    Guest(GuestJob),
}

struct GuestJob {
    name: String,
    name_key: String,
    at: i64,
    token_hash: Vec<u8>,
    expires_at: i64,
}

struct MessageJob {
    room: String,
    from: i64,
    to: Option<i64>,
    members_only: bool,
    text: String,
    cid: Option<String>,
    at: i64,
    media: Option<String>,
}

/// The handle the store keeps.
pub(super) struct Writer {
    jobs: mpsc::Sender<Job>,
}

impl Writer {
    /// Opens the writer's connection to the database at `path` (migrated
    /// already) and starts its thread, which ends when the handle is
    /// dropped, after the queue drains.
    pub(super) fn start(path: PathBuf, observer: Option<Arc<dyn CommitObserver>>) -> StoreResult<Writer> {
        let connection = Connection::open(path)?;
        connection.busy_timeout(Duration::from_secs(10))?;
        connection.pragma_update(None, "synchronous", "FULL")?;
        connection.pragma_update(None, "foreign_keys", true)?;
        let (jobs, queue) = mpsc::channel(QUEUE);
        std::thread::Builder::new()
            .name("rtca-db-writer".into())
            .spawn(move || run(connection, queue, observer))
            .map_err(|error| StoreError::Sqlx(sqlx::Error::Io(error)))?;
        Ok(Writer { jobs })
    }

    /// Stores `m` and returns once its transaction has committed.
    pub(super) async fn insert(&self, m: &NewMessage<'_>) -> StoreResult<Written> {
        let message = MessageJob {
            room: m.room.to_owned(),
            from: m.from.id,
            to: m.to.map(|to| to.id),
            members_only: m.members_only,
            text: m.text.to_owned(),
            cid: m.cid.map(str::to_owned),
            at: m.at,
            media: m.media.map(str::to_owned),
        };
        match self.submit(Write::Message(message)).await? {
            Done::Message(written) => Ok(written),
            Done::Guest(_) => Err(StoreError::WriterGone),
        }
    }

    /// Creates a guest with its first session; returns its user id once
    /// committed.
    pub(super) async fn create_guest(&self, g: NewGuest<'_>) -> StoreResult<i64> {
        let guest = GuestJob {
            name: g.name.to_owned(),
            name_key: g.name_key.to_owned(),
            at: g.at,
            token_hash: g.token_hash.to_vec(),
            expires_at: g.expires_at,
        };
        match self.submit(Write::Guest(guest)).await? {
            Done::Guest(id) => Ok(id),
            Done::Message(_) => Err(StoreError::WriterGone),
        }
    }

    async fn submit(&self, write: Write) -> StoreResult<Done> {
        let (reply, answer) = oneshot::channel();
        self.jobs.send(Job { write, reply }).await.map_err(|_| StoreError::WriterGone)?;
        answer.await.map_err(|_| StoreError::WriterGone)?
    }
}

/// The message `m` as stored in row `id` with `seq`, for a message with no
/// file: nothing in it needs reading back.
pub(super) fn stored_without_file(m: &NewMessage<'_>, id: i64, seq: i64) -> StoredMessage {
    StoredMessage {
        id,
        seq,
        room: m.room.to_owned(),
        from: m.from.clone(),
        to: m.to.cloned(),
        text: m.text.to_owned(),
        at: m.at,
        cid: m.cid.map(str::to_owned),
        media: None,
    }
}

fn run(mut connection: Connection, mut queue: mpsc::Receiver<Job>, observer: Option<Arc<dyn CommitObserver>>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = queue.blocking_recv() {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        write_batch(&mut connection, &mut batch, observer.as_deref());
    }
}

/// Commits `batch` and answers every job in it. A job whose own statement
/// fails is answered with that error and the others are committed without
/// it; a failure of the transaction itself (the lock, the disk) fails the
/// whole batch at once rather than job by job, each after its own wait.
fn write_batch(connection: &mut Connection, batch: &mut Vec<Job>, observer: Option<&dyn CommitObserver>) {
    while !batch.is_empty() {
        match commit(connection, batch) {
            Ok(results) => {
                if let Some(observer) = observer {
                    report(observer, batch, &results);
                }
                for (job, result) in batch.drain(..).zip(results) {
                    // The sender may have gone; its message is stored anyway
                    // and a retry with the same cid finds it.
                    let _ = job.reply.send(Ok(result));
                }
            }
            Err(Failed::Job(at, error)) => {
                tracing::warn!(%error, "one write of a batch failed; committing the others without it");
                let job = batch.remove(at);
                let _ = job.reply.send(Err(error.into()));
            }
            Err(Failed::Transaction(error)) => {
                tracing::error!(%error, jobs = batch.len(), "a batch of writes failed");
                let message = error.to_string();
                for job in batch.drain(..) {
                    let _ = job.reply.send(Err(StoreError::Batch(message.clone())));
                }
            }
        }
    }
}

/// Why a batch did not commit.
enum Failed {
    /// The job at this index failed; the transaction was rolled back.
    Job(usize, rusqlite::Error),
    /// Beginning or committing failed: nothing to blame on one job.
    Transaction(rusqlite::Error),
}

/// Stores `jobs` in one transaction: nothing is kept unless all of it
/// commits.
fn commit(connection: &mut Connection, jobs: &[Job]) -> Result<Vec<Done>, Failed> {
    // IMMEDIATE takes the write lock up front (waiting out the busy timeout
    // if a room or upload write holds it); a deferred transaction that reads
    // first could not upgrade later under contention.
    let mut tx = connection.transaction_with_behavior(TransactionBehavior::Immediate).map_err(Failed::Transaction)?;
    let mut results = Vec::with_capacity(jobs.len());
    for (at, job) in jobs.iter().enumerate() {
        let done = match &job.write {
            Write::Message(message) => insert_one(&mut tx, message).map(Done::Message),
            Write::Guest(guest) => insert_guest(&tx, guest).map(Done::Guest),
        };
        results.push(done.map_err(|error| Failed::Job(at, error))?);
    }
    tx.commit().map_err(Failed::Transaction)?;
    Ok(results)
}

/// Tells `observer` which seqs of each conversation a committed batch
/// stored (consecutive within a batch: its lowest and highest).
fn report(observer: &dyn CommitObserver, jobs: &[Job], results: &[Done]) {
    let mut span: HashMap<&str, (i64, i64)> = HashMap::new();
    for (job, result) in jobs.iter().zip(results) {
        if let (Write::Message(message), Done::Message(Written::Stored { seq, .. })) = (&job.write, result) {
            span.entry(message.room.as_str())
                .and_modify(|(first, last)| (*first, *last) = ((*first).min(*seq), (*last).max(*seq)))
                .or_insert((*seq, *seq));
        }
    }
    for (conversation, (first, last)) in span {
        observer.committed(conversation, first, last);
    }
}

/// A guest and its session inside the batch's transaction.
fn insert_guest(tx: &Transaction<'_>, guest: &GuestJob) -> rusqlite::Result<i64> {
    let id: i64 = tx
        .prepare_cached("INSERT INTO users (name, name_key, kind, created_at) VALUES (?, ?, 'guest', ?) RETURNING id")?
        .query_row(rusqlite::params![guest.name, guest.name_key, guest.at], |row| row.get(0))?;
    tx.prepare_cached("INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)")?
        .execute(rusqlite::params![guest.token_hash, id, guest.at, guest.expires_at])?;
    Ok(id)
}

/// One message inside the batch's transaction; a refused one keeps nothing.
fn insert_one(tx: &mut Transaction<'_>, job: &MessageJob) -> rusqlite::Result<Written> {
    // The savepoint lets a refused file undo just this message.
    let savepoint = tx.savepoint()?;
    // MAX(seq) is read under the write lock, so seq numbers stay gapless per
    // room. No row comes back for a non-member or a repeated cid. A file id
    // naming no upload stores NULL, which the link below then refuses.
    let inserted: Option<(i64, i64)> = savepoint
        .prepare_cached(
            "INSERT INTO messages (room, seq, user_id, to_user_id, text, cid, created_at, media_id)
             SELECT ?1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM messages WHERE room = ?1), ?2, ?3, ?4, ?5, ?6,
                    (SELECT id FROM uploads WHERE id = ?7)
             WHERE NOT ?8 OR EXISTS (SELECT 1 FROM room_members WHERE room = ?1 AND user_id = ?2)
             ON CONFLICT (user_id, cid) DO NOTHING
             RETURNING id, seq",
        )?
        .query_row(
            rusqlite::params![job.room, job.from, job.to, job.text, job.cid, job.at, job.media, job.members_only],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?;
    let Some((id, seq)) = inserted else {
        // A unique cid that stored nothing means the membership check failed.
        let Some(cid) = &job.cid else { return Ok(Written::NotAMember) };
        let first: Option<i64> = savepoint
            .prepare_cached("SELECT id FROM messages WHERE user_id = ? AND cid = ?")?
            .query_row(rusqlite::params![job.from, cid], |row| row.get(0))
            .optional()?;
        return Ok(first.map_or(Written::NotAMember, Written::Duplicate));
    };
    let Some(media) = &job.media else {
        savepoint.commit()?;
        return Ok(Written::Stored { id, seq, with_file: false });
    };
    let linked = savepoint
        .prepare_cached("UPDATE uploads SET message_id = ? WHERE id = ? AND owner = ? AND message_id IS NULL")?
        .execute(rusqlite::params![id, media, job.from])?;
    if linked == 0 {
        // Dropping the savepoint rolls this message back.
        return Ok(Written::MediaRefused);
    }
    savepoint.commit()?;
    Ok(Written::Stored { id, seq, with_file: true })
}
