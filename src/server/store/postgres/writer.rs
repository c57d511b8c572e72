//! PostgreSQL's side of group commit (`store::writer`): how one batch of
//! messages, changes and guest sign-ups is written, in one transaction on
//! the writer's own connection.
//!
//! The writer is a thread (the sink may block it); sqlx is async, so the
//! thread drives its connection with a runtime of its own, one batch at a
//! time. A batch that meets another node's writer in a deadlock, or a
//! serialisation failure, is written again whole; a connection that
//! broke (the server restarted) is opened again for the next batch.

use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{ConnectOptions, Connection};

use super::changes::{self, read_message};
use super::search;
use crate::server::store::columns::media;
use crate::server::store::writer::{Batches, Carried, Done, Failed, GuestJob, Job, MessageJob, Write, Written};
use crate::server::store::{StoreError, StoreResult};

/// How often a batch is tried again after a deadlock or a serialisation
/// failure before its writes are answered with the error.
const CONTENTION_RETRIES: usize = 3;

/// The writer thread's runtime and connection.
pub(super) struct PgBatches {
    runtime: tokio::runtime::Runtime,
    options: PgConnectOptions,
    connection: Option<PgConnection>,
}

impl PgBatches {
    /// Connects (called on the writer's thread).
    pub(super) fn open(options: PgConnectOptions) -> StoreResult<PgBatches> {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let connection = runtime.block_on(options.connect())?;
        Ok(PgBatches { runtime, options, connection: Some(connection) })
    }
}

/// Why a batch did not commit, with the index of the job to blame if any.
type Blamed = (Option<usize>, StoreError);

impl Batches for PgBatches {
    fn commit(&mut self, jobs: &[Job]) -> Result<Vec<(Done, Carried)>, Failed> {
        let PgBatches { runtime, options, connection } = self;
        let mut tries = 0;
        loop {
            let result = runtime.block_on(async {
                if connection.is_none() {
                    *connection = Some(options.connect().await.map_err(|e| (None, e.into()))?);
                }
                let Some(open) = connection.as_mut() else { return Err((None, StoreError::Closed)) };
                commit(open, jobs).await
            });
            match result {
                Ok(results) => return Ok(results),
                Err((_, error)) if tries < CONTENTION_RETRIES && contended(&error) => tries += 1,
                Err((blamed, error)) => {
                    if broken(&error) {
                        // Opened again before the next batch.
                        *connection = None;
                    }
                    return Err(match blamed {
                        Some(at) => Failed::Job(at, error),
                        None => Failed::Transaction(Box::new(error)),
                    });
                }
            }
        }
    }
}

/// The database error behind a store error, if any.
fn database_code(error: &StoreError) -> Option<String> {
    let StoreError::Backend(cause) = error else { return None };
    let sqlx = cause.downcast_ref::<sqlx::Error>()?;
    Some(sqlx.as_database_error()?.code()?.into_owned())
}

/// A deadlock or a serialisation failure: trying again may well pass.
fn contended(error: &StoreError) -> bool {
    matches!(database_code(error).as_deref(), Some("40P01" | "40001"))
}

/// The connection itself failed: it must be opened again.
fn broken(error: &StoreError) -> bool {
    let StoreError::Backend(cause) = error else { return false };
    matches!(cause.downcast_ref::<sqlx::Error>(), Some(sqlx::Error::Io(_) | sqlx::Error::Protocol(_)))
}

async fn commit(connection: &mut PgConnection, jobs: &[Job]) -> Result<Vec<(Done, Carried)>, Blamed> {
    let mut tx = connection.begin().await.map_err(|e| (None, e.into()))?;
    let mut results = Vec::with_capacity(jobs.len());
    for (at, job) in jobs.iter().enumerate() {
        let done = match &job.write {
            Write::Message(message) => {
                insert_one(&mut tx, message).await.map(|(written, carried)| (Done::Message(written), carried))
            }
            Write::Guest(guest) => insert_guest(&mut tx, guest).await.map(|id| (Done::Guest(id), Carried::default())),
            Write::Change(change) => {
                changes::apply(&mut tx, change).await.map(|outcome| (Done::Change(outcome), Carried::default()))
            }
        };
        results.push(done.map_err(|error| (Some(at), error))?);
    }
    tx.commit().await.map_err(|e| (None, e.into()))?;
    Ok(results)
}

/// A guest and its session inside the batch's transaction.
async fn insert_guest(tx: &mut PgConnection, guest: &GuestJob) -> StoreResult<i64> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO users (name, name_key, name_skeleton, kind, created_at) VALUES ($1, $2, $3, 'guest', $4)
         RETURNING id",
    )
    .bind(&guest.name)
    .bind(&guest.name_key)
    .bind(&guest.name_skeleton)
    .bind(guest.at)
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query("INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
        .bind(&guest.token_hash)
        .bind(id)
        .bind(guest.at)
        .bind(guest.expires_at)
        .execute(&mut *tx)
        .await?;
    Ok(id)
}

