//! Group commit: one writer thread stores every chat message (and every
//! change to one, and every guest sign-up, a user and its session), many
//! to a transaction. With
//! `synchronous=FULL` a commit costs an fsync, and one commit per message
//! capped durable writes near 1 500/s; now the writes that arrive while a
//! batch is being written go in the next one together.
//!
//! Guarantees are the ones the store's contract states (`store/mod.rs`): a
//! caller hears back only after the transaction holding its message has
//! committed; a message is stored once per `(user, cid)`; and each
//! committed batch goes to the [`CommitSink`] whole and in commit order,
//! before its callers hear back. One thread writing means commit order is
//! simply the order batches leave this loop. A write that fails is
//! answered with its error and the rest of its batch is committed without
//! it, so one bad message never costs the others theirs.
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

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior};
use tokio::sync::{mpsc, oneshot};

use super::changes::{self, ChangeJob};
use super::rows::{key_of, media};
use super::search;
use crate::protocol::{ConversationId, InThread, Media, Message, Quote, Revision, User};
use crate::server::metrics;
use crate::server::store::{
    acknowledge, ChangeOutcome, CommitSink, Committed, MessageChange, NewGuest, NewMessage, OnCommit, StoreError,
    StoreResult,
};

/// Writes waiting for the writer; a full queue makes senders wait.
const QUEUE: usize = 1024;
/// Writes in one transaction at most, so one commit's latency stays short.
const MAX_BATCH: usize = 256;

impl From<rusqlite::Error> for StoreError {
    fn from(error: rusqlite::Error) -> StoreError {
        StoreError::backend(error)
    }
}

/// What the writer did with one message. Earlier copies of a retry are
/// read back through the pool by the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Written {
    /// Committed as row `id` with `seq`.
    Stored {
        id: i64,
        seq: i64,
    },
    /// Row `id` holds the first copy of this `(user, cid)`.
    Duplicate(i64),
    MediaRefused,
    NotAMember,
    ReplyRefused,
}

/// What the writer did with one job.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Done {
    Message(Written),
    /// The new guest's user id.
    Guest(i64),
    Change(ChangeOutcome),
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
    /// An edit, a deletion or a reaction: in the same stream as messages,
    /// so that delivery hears of both in commit order.
    Change(ChangeJob),
}

/// What the writer's queue carries. Writes, the common case, travel
/// unboxed: a box would be one more allocation per message.
#[allow(clippy::large_enum_variant)]
enum Command {
    Write(Job),
    /// Write what came before, then stop (the store is closing).
    Stop,
}

struct GuestJob {
    name: String,
    name_key: String,
    name_skeleton: String,
    at: i64,
    token_hash: Vec<u8>,
    expires_at: i64,
}

struct MessageJob {
    /// Where it is stored (`rows::key_of`).
    key: String,
    conversation: ConversationId,
    from: User,
    to: Option<User>,
    members_only: bool,
    text: String,
    cid: Option<String>,
    at: i64,
    media: Option<String>,
    reply_to: Option<i64>,
    thread: Option<InThread>,
    on_commit: Option<OnCommit>,
}

