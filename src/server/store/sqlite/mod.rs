//! The embedded SQLite store: WAL mode, migrations applied at start-up.
//!
//! sqlx runs each SQLite connection on its own thread, so no query blocks the
//! async runtime. `synchronous=FULL` makes every commit reach the disk before
//! its ack goes out. Chat messages and guest sign-ups are written by one
//! thread, many to a commit (`group_commit`), and so are changes to
//! messages (`changes`); everything else goes through the pool. One file per aggregate (`identity`, `messages`, `rooms`,
//! `media`) implements its trait; `rows` decodes what they read.

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
mod reading;
mod rooms;

use group_commit::Writer;

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
        let writer = Writer::start(file, sink)?;
        Ok(SqliteStore { pool, writer })
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn close(&self) {
        // The pool first, the writer's one connection last and alone: the
        // last connection to close checkpoints the WAL into the database
        // and deletes it, which two closing at once can each leave to the
        // other. sqlx's `close` returns once every connection is closed.
        self.pool.close().await;
        self.writer.close().await;
    }
}