/// One message inside the batch's transaction; a refused one keeps nothing.
async fn insert_one(tx: &mut PgConnection, job: &MessageJob) -> StoreResult<(Written, Carried)> {
    // The savepoint lets a refusal undo just this message (the counter's
    // bump included). Dropped uncommitted, it rolls back.
    let mut savepoint = tx.begin().await?;
    // The next `seq` is the conversation's counter row, bumped: its lock
    // holds any other writer of this conversation until this commits. No
    // row comes back for a non-member or a repeated cid. A file id naming
    // no upload stores NULL, which the link below then refuses; so does a
    // reply to no message of this conversation, or in a thread whose root
    // is none (or is a reply).
    let inserted: Option<(i64, i64, Option<i64>, Option<i64>)> = sqlx::query_as(
        "WITH next AS (
             INSERT INTO conversations (room, last_seq) VALUES ($1, 1)
             ON CONFLICT (room) DO UPDATE SET last_seq = conversations.last_seq + 1
             RETURNING last_seq)
         INSERT INTO messages (room, seq, user_id, to_user_id, text, cid, created_at, media_id, reply_to,
                               thread_root, in_conversation, search)
         SELECT $1, next.last_seq, $2, $3, $4, $5, $6,
                (SELECT id FROM uploads WHERE id = $7), (SELECT id FROM messages WHERE id = $9 AND room = $1),
                (SELECT id FROM messages WHERE id = $10 AND room = $1 AND thread_root IS NULL), $11,
                to_tsvector('simple', $12)
         FROM next
         WHERE NOT $8 OR EXISTS (SELECT 1 FROM room_members WHERE room = $1 AND user_id = $2)
         ON CONFLICT (user_id, cid) DO NOTHING
         RETURNING id, seq, reply_to, thread_root",
    )
    .bind(&job.key)
    .bind(job.from.id)
    .bind(job.to.as_ref().map(|to| to.id))
    .bind(&job.text)
    .bind(job.cid.as_deref())
    .bind(job.at)
    .bind(job.media.as_deref())
    .bind(job.members_only)
    .bind(job.reply_to)
    .bind(job.thread.map(|t| t.root))
    .bind(job.thread.is_some_and(|t| t.in_conversation))
    .bind(search::body(&job.text))
    .fetch_optional(&mut *savepoint)
    .await?;
    let Some((id, seq, answered, root)) = inserted else {
        savepoint.rollback().await?;
        // A unique cid that stored nothing means the membership check failed.
        let Some(cid) = &job.cid else { return Ok((Written::NotAMember, Carried::default())) };
        let first: Option<i64> = sqlx::query_scalar("SELECT id FROM messages WHERE user_id = $1 AND cid = $2")
            .bind(job.from.id)
            .bind(cid)
            .fetch_optional(&mut *tx)
            .await?;
        return Ok((first.map_or(Written::NotAMember, Written::Duplicate), Carried::default()));
    };
    if (job.reply_to.is_some() && answered.is_none()) || (job.thread.is_some() && root.is_none()) {
        savepoint.rollback().await?;
        return Ok((Written::ReplyRefused, Carried::default()));
    }
    let quote = match answered {
        Some(_) => read_message(&mut savepoint, id).await?.and_then(|message| message.reply_to),
        None => None,
    };
    let root = match root {
        Some(root) => changes::new_reply(&mut savepoint, root, &job.key, job.at).await?,
        None => None,
    };
    let Some(file) = &job.media else {
        savepoint.commit().await?;
        return Ok((Written::Stored { id, seq }, Carried { file: None, quote, root }));
    };
    let linked = sqlx::query("UPDATE uploads SET message_id = $1 WHERE id = $2 AND owner = $3 AND message_id IS NULL")
        .bind(id)
        .bind(file)
        .bind(job.from.id)
        .execute(&mut *savepoint)
        .await?;
    if linked.rows_affected() == 0 {
        savepoint.rollback().await?;
        return Ok((Written::MediaRefused, Carried::default()));
    }
    // The file's description goes out with the message.
    let (media_id, name, mime, size, width, height): (String, String, String, i64, Option<i64>, Option<i64>) =
        sqlx::query_as(
            "SELECT u.id, u.name, u.mime, b.size, b.width, b.height
             FROM uploads u JOIN media_blobs b ON b.sha256 = u.sha256 WHERE u.id = $1",
        )
        .bind(file)
        .fetch_one(&mut *savepoint)
        .await?;
    savepoint.commit().await?;
    let file = media(media_id, name, mime, size, [width, height]);
    Ok((Written::Stored { id, seq }, Carried { file: Some(file), quote, root }))
}
