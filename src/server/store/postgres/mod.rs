//! The PostgreSQL store, for deployments that outgrow one machine: the
//! store of record that several RTCA nodes share (`RTCA_DATABASE_URL=
//! postgres://…`). It keeps the contract SQLite keeps (`store/mod.rs`), and
//! passes the same conformance suite (`tests/it/store`).
//!
//! Chat messages, changes to them and guest sign-ups go through the one
//! writer (`store::writer`, written by `writer` here), many to a
//! transaction; everything else goes through the pool. Several nodes each
//! have their own writer: `seq` and change numbers come from a counter row
//! per conversation, bumped in the writer's transaction (migration
//! `postgres/…_schema.sql` says why), so they stay gapless and in commit
//! order across nodes. One file per aggregate (`identity`, `messages`,
//! `rooms`, `media`, `reading`) implements its trait; `rows` holds the
//! message `SELECT`; `search` finds messages through the tsvector index.

use std::str::FromStr;
use std::sync::Arc;

use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;

use super::writer::Writer;
use super::{CommitSink, Store, StoreResult};

// Declared first: `select_messages!` is used by the others.
#[macro_use]
mod rows;
mod changes;
mod identity;
mod media;
mod messages;
mod push;
mod reading;
mod rooms;
mod search;
mod writer;

pub struct PostgresStore {
    pool: PgPool,
    /// Every chat message, change and guest sign-up of this node goes
    /// through this one writer (group commit).
    writer: Writer,
}

impl PostgresStore {
    /// Connects to the database at `url` and migrates it. `sink` hears of
    /// every commit of messages (see [`CommitSink`]).
    pub async fn open(
        url: &str,
        max_connections: u32,
        sink: Option<Arc<dyn CommitSink>>,
    ) -> StoreResult<PostgresStore> {
        let options = PgConnectOptions::from_str(url)?;
        // With the database out of reach, a request waits this long for a
        // connection, then is answered `unavailable`: never a hang.
        let pool = PgPoolOptions::new()
            .max_connections(max_connections.max(2))
            .acquire_timeout(writer::UNREACHABLE_AFTER)
            .connect_with(options.clone())
            .await?;
        // Several nodes starting at once: sqlx takes an advisory lock
        // around migrating, so one migrates and the others wait.
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        let writer = Writer::start(move || writer::PgBatches::open(options), sink).await?;
        Ok(PostgresStore { pool, writer })
    }
}

#[async_trait]
impl Store for PostgresStore {
    async fn close(&self) {
        // The writer first: what is queued is written through it.
        self.writer.close().await;
        super::pool::close(&self.pool).await;
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}
