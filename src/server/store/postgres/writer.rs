//! PostgreSQL's side of group commit (`store::writer`): how one batch of
//! messages, changes and guest sign-ups is written, in one transaction on
//! the writer's own connection.
//!
//! The writer is a thread (the sink may block it); sqlx is async, so the
//! thread drives its connection with a runtime of its own, one batch at a
//! time. A batch that meets another node's writer in a deadlock, a
//! serialisation failure or a race for one cid or one file is written
//! again whole; a connection that broke (the server restarted) is opened
//! again for the next batch. A batch that cannot be written within
//! [`UNREACHABLE_AFTER`] (the database is out of reach) fails, so its
//! senders are answered `unavailable` rather than left waiting; the
//! connection is opened again for the next.

use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{ConnectOptions, Connection};

use super::changes::{self, read_message};
use super::search;
use crate::server::store::columns::media;
use crate::server::store::writer::{Batches, Carried, Done, Failed, GuestJob, Job, MessageJob, Write, Written};
use crate::server::store::{StoreError, StoreResult};

/// How long a batch, or opening the connection, may take before the
/// database counts as out of reach.
pub(super) const UNREACHABLE_AFTER: std::time::Duration = std::time::Duration::from_secs(5);

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
                let written = tokio::time::timeout(UNREACHABLE_AFTER, async {
                    if connection.is_none() {
                        *connection = Some(options.connect().await.map_err(|e| (None, e.into()))?);
                    }
                    let Some(open) = connection.as_mut() else { return Err((None, StoreError::Closed)) };
                    commit(open, jobs).await
                })
                .await;
                // Cut short mid-transaction, the connection is of no more
                // use: it is opened again.
                written.unwrap_or_else(|_| {
                    let late = std::io::Error::new(std::io::ErrorKind::TimedOut, "the database did not answer in time");
                    Err((None, StoreError::backend(sqlx::Error::Io(late))))
                })
            });
            match result {
                Ok(results) => return Ok(results),
                Err((_, error)) if tries < CONTENTION_RETRIES && contended(&error) => tries += 1,
                Err((blamed, error)) => {
                    if error.is_unreachable() {
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

/// A deadlock, a serialisation failure, or another node's write in
/// between: trying again may well pass.
fn contended(error: &StoreError) -> bool {
    if let StoreError::Backend(cause) = error {
        if cause.is::<Raced>() {
            return true;
        }
    }
    matches!(database_code(error).as_deref(), Some("40P01" | "40001"))
}

async fn commit(connection: &mut PgConnection, jobs: &[Job]) -> Result<Vec<(Done, Carried)>, Blamed> {
    let mut tx = connection.begin().await.map_err(|e| (None, e.into()))?;
    lock_counters(&mut tx, jobs).await.map_err(|error| (None, error))?;
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

/// Locks the counter row of every conversation the batch writes to (made
/// if missing), in one order every node uses: by key. Two nodes' batches
/// that touch the same conversations then queue behind each other, rather
/// than each holding a row the other waits for (a deadlock PostgreSQL
/// breaks only after `deadlock_timeout`, a second by default). A change
/// locks its message too (`changes::apply`), and a reply the message it
/// answers: both in the conversation whose counter is locked first.
async fn lock_counters(tx: &mut PgConnection, jobs: &[Job]) -> StoreResult<()> {
    let mut keys: Vec<String> = Vec::new();
    let mut changed: Vec<i64> = Vec::new();
    for job in jobs {
        match &job.write {
            Write::Message(message) => keys.push(message.key.clone()),
            Write::Change(change) => changed.push(change.id),
            Write::Guest(_) => {}
        }
    }
    if !changed.is_empty() {
        let rooms: Vec<String> = sqlx::query_scalar("SELECT DISTINCT room FROM messages WHERE id = ANY($1)")
            .bind(&changed)
            .fetch_all(&mut *tx)
            .await?;
        keys.extend(rooms);
    }
    if keys.is_empty() {
        return Ok(());
    }
    keys.sort_unstable();
    keys.dedup();
    sqlx::query("INSERT INTO conversations (room) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING")
        .bind(&keys)
        .execute(&mut *tx)
        .await?;
    sqlx::query("SELECT 1 FROM conversations WHERE room = ANY($1) ORDER BY room FOR UPDATE")
        .bind(&keys)
        .execute(&mut *tx)
        .await?;
    Ok(())
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

/// Another node's writer got in between this batch's check and its write
/// (the same cid, or the same file, at once): the batch is written again,
/// and then sees what the other one committed.
#[derive(Debug, thiserror::Error)]
#[error("another node's write raced this one")]
struct Raced;

/// One message inside the batch's transaction; a refused one keeps nothing.
///
/// One statement does the common case, a round trip per message: it checks
/// everything that could refuse the message (membership, a repeated cid,
/// what it answers, its file), bumps the conversation's counter row for
/// the next `seq` only if nothing does (its lock holds any other writer of
/// this conversation until this transaction ends), and inserts. What a
/// refused message was refused for is read afterwards, on that rare path.
async fn insert_one(tx: &mut PgConnection, job: &MessageJob) -> StoreResult<(Written, Carried)> {
    let row: (bool, Option<i64>, Option<i64>) = sqlx::query_as(
        "WITH allowed AS (
             SELECT 1 WHERE (NOT $8 OR EXISTS (SELECT 1 FROM room_members WHERE room = $1 AND user_id = $2))
                 AND ($5::text IS NULL OR NOT EXISTS (SELECT 1 FROM messages WHERE user_id = $2 AND cid = $5))
                 AND ($9::bigint IS NULL OR EXISTS (SELECT 1 FROM messages WHERE id = $9 AND room = $1))
                 AND ($10::bigint IS NULL
                      OR EXISTS (SELECT 1 FROM messages WHERE id = $10 AND room = $1 AND thread_root IS NULL))
                 AND ($7::text IS NULL
                      OR EXISTS (SELECT 1 FROM uploads WHERE id = $7 AND owner = $2 AND message_id IS NULL))),
         next AS (
             INSERT INTO conversations (room, last_seq) SELECT $1, 1 FROM allowed
             ON CONFLICT (room) DO UPDATE SET last_seq = conversations.last_seq + 1
             RETURNING last_seq),
         inserted AS (
             INSERT INTO messages (room, seq, user_id, to_user_id, text, cid, created_at, media_id, reply_to,
                                   thread_root, in_conversation, search, mentions, everyone)
             SELECT $1, next.last_seq, $2, $3, $4, $5, $6, $7, $9, $10, $11, to_tsvector('simple', $12), $13, $14
             FROM next
             ON CONFLICT (user_id, cid) DO NOTHING
             RETURNING id, seq)
         SELECT EXISTS (SELECT 1 FROM next), (SELECT id FROM inserted), (SELECT seq FROM inserted)",
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
    .bind(job.mentions.users_column())
    .bind(job.mentions.everyone_column())
    .fetch_one(&mut *tx)
    .await?;
    let (id, seq) = match row {
        (_, Some(id), Some(seq)) => (id, seq),
        // Numbered, yet not stored: the same cid committed meanwhile by
        // another node. The number must not be lost: write again.
        (true, _, _) => return Err(StoreError::backend(Raced)),
        (false, _, _) => return Ok((refusal(tx, job).await?, Carried::default())),
    };
    if !job.called.is_empty() {
        // Ids that name nobody (a guest swept since) are skipped.
        sqlx::query(
            "INSERT INTO mentioned (user_id, room, seq, message_id)
             SELECT id, $2, $3, $4 FROM users WHERE id = ANY($1) ON CONFLICT DO NOTHING",
        )
        .bind(&job.called)
        .bind(&job.key)
        .bind(seq)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    }
    let quote = match job.reply_to {
        Some(_) => read_message(tx, id).await?.and_then(|message| message.reply_to),
        None => None,
    };
    let root = match job.thread {
        Some(thread) => changes::new_reply(tx, thread.root, &job.key, job.at).await?,
        None => None,
    };
    let Some(file) = &job.media else {
        return Ok((Written::Stored { id, seq }, Carried { file: None, quote, root }));
    };
    // Checked free above; taken by another node's writer since, it is
    // written again (and then refused).
    let linked = sqlx::query("UPDATE uploads SET message_id = $1 WHERE id = $2 AND owner = $3 AND message_id IS NULL")
        .bind(id)
        .bind(file)
        .bind(job.from.id)
        .execute(&mut *tx)
        .await?;
    if linked.rows_affected() == 0 {
        return Err(StoreError::backend(Raced));
    }
    // The file's description goes out with the message.
    let (media_id, name, mime, size, width, height): (String, String, String, i64, Option<i64>, Option<i64>) =
        sqlx::query_as(
            "SELECT u.id, u.name, u.mime, b.size, b.width, b.height
             FROM uploads u JOIN media_blobs b ON b.sha256 = u.sha256 WHERE u.id = $1",
        )
        .bind(file)
        .fetch_one(&mut *tx)
        .await?;
    let file = media(media_id, name, mime, size, [width, height]);
    Ok((Written::Stored { id, seq }, Carried { file: Some(file), quote, root }))
}

/// Why a message that stored nothing was refused, in the order the
/// contract names: an earlier copy of its cid, then membership, then what
/// it answers, then its file.
async fn refusal(tx: &mut PgConnection, job: &MessageJob) -> StoreResult<Written> {
    if let Some(cid) = &job.cid {
        let first: Option<i64> = sqlx::query_scalar("SELECT id FROM messages WHERE user_id = $1 AND cid = $2")
            .bind(job.from.id)
            .bind(cid)
            .fetch_optional(&mut *tx)
            .await?;
        if let Some(first) = first {
            return Ok(Written::Duplicate(first));
        }
    }
    let (member, answers, in_thread): (bool, bool, bool) = sqlx::query_as(
        "SELECT NOT $3 OR EXISTS (SELECT 1 FROM room_members WHERE room = $1 AND user_id = $2),
                $4::bigint IS NULL OR EXISTS (SELECT 1 FROM messages WHERE id = $4 AND room = $1),
                $5::bigint IS NULL
                OR EXISTS (SELECT 1 FROM messages WHERE id = $5 AND room = $1 AND thread_root IS NULL)",
    )
    .bind(&job.key)
    .bind(job.from.id)
    .bind(job.members_only)
    .bind(job.reply_to)
    .bind(job.thread.map(|t| t.root))
    .fetch_one(&mut *tx)
    .await?;
    Ok(if !member {
        Written::NotAMember
    } else if !(answers && in_thread) {
        Written::ReplyRefused
    } else {
        Written::MediaRefused
    })
}
