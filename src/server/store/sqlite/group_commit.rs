//! Group commit: one writer task stores every chat message, many to a
//! transaction. With `synchronous=FULL` a commit costs an fsync, and one
//! fsync per message capped durable writes near 1 500/s; now the messages
//! that arrive while a commit is on disk go in the next one together.
//!
//! Guarantees are the ones the [`Store`](super::super::Store) contract
//! states: a caller hears back only after the transaction holding its
//! message has committed, and a message is stored once per `(user, cid)`.
//! A batch that fails is rolled back and its messages are tried again one
//! transaction each, so one bad message never costs the others theirs.
//!
//! Nothing waits for a batch to fill: a lone message is committed at once,
//! and batches form only while the disk is busy. The queue is bounded, so
//! under overload senders wait for room instead of piling up memory.

use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::Connection;
use tokio::sync::{mpsc, oneshot};

use super::{message_from_row, Inserted, NewMessage, StoreError, StoreResult};

/// Messages waiting for the writer; a full queue makes senders wait.
const QUEUE: usize = 1024;
/// Messages in one transaction at most, so one commit's latency stays short.
const MAX_BATCH: usize = 256;

type Reply = oneshot::Sender<StoreResult<Option<Inserted>>>;

/// A message to store, owned so it can cross to the writer task.
struct Job {
    room: String,
    from: i64,
    to: Option<i64>,
    text: String,
    cid: Option<String>,
    at: i64,
    media: Option<String>,
    reply: Reply,
}

/// The handle the store keeps; cloning it is cheap.
#[derive(Clone)]
pub(super) struct MessageWriter {
    jobs: mpsc::Sender<Job>,
}

impl MessageWriter {
    /// Opens the writer's own connection and starts its task. The task ends
    /// when the last handle is dropped, after the queue drains.
    pub(super) async fn start(options: &SqliteConnectOptions) -> StoreResult<MessageWriter> {
        let connection = SqliteConnection::connect_with(options).await?;
        let (jobs, queue) = mpsc::channel(QUEUE);
        tokio::spawn(run(connection, queue));
        Ok(MessageWriter { jobs })
    }

    /// Stores `m` and returns once its transaction has committed.
    pub(super) async fn insert(&self, m: NewMessage<'_>) -> StoreResult<Option<Inserted>> {
        let (reply, answer) = oneshot::channel();
        let job = Job {
            room: m.room.to_owned(),
            from: m.from,
            to: m.to,
            text: m.text.to_owned(),
            cid: m.cid.map(str::to_owned),
            at: m.at,
            media: m.media.map(str::to_owned),
            reply,
        };
        self.jobs.send(job).await.map_err(|_| writer_gone())?;
        answer.await.map_err(|_| writer_gone())?
    }
}

fn writer_gone() -> StoreError {
    StoreError(sqlx::Error::PoolClosed)
}

async fn run(mut connection: SqliteConnection, mut queue: mpsc::Receiver<Job>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        match commit(&mut connection, &batch).await {
            Ok(results) => {
                for (job, result) in batch.drain(..).zip(results) {
                    // The sender may have gone; its message is stored anyway
                    // and a retry with the same cid finds it.
                    let _ = job.reply.send(Ok(result));
                }
            }
            Err(error) if batch.len() == 1 => {
                if let Some(job) = batch.pop() {
                    let _ = job.reply.send(Err(error));
                }
            }
            Err(error) => {
                tracing::warn!(%error, messages = batch.len(), "group commit failed; storing its messages one by one");
                for job in batch.drain(..) {
                    let result = commit(&mut connection, std::slice::from_ref(&job)).await;
                    let _ = job.reply.send(result.map(|mut one| one.pop().flatten()));
                }
            }
        }
    }
    if let Err(error) = connection.close().await {
        tracing::warn!(%error, "closing the message writer's connection");
    }
}

/// Stores `jobs` in one transaction. Nothing is kept unless all of it
/// commits; an error leaves the connection outside any transaction.
async fn commit(connection: &mut SqliteConnection, jobs: &[Job]) -> StoreResult<Vec<Option<Inserted>>> {
    // IMMEDIATE takes the write lock up front (waiting out the busy timeout
    // if a room or upload write holds it); a deferred transaction that reads
    // first could not upgrade later under contention.
    let mut tx = connection.begin_with("BEGIN IMMEDIATE").await?;
    let mut results = Vec::with_capacity(jobs.len());
    for job in jobs {
        results.push(insert_one(&mut tx, job).await?);
    }
    tx.commit().await?;
    Ok(results)
}

/// One message inside the batch's transaction. `None` when it names a file
/// the sender may not attach; nothing of it is then kept.
async fn insert_one(tx: &mut SqliteConnection, job: &Job) -> Result<Option<Inserted>, StoreError> {
    // The savepoint lets a refused file undo just this message; messages
    // without a file cannot be refused and skip its two round trips.
    if job.media.is_some() {
        sqlx::query("SAVEPOINT message").execute(&mut *tx).await?;
    }
    // One statement: MAX(seq) is read under the write lock, so seq numbers
    // stay gapless per room. A file id naming no upload stores NULL, which
    // the link below then refuses.
    let inserted: Option<i64> = sqlx::query_scalar(
        "INSERT INTO messages (room, seq, user_id, to_user_id, text, cid, created_at, media_id)
         VALUES (?1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM messages WHERE room = ?1), ?2, ?3, ?4, ?5, ?6,
                 (SELECT id FROM uploads WHERE id = ?7))
         ON CONFLICT (user_id, cid) DO NOTHING
         RETURNING id",
    )
    .bind(&job.room)
    .bind(job.from)
    .bind(job.to)
    .bind(&job.text)
    .bind(&job.cid)
    .bind(job.at)
    .bind(&job.media)
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(media) = &job.media {
        if let Some(id) = inserted {
            let linked =
                sqlx::query("UPDATE uploads SET message_id = ? WHERE id = ? AND owner = ? AND message_id IS NULL")
                    .bind(id)
                    .bind(media)
                    .bind(job.from)
                    .execute(&mut *tx)
                    .await?;
            if linked.rows_affected() == 0 {
                sqlx::query("ROLLBACK TO message").execute(&mut *tx).await?;
                sqlx::query("RELEASE message").execute(&mut *tx).await?;
                return Ok(None);
            }
        }
        sqlx::query("RELEASE message").execute(&mut *tx).await?;
    }
    let row = match inserted {
        Some(id) => sqlx::query(select_messages!("WHERE m.id = ?")).bind(id).fetch_one(&mut *tx).await?,
        None => {
            sqlx::query(select_messages!("WHERE m.user_id = ? AND m.cid = ?"))
                .bind(job.from)
                .bind(&job.cid)
                .fetch_one(&mut *tx)
                .await?
        }
    };
    Ok(Some(Inserted { message: message_from_row(&row)?, duplicate: inserted.is_none() }))
}
