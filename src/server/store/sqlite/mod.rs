//! The embedded SQLite store: WAL mode, migrations applied at start-up.
//!
//! sqlx runs each SQLite connection on its own thread, so no query blocks the
//! async runtime. `synchronous=FULL` makes every commit reach the disk before
//! its ack goes out. Chat messages and guest sign-ups are written by one
//! thread, many to a commit (`store::writer`, written by `group_commit`),
//! and so are changes to messages (`changes`); everything else goes
//! through the pool. One file per aggregate (`identity`, `messages`,
//! `rooms`, `media`, `reading`) implements its trait; `rows` holds the
//! message `SELECT`; `search` keeps the full-text index.

use std::str::FromStr;
use std::sync::Arc;

use async_trait::async_trait;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

use super::{CommitSink, Store, StoreError, StoreResult};

// Declared first: `select_messages!` is used by the others.
#[macro_use]
mod rows;
mod changes;
mod group_commit;
mod identity;
mod media;
mod messages;
mod push;
mod reading;
mod rooms;
mod search;

use super::writer::Writer;
use group_commit::SqliteBatches;

pub struct SqliteStore {
    pool: SqlitePool,
    /// Every chat message and guest sign-up goes through this one writer
    /// (group commit).
    writer: Writer,
}

impl SqliteStore {
    /// Opens (creating if missing) the database at `url` and migrates it.
    /// `sink` hears of every commit of messages (see [`CommitSink`]).
    pub async fn open(url: &str, max_connections: u32, sink: Option<Arc<dyn CommitSink>>) -> StoreResult<SqliteStore> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(std::time::Duration::from_secs(10));
        let file = options.get_filename().to_owned();
        // The writer opens the file again: an in-memory database would be
        // a different one.
        if file.as_os_str() == ":memory:" || url.contains("mode=memory") {
            return Err(StoreError::Unsupported("RTCA needs a database file, not :memory:".into()));
        }
        let pool = SqlitePoolOptions::new().max_connections(max_connections).connect_with(options).await?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        let filled = identity::backfill_name_skeletons(&pool).await?;
        if filled > 0 {
            tracing::info!(users = filled, "stored the look-alike keys of existing names");
        }
        let indexed = search::backfill(&pool).await?;
        if indexed > 0 {
            tracing::info!(messages = indexed, "indexed the messages stored before search existed");
        }
        let writer = Writer::start(move || Ok(SqliteBatches::open(&file)?), sink).await?;
        Ok(SqliteStore { pool, writer })
    }
}

/// `store::backup` for SQLite: `VACUUM INTO` reads one snapshot (a reader
/// in WAL mode: writers go on meanwhile) into a compact new file, whose
/// history epoch is then renewed.
pub(super) async fn backup(url: &str, dest: &std::path::Path) -> StoreResult<()> {
    use sqlx::{ConnectOptions, Connection};
    if tokio::fs::try_exists(dest).await.unwrap_or(true) {
        return Err(StoreError::Unsupported(format!("{} exists already; back up to a new file", dest.display())));
    }
    let source = SqliteConnectOptions::from_str(url)?.read_only(true).busy_timeout(std::time::Duration::from_secs(10));
    if !tokio::fs::try_exists(source.get_filename()).await.unwrap_or(false) {
        return Err(StoreError::Unsupported(format!("{url}: no such database")));
    }
    // Made under another name and renamed once whole, so a copy that
    // failed midway is never taken for a backup with the old epoch.
    let partial = std::path::PathBuf::from(format!("{}.partial", dest.display()));
    if tokio::fs::try_exists(&partial).await.unwrap_or(true) {
        return Err(StoreError::Unsupported(format!("{} is left from a failed backup; remove it", partial.display())));
    }
    let mut connection = source.connect().await?;
    sqlx::query("VACUUM INTO ?").bind(partial.to_string_lossy().into_owned()).execute(&mut connection).await?;
    connection.close().await?;
    let mut copy = SqliteConnectOptions::new().filename(&partial).connect().await?;
    sqlx::query("UPDATE meta SET value = lower(hex(randomblob(8))) WHERE key = 'history_epoch'")
        .execute(&mut copy)
        .await?;
    copy.close().await?;
    tokio::fs::rename(&partial, dest).await?;
    Ok(())
}

#[async_trait]
impl Store for SqliteStore {
    async fn close(&self) {
        // The pool first, the writer's one connection last and alone: the
        // last connection to close checkpoints the WAL into the database
        // and deletes it, which two closing at once can each leave to the
        // other.
        super::pool::close(&self.pool).await;
        self.writer.close().await;
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}
