//! Live delivery of committed messages. The store hands every committed
//! batch over in commit order ([`CommitSink`]), so messages leave here in
//! `seq` order per conversation by construction: one writer commits, one
//! task delivers, and nothing in between reorders them.
//!
//! Changes to messages (edits, deletions, reactions) come in the same
//! stream, so a change never reaches a socket before the message it
//! changes, and each conversation's change numbers go out in order too.
//!
//! For each message, its sender's ack goes first (the `on_commit` the
//! sender's request gave the store), then the message to its conversation.
//! On the sender's socket the ack therefore always comes before its own
//! message, and on every socket messages come in commit order.

use tokio::sync::mpsc;

use super::cluster::Relay;
use super::Outbound;
use crate::server::store::{acknowledge, CommitSink, Committed};

/// Committed batches waiting for the delivery task: with at most 256
/// messages to a batch (`group_commit`), at most 4 096 messages. A full
/// queue makes the store's writer wait, which slows senders instead of
/// growing memory.
const QUEUE: usize = 16;

/// The store's side: where committed batches go.
#[derive(Clone)]
pub struct Fanout {
    queue: mpsc::Sender<Vec<Committed>>,
}

/// The delivery task's side, until it is started with [`Fanout::run`].
pub struct FanoutQueue(mpsc::Receiver<Vec<Committed>>);

impl Fanout {
    pub fn new() -> (Fanout, FanoutQueue) {
        let (queue, receiver) = mpsc::channel(QUEUE);
        (Fanout { queue }, FanoutQueue(receiver))
    }

    /// The delivery task: runs until the store, which holds the sending
    /// side, is closed, and delivers everything it committed before. With
    /// a `relay` (several nodes), each message goes through it: to the
    /// other nodes, and to this node's sockets in order with theirs.
    pub async fn run(outbound: Outbound, FanoutQueue(mut queue): FanoutQueue, relay: Option<Relay>) {
        while let Some(batch) = queue.recv().await {
            deliver(&outbound, relay.as_ref(), batch).await;
        }
    }
}

async fn deliver(outbound: &Outbound, relay: Option<&Relay>, batch: Vec<Committed>) {
    for Committed { message, changed, on_commit } in batch {
        if let Some(ack) = on_commit {
            ack(&message);
        }
        match relay {
            Some(relay) => relay.committed(message, changed).await,
            None => outbound.deliver(message, changed).await,
        }
    }
}

impl CommitSink for Fanout {
    fn committed(&self, batch: Vec<Committed>) {
        // Waits while the task is behind (the writer is a thread of its
        // own, not the runtime's). Should the task be gone, nobody hears the
        // batch live (they resume by `seq`), but its senders still hear
        // that it is stored.
        if let Err(mpsc::error::SendError(batch)) = self.queue.blocking_send(batch) {
            acknowledge(batch);
        }
    }
}
