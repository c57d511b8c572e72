//! Group commit, for every backend: one writer thread stores every chat
//! message, every change to one, and every guest sign-up (a user and its
//! session), many to a transaction. A durable commit costs an fsync, and
//! one commit per message capped durable writes near 1 500/s on SQLite;
//! here the writes that arrive while a batch is being written go in the
//! next one together.
//!
//! Guarantees are the ones the store's contract states (`store/mod.rs`): a
//! caller hears back only after the transaction holding its write has
//! committed, and each committed batch goes to the [`CommitSink`] whole
//! and in commit order, before its callers hear back. One thread writing
//! means commit order is simply the order batches leave this loop. A
//! write that fails is answered with its error and the rest of its batch
//! is committed without it, so one bad message never costs the others
//! theirs.
//!
//! Nothing waits for a batch to fill: a lone message is committed at once,
//! and batches form only while the writer is busy. The queue is bounded, so
//! under overload senders wait for room instead of piling up memory.
//!
//! What is backend-neutral lives here: the jobs, the queue, the loop, the
//! answers and the sink. How one batch is written is each backend's
//! [`Batches`] (`sqlite::group_commit`, `postgres::writer`). Why a thread:
//! the sink may block (delivery's back-pressure), which must hold up the
//! writer, never the async runtime.

use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Instant;

use tokio::sync::{mpsc, oneshot};

use crate::protocol::{ConversationId, InThread, Media, Mentions, Message, Quote, Revision, User, UserId};
use crate::server::metrics;
use crate::server::store::{
    acknowledge, ChangeOutcome, CommitSink, Committed, Edit, MessageChange, NewGuest, NewMessage, OnCommit, StoreError,
    StoreResult,
};

/// Writes waiting for the writer; a full queue makes senders wait.
const QUEUE: usize = 1024;
/// Writes in one transaction at most, so one commit's latency stays short.
pub(super) const MAX_BATCH: usize = 256;

/// How a backend writes one batch.
pub(super) trait Batches: Send + 'static {
    /// Stores `jobs` in one transaction: nothing is kept unless all of it
    /// commits. Each result comes with what a stored message carries.
    fn commit(&mut self, jobs: &[Job]) -> Result<Vec<(Done, Carried)>, Failed>;
}

/// Why a batch did not commit.
pub(super) enum Failed {
    /// The job at this index failed; the transaction was rolled back.
    Job(usize, StoreError),
    /// Beginning or committing failed: nothing to blame on one job.
    Transaction(Box<dyn std::error::Error + Send + Sync>),
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
pub(super) enum Done {
    Message(Written),
    /// The new guest's user id.
    Guest(i64),
    Change(ChangeOutcome),
}

/// What a stored message carries besides what it was sent with, and what
/// it changed.
#[derive(Default)]
pub(super) struct Carried {
    /// Its file's description.
    pub file: Option<Media>,
    /// The quote of the message it answers.
    pub quote: Option<Quote>,
    /// Its thread's root, in its new state.
    pub root: Option<Message>,
}

type Reply = oneshot::Sender<StoreResult<Done>>;

/// One write and who waits for it, owned so it can cross to the thread.
pub(super) struct Job {
    pub write: Write,
    reply: Reply,
}

pub(super) enum Write {
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

pub(super) struct GuestJob {
    pub name: String,
    pub name_key: String,
    pub name_skeleton: String,
    pub at: i64,
    pub token_hash: Vec<u8>,
    pub expires_at: i64,
}

pub(super) struct MessageJob {
    /// Where it is stored (`columns::key_of`).
    pub key: String,
    pub conversation: ConversationId,
    pub from: User,
    pub to: Option<User>,
    pub members_only: bool,
    pub text: String,
    pub cid: Option<String>,
    pub at: i64,
    pub media: Option<String>,
    pub reply_to: Option<i64>,
    pub thread: Option<InThread>,
    pub mentions: Mentions,
    pub called: Vec<UserId>,
    on_commit: Option<OnCommit>,
}

/// A change, owned so it can cross to the writer's thread.
pub(super) struct ChangeJob {
    pub id: i64,
    pub by: UserId,
    pub edit: OwnedEdit,
    pub at: i64,
    pub max_reactions: usize,
    on_commit: Option<OnCommit>,
}

/// [`Edit`], owned.
pub(super) enum OwnedEdit {
    Text(String),
    Delete,
    React(String),
}

impl From<MessageChange<'_>> for ChangeJob {
    fn from(change: MessageChange<'_>) -> ChangeJob {
        let edit = match change.edit {
            Edit::Text(text) => OwnedEdit::Text(text.to_owned()),
            Edit::Delete => OwnedEdit::Delete,
            Edit::React(emoji) => OwnedEdit::React(emoji.to_owned()),
        };
        ChangeJob {
            id: change.id,
            by: change.by,
            edit,
            at: change.at,
            max_reactions: change.max_reactions,
            on_commit: change.on_commit,
        }
    }
}

/// The handle the store keeps.
pub(super) struct Writer {
    jobs: mpsc::Sender<Command>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Writer {
    /// Starts the writer's thread, which first opens its backend with
    /// `open` (on the thread: a backend may tie its connection to it), and
    /// runs until [`Writer::close`] (or until the handle is dropped), after
    /// the queue drains.
    pub(super) async fn start<B: Batches>(
        open: impl FnOnce() -> StoreResult<B> + Send + 'static,
        sink: Option<Arc<dyn CommitSink>>,
    ) -> StoreResult<Writer> {
        let (jobs, queue) = mpsc::channel(QUEUE);
        let (opened, is_open) = oneshot::channel();
        let thread = std::thread::Builder::new().name("rtca-db-writer".into()).spawn(move || match open() {
            Ok(backend) => {
                let _ = opened.send(Ok(()));
                run(backend, queue, sink);
            }
            Err(error) => {
                let _ = opened.send(Err(error));
            }
        })?;
        is_open.await.map_err(|_| StoreError::Closed)??;
        Ok(Writer { jobs, thread: Mutex::new(Some(thread)) })
    }

    /// Stores `m` and returns once its transaction has committed.
    pub(super) async fn insert(&self, m: NewMessage<'_>) -> StoreResult<Written> {
        let message = MessageJob {
            key: super::columns::key_of(m.conversation),
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
            mentions: m.mentions,
            called: m.called,
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

fn run<B: Batches>(mut backend: B, mut queue: mpsc::Receiver<Command>, sink: Option<Arc<dyn CommitSink>>) {
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
        write_batch(&mut backend, &mut batch, sink.as_deref());
        if stopping {
            return;
        }
    }
}

/// Commits `batch` and answers every job in it. A job whose own statement
/// fails is answered with that error and the others are committed without
/// it; a failure of the transaction itself (the lock, the disk) fails the
/// whole batch at once rather than job by job, each after its own wait.
fn write_batch(backend: &mut impl Batches, batch: &mut Vec<Job>, sink: Option<&dyn CommitSink>) {
    while !batch.is_empty() {
        let started = Instant::now();
        match backend.commit(batch) {
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
                tracing::warn!(?error, "one write of a batch failed; committing the others without it");
                let job = batch.remove(at);
                let _ = job.reply.send(Err(error));
            }
            Err(Failed::Transaction(error)) => {
                tracing::error!(%error, jobs = batch.len(), "a batch of writes failed");
                let cause: Arc<dyn std::error::Error + Send + Sync> = Arc::from(error);
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
            mentions: self.mentions,
        };
        Committed { message, changed: false, on_commit: self.on_commit }
    }
}
