//! Closing a connection pool so that no connection outlives it.
//!
//! sqlx's `Pool::close` can return with one connection still open: a
//! connection handed back while the pool closes is first tested (a ping)
//! and then kept idle, without a second look at whether the pool has
//! closed meanwhile. On SQLite that straggler keeps the write-ahead log
//! from being checkpointed and removed by the last connection to close,
//! the writer's; on PostgreSQL it is a session left for the server to
//! time out. Both backends close their pool here.

use std::time::Duration;

/// How long to wait for stragglers before giving up with a warning:
/// a connection still checked out by then belongs to work that never
/// ends, and a stop must not wait for it forever.
const PATIENCE: Duration = Duration::from_secs(5);

/// Closes `pool`, then closes again what it kept, until no connection is
/// left or `PATIENCE` runs out. A second `close` closes every idle
/// connection before it waits for the ones still in use; it may return
/// early (sqlx counts a closed idle connection's permit as freed), hence
/// the pause between rounds.
pub(super) async fn close<DB: sqlx::Database>(pool: &sqlx::Pool<DB>) {
    let closed = async {
        pool.close().await;
        while pool.size() > 0 {
            tokio::time::sleep(ROUND).await;
            pool.close().await;
        }
    };
    if tokio::time::timeout(PATIENCE, closed).await.is_err() {
        tracing::warn!(open = pool.size(), "database connections still open after the pool closed");
    }
}

/// The pause between two rounds of closing.
const ROUND: Duration = Duration::from_millis(10);
