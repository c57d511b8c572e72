//! The one connection a node publishes on: messages and changes for the
//! other nodes, controls, presence changes and heartbeats, in the order
//! they were handed over. Nothing here waits for delivery: the queue is
//! bounded and a full one drops (the readers heal from the store, or from
//! the next heartbeat), except for controls, which nothing else repairs.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use crate::server::metrics;

/// How often a lost connection to Redis is tried again.
pub(super) const RECONNECT: Duration = Duration::from_secs(1);
/// Controls kept while Redis is out of reach, sent once it is back; past
/// it the oldest go.
const KEPT_CONTROLS: usize = 1024;

/// What the publisher sends to Redis, in order.
pub(super) enum Outgoing {
    /// One payload, published on each of `channels`. `keep`: held while
    /// Redis is out of reach and sent once it is back (a control, which no
    /// store read could make up for), rather than dropped.
    Publish { channels: Vec<String>, payload: Vec<u8>, keep: bool },
    /// Commands sent together (a presence hash's change, a heartbeat).
    Commands(redis::Pipeline),
}

/// Publishes what it is given, in order, on one connection, opened again
/// (at most once per [`RECONNECT`]) after it fails. What fails, or finds
/// no connection, is logged and dropped (its readers fill the gap from
/// the store), or for a control, kept for when Redis is back.
pub(super) async fn publish_all(
    client: redis::Client,
    connection: redis::aio::MultiplexedConnection,
    mut queue: mpsc::Receiver<Outgoing>,
) {
    let mut connection = Some(connection);
    let mut tried = Instant::now();
    let mut kept: VecDeque<Outgoing> = VecDeque::new();
    while let Some(outgoing) = queue.recv().await {
        if connection.is_none() && tried.elapsed() >= RECONNECT {
            tried = Instant::now();
            connection = client.get_multiplexed_async_connection().await.ok();
        }
        // Kept controls first, then this; a heartbeat comes every few
        // seconds, so nothing kept waits long once Redis is back.
        kept.push_back(outgoing);
        while let Some(next) = kept.pop_front() {
            let Some(open) = connection.as_mut() else {
                lost(next, &mut kept);
                break;
            };
            match send(open, &next).await {
                Ok(()) if matches!(next, Outgoing::Publish { .. }) => metrics::relayed("out", 1),
                Ok(()) => {}
                Err(error) => {
                    tracing::warn!(%error, "a publish to the other nodes failed");
                    connection = None;
                    lost(next, &mut kept);
                    break;
                }
            }
        }
    }
}

async fn send(connection: &mut redis::aio::MultiplexedConnection, outgoing: &Outgoing) -> redis::RedisResult<()> {
    match outgoing {
        Outgoing::Publish { channels, payload, .. } => {
            let mut publishes = redis::pipe();
            for channel in channels {
                publishes.publish(channel, payload).ignore();
            }
            publishes.query_async(connection).await
        }
        Outgoing::Commands(commands) => commands.query_async(connection).await,
    }
}

/// Drops what could not be sent, or keeps it (a control) for later.
fn lost(outgoing: Outgoing, kept: &mut VecDeque<Outgoing>) {
    metrics::relay_lost();
    if matches!(outgoing, Outgoing::Publish { keep: true, .. }) {
        kept.push_back(outgoing);
        while kept.len() > KEPT_CONTROLS {
            kept.pop_front();
        }
    }
}