/// The handle the store keeps.
pub(super) struct Writer {
    jobs: mpsc::Sender<Command>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Writer {
    /// Opens the writer's connection to the database at `path` (migrated
    /// already) and starts its thread, which runs until [`Writer::close`]
    /// (or until the handle is dropped), after the queue drains.
    pub(super) fn start(path: PathBuf, sink: Option<Arc<dyn CommitSink>>) -> StoreResult<Writer> {
        let connection = Connection::open(path)?;
        connection.busy_timeout(Duration::from_secs(10))?;
        connection.pragma_update(None, "synchronous", "FULL")?;
        connection.pragma_update(None, "foreign_keys", true)?;
        let (jobs, queue) = mpsc::channel(QUEUE);
        let thread =
            std::thread::Builder::new().name("rtca-db-writer".into()).spawn(move || run(connection, queue, sink))?;
        Ok(Writer { jobs, thread: Mutex::new(Some(thread)) })
    }

    /// Stores `m` and returns once its transaction has committed.
    pub(super) async fn insert(&self, m: NewMessage<'_>) -> StoreResult<Written> {
        let message = MessageJob {
            key: key_of(m.conversation),
            conversation: m.conversation.clone(),
            from: m.from.clone(),
            to: m.to.cloned(),
            members_only: m.members_only,
            text: m.text.to_owned(),
            cid: m.cid.map(str::to_owned),
            at: m.at,
            media: m.media.map(str::to_owned),
            reply_to: m.reply_to,
            thread: m.thread,
            on_commit: m.on_commit,
        };
        match self.submit(Write::Message(message)).await? {
            Done::Message(written) => Ok(written),
            _ => Err(StoreError::Closed),
        }
    }

    /// Changes a message and returns once the change has committed.
    pub(super) async fn change(&self, change: MessageChange<'_>) -> StoreResult<ChangeOutcome> {
        match self.submit(Write::Change(ChangeJob::from(change))).await? {
            Done::Change(outcome) => Ok(outcome),
            _ => Err(StoreError::Closed),
        }
    }

    /// Creates a guest with its first session; returns its user id once
    /// committed.
    pub(super) async fn create_guest(&self, g: NewGuest<'_>) -> StoreResult<i64> {
        let guest = GuestJob {
            name: g.name.to_owned(),
            name_key: g.keys.folded.clone(),
            name_skeleton: g.keys.skeleton.clone(),
            at: g.at,
            token_hash: g.token_hash.to_vec(),
            expires_at: g.expires_at,
        };
        match self.submit(Write::Guest(guest)).await? {
            Done::Guest(id) => Ok(id),
            _ => Err(StoreError::Closed),
        }
    }

    async fn submit(&self, write: Write) -> StoreResult<Done> {
        let (reply, answer) = oneshot::channel();
        self.jobs.send(Command::Write(Job { write, reply })).await.map_err(|_| StoreError::Closed)?;
        answer.await.map_err(|_| StoreError::Closed)?
    }

    /// Writes what is queued, then stops the thread and waits for it.
    pub(super) async fn close(&self) {
        let _ = self.jobs.send(Command::Stop).await;
        let thread = self.thread.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).take();
        if let Some(thread) = thread {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
    }
}

fn run(mut connection: Connection, mut queue: mpsc::Receiver<Command>, sink: Option<Arc<dyn CommitSink>>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    let mut stopping = false;
    while let Some(first) = queue.blocking_recv() {
        let mut next = Some(first);
        while let Some(command) = next.take() {
            match command {
                Command::Write(job) => batch.push(job),
                Command::Stop => stopping = true,
            }
            if batch.len() < MAX_BATCH && !stopping {
                next = queue.try_recv().ok();
            }
        }
        write_batch(&mut connection, &mut batch, sink.as_deref());
        if stopping {
            return;
        }
    }
}

/// Commits `batch` and answers every job in it. A job whose own statement
/// fails is answered with that error and the others are committed without
/// it; a failure of the transaction itself (the lock, the disk) fails the
/// whole batch at once rather than job by job, each after its own wait.
fn write_batch(connection: &mut Connection, batch: &mut Vec<Job>, sink: Option<&dyn CommitSink>) {
    while !batch.is_empty() {
        let started = Instant::now();
        match commit(connection, batch) {
            Ok(results) => {
                let took = started.elapsed();
                let mut committed = Vec::new();
                let mut answers = Vec::with_capacity(batch.len());
                for (job, (done, carried)) in batch.drain(..).zip(results) {
                    match (job.write, &done) {
                        (Write::Message(message), Done::Message(Written::Stored { id, seq })) => {
                            let root = carried.root.clone();
                            committed.push(message.committed(*id, *seq, carried));
                            // The thread's root, after its new reply.
                            if let Some(message) = root {
                                committed.push(Committed { message, changed: true, on_commit: None });
                            }
                        }
                        (Write::Change(change), Done::Change(ChangeOutcome::Changed(message))) => {
                            let message = Message::clone(message);
                            committed.push(Committed { message, changed: true, on_commit: change.on_commit });
                        }
                        _ => {}
                    }
                    answers.push((job.reply, done));
                }
                let changes = committed.iter().filter(|c| c.changed).count();
                metrics::committed(committed.len() - changes, changes, took);
                // Delivery first: the batch is in its queue, in commit order,
                // before any caller wakes up. With nobody to deliver to, the
                // acks still go: every stored message is acked.
                match sink {
                    _ if committed.is_empty() => {}
                    Some(sink) => sink.committed(committed),
                    None => acknowledge(committed),
                }
                for (reply, done) in answers {
                    // The sender may have gone; its message is stored anyway
                    // and a retry with the same cid finds it.
                    let _ = reply.send(Ok(done));
                }
            }
            Err(Failed::Job(at, error)) => {
                tracing::warn!(%error, "one write of a batch failed; committing the others without it");
                let job = batch.remove(at);
                let _ = job.reply.send(Err(error.into()));
            }
            Err(Failed::Transaction(error)) => {
                tracing::error!(%error, jobs = batch.len(), "a batch of writes failed");
                let cause: Arc<dyn std::error::Error + Send + Sync> = Arc::new(error);
                for job in batch.drain(..) {
                    let _ = job.reply.send(Err(StoreError::Batch(Arc::clone(&cause))));
                }
            }
        }
    }
}

impl MessageJob {
    /// The message as committed in row `id` at `seq`, with what it carries.
    fn committed(self, id: i64, seq: i64, carried: Carried) -> Committed {
        let message = Message {
            id,
            seq,
            conversation: self.conversation,
            from: self.from,
            to: self.to,
            text: self.text,
            at: self.at,
            cid: self.cid,
            media: carried.file,
            reply_to: carried.quote,
            in_thread: self.thread,
            revision: Revision::default(),
        };
        Committed { message, changed: false, on_commit: self.on_commit }
    }
}

/// Why a batch did not commit.
enum Failed {
    /// The job at this index failed; the transaction was rolled back.
    Job(usize, rusqlite::Error),
    /// Beginning or committing failed: nothing to blame on one job.
    Transaction(rusqlite::Error),
}

/// What a stored message carries besides what it was sent with, and what
/// it changed.
#[derive(Default)]
struct Carried {
    /// Its file's description.
    file: Option<Media>,
    /// The quote of the message it answers.
    quote: Option<Quote>,
    /// Its thread's root, in its new state.
    root: Option<Message>,
}

/// Stores `jobs` in one transaction: nothing is kept unless all of it
/// commits. Each result comes with what a stored message carries.
fn commit(connection: &mut Connection, jobs: &[Job]) -> Result<Vec<(Done, Carried)>, Failed> {
    // IMMEDIATE takes the write lock up front (waiting out the busy timeout
    // if a room or upload write holds it); a deferred transaction that reads
    // first could not upgrade later under contention.
    let mut tx = connection.transaction_with_behavior(TransactionBehavior::Immediate).map_err(Failed::Transaction)?;
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
        results.push(done.map_err(|error| Failed::Job(at, error))?);
    }
    tx.commit().map_err(Failed::Transaction)?;
    Ok(results)
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
                                   thread_root, in_conversation)
             SELECT ?1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM messages WHERE room = ?1), ?2, ?3, ?4, ?5, ?6,
                    (SELECT id FROM uploads WHERE id = ?7), (SELECT id FROM messages WHERE id = ?9 AND room = ?1),
                    (SELECT id FROM messages WHERE id = ?10 AND room = ?1 AND thread_root IS NULL), ?11
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
                job.thread.is_some_and(|t| t.in_conversation)
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
