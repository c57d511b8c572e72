//! What socketioxide holds for a socket on long-polling, or upgraded from
//! it, counted in bytes: the budget of unsent bytes for the sockets that
//! `wire`'s direct path does not write to.
//!
//! Such a socket's events wait in socketioxide's queue, which counts
//! packets (`RTCA_SOCKET_BUFFER`), not bytes, until its client collects
//! them. Each socket that started on long-polling gets a [`Backlog`] at its
//! handshake (`http::handshake::track_backlogs`), kept in its request
//! parts: what RTCA hands socketioxide for it is added ([`admit`]), what
//! leaves is taken off (each polling response's body; on an upgraded
//! socket, every byte its WebSocket connection writes). Past
//! `RTCA_OUTBOUND_BYTES` the socket takes nothing more, and its session is
//! ended: its WebSocket connection, if it upgraded, is shut down; its
//! polling requests are refused, so its client reconnects and resumes by
//! `seq`, and the session, which can no longer answer a ping, goes at the
//! heartbeat. What it holds meanwhile is bounded by the budget.
//!
//! DEPENDENCY: socketioxide has no way to end an Engine.IO session from a
//! server, nor to tell which session an HTTP request belongs to but its
//! `sid`; the session's id is read from its handshake's open packet.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};

use socketioxide::extract::SocketRef;

use super::wire::Wire;
use crate::server::metrics;

/// One socket's bytes on their way through socketioxide.
pub struct Backlog {
    bytes: AtomicUsize,
    limit: usize,
    over: AtomicBool,
    /// The WebSocket connection it upgraded to, if it did.
    upgraded: OnceLock<Weak<Wire>>,
}

impl Backlog {
    pub fn new(limit: usize) -> Arc<Backlog> {
        Arc::new(Backlog { bytes: AtomicUsize::new(0), limit, over: AtomicBool::new(false), upgraded: OnceLock::new() })
    }

    /// Counts `bytes` more on their way; false once the socket is past its
    /// budget, which it then stays: it takes nothing more. An event alone
    /// always fits, even one larger than the budget.
    pub fn charge(&self, bytes: usize) -> bool {
        if self.is_over() {
            return false;
        }
        let before = self.bytes.fetch_add(bytes, Ordering::Relaxed);
        if before > 0 && before + bytes > self.limit {
            self.over.store(true, Ordering::Relaxed);
            tracing::info!(waiting = before, more = bytes, "ending a session that does not collect what it is sent");
            match self.upgraded.get().and_then(Weak::upgrade) {
                Some(wire) => wire.overflow("an upgraded session over its budget"),
                None => metrics::slow_consumer_closed(),
            }
            return false;
        }
        true
    }

    /// `bytes` of it went out.
    pub fn sent(&self, bytes: usize) {
        let _ = self.bytes.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| Some(n.saturating_sub(bytes)));
    }

    /// Whether it went past its budget: its session is over.
    pub fn is_over(&self) -> bool {
        self.over.load(Ordering::Relaxed)
    }

    /// The socket upgraded to the WebSocket connection `wire`, which from
    /// now on carries its bytes out (and is shut down if it goes over).
    pub fn upgraded_to(self: &Arc<Self>, wire: &Arc<Wire>) {
        if self.upgraded.set(Arc::downgrade(wire)).is_ok() {
            wire.counts_for(Arc::clone(self));
        }
    }
}

/// Whether `socket` may be handed `bytes` more through socketioxide
/// (`bytes` is only worked out for a socket with a backlog).
pub fn admit(socket: &SocketRef, bytes: impl FnOnce() -> usize) -> bool {
    socket.req_parts().extensions.get::<Arc<Backlog>>().is_none_or(|backlog| backlog.charge(bytes()))
}

/// Every live backlog, by its Engine.IO session id, for the requests that
/// carry its bytes out. Dead entries are dropped whenever the table has
/// doubled since the last sweep, so it holds about twice the sessions
/// open on long-polling at most.
#[derive(Default)]
pub struct Backlogs {
    table: Mutex<Table>,
}

#[derive(Default)]
struct Table {
    by_sid: HashMap<String, Weak<Backlog>>,
    sweep_at: usize,
}

impl Backlogs {
    fn table(&self) -> std::sync::MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn register(&self, sid: String, backlog: &Arc<Backlog>) {
        let mut table = self.table();
        if table.by_sid.len() >= table.sweep_at {
            table.by_sid.retain(|_, backlog| backlog.strong_count() > 0);
            table.sweep_at = (table.by_sid.len() * 2).max(1024);
        }
        table.by_sid.insert(sid, Arc::downgrade(backlog));
    }

    pub fn find(&self, sid: &str) -> Option<Arc<Backlog>> {
        self.table().by_sid.get(sid).and_then(Weak::upgrade)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_backlog_goes_over_once_and_stays_over() {
        let backlog = Backlog::new(100);
        assert!(backlog.charge(500), "an event alone always fits");
        backlog.sent(500);
        assert!(backlog.charge(60) && backlog.charge(40));
        backlog.sent(30);
        assert!(backlog.charge(30));
        assert!(!backlog.charge(1), "101 bytes waiting");
        assert!(backlog.is_over());
        backlog.sent(1_000);
        assert!(!backlog.charge(1), "over is over");
    }

    #[test]
    fn dead_backlogs_leave_the_table() {
        let backlogs = Backlogs::default();
        let kept = Backlog::new(10);
        backlogs.register("kept".into(), &kept);
        for n in 0..3000 {
            backlogs.register(format!("gone{n}"), &Backlog::new(10));
        }
        assert!(backlogs.find("kept").is_some());
        assert!(backlogs.find("gone1").is_none());
        assert!(backlogs.table().by_sid.len() < 2100, "{}", backlogs.table().by_sid.len());
    }
}
