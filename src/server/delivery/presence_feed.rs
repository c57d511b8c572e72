//! Presence on its way out: `online` and `offline` changes, and the
//! `presence` snapshot each new socket gets, go through one task that
//! coalesces them.
//!
//! Why: a join tells every socket, so N users joining at once make N²
//! events, and each newcomer's snapshot is a list of everyone (sorted and
//! serialised per newcomer, N² work again). At 2 000 joins that overflowed
//! every socket's queue, and socketioxide drops what does not fit, acks
//! included. Now:
//! - the first change after a quiet spell goes out at once, and changes
//!   that follow within a window (50 ms, longer in a big crowd) wait for the
//!   next flush;
//! - sockets that asked for batched presence at the handshake
//!   (`auth: {presence: "batched"}`, RTCA's own client does) get one
//!   `presence_changes {online, offline, at}` per flush, serialised once;
//! - every other socket (the prototype's client, any socket.io client) gets
//!   the classic `online` / `offline` events, one per change, in order;
//! - newcomers waiting for a snapshot share one list per flush, encoded once.
//!
//! Changes to the same user within one flush count once, as the user stands
//! at the flush (read from `Presence`, which counts every node: someone who
//! closes their last tab here but is online on another node stays online).
//! With several nodes, this node's changes also go to the others
//! (`cluster`), and theirs come in here.
//! Batches are numbered (`version`), and a list says which batch it follows,
//! so a client that lost a batch to a full queue can tell, and asks for the
//! list again (the client's `presence` request lands in the next flush's
//! welcome, like a newcomer).
//! A flush sends the changes, then the snapshots, taken after the changes
//! were; every socket is in its presence room before it is queued for a
//! snapshot, so whatever changes after a snapshot reaches it in a later
//! flush, and a client that applies the list and then the changes (all
//! idempotent) always converges on who is online.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use socketioxide::extract::SocketRef;
use tokio::sync::{oneshot, Notify};

use super::cluster::Relay;
use super::{direct, Audience, Outbound};
use crate::protocol::{event, PresenceChange, PresenceChanges, PresenceList, User, UserId};
use crate::server::clock::now_ms;
use crate::server::socket::keys::{PRESENCE_BATCHED, PRESENCE_EACH, PRESENCE_WELCOME};
use crate::server::socket::presence::Presence;

/// How long changes gather after a flush before the next one, at least.
const MIN_WINDOW: Duration = Duration::from_millis(50);
/// ... and at most.
const MAX_WINDOW: Duration = Duration::from_secs(1);

/// The window grows with the crowd: every flush is one frame to every
/// socket, so while many join at once (a restart, a class logging in),
/// fewer, larger flushes cost far fewer writes for the same users. 0.1 ms
/// per user online: 50 ms up to 500 users, 500 ms at 5 000.
fn window(online: usize) -> Duration {
    (MIN_WINDOW.max(Duration::from_micros(100).saturating_mul(u32::try_from(online).unwrap_or(u32::MAX))))
        .min(MAX_WINDOW)
}

/// The handlers' side; cloning is cheap.
#[derive(Clone, Default)]
pub struct PresenceFeed {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    /// The other nodes, when there are: this node's changes go to them.
    relay: OnceLock<Relay>,
    pending: Mutex<Pending>,
    wake: Notify,
    /// The last `presence_changes` batch's `version`. Only the feed's task
    /// writes it; an atomic only so that the feed can be shared.
    version: AtomicU64,
}

/// A user whose presence changed: who they were then, and when. Whether
/// they are online is read at the flush, from `Presence` itself: a change
/// is recorded after `Presence` is updated, not under the same lock, so two
/// racing changes of one user (a last tab closing as a new one opens) can
/// be recorded in either order; the flush still reports the truth.
struct Change {
    user: User,
    at: i64,
}

/// What the next flush sends. Bounded by the users and sockets that
/// changed within one window.
#[derive(Default)]
struct Pending {
    /// In the order they happened; `None` where a later change to the same
    /// user replaced it.
    changes: Vec<Option<Change>>,
    /// Where each user's latest change sits in `changes`.
    latest: HashMap<UserId, usize>,
    /// Sockets waiting for their `presence` snapshot are in this one of
    /// the two [`PRESENCE_WELCOME`]; a flush switches to the other, then sends
    /// the list to this one as one broadcast (encoded once, its bytes
    /// shared by every socket's queue) and empties it.
    welcome: usize,
    /// Whether anyone is in the current welcome room.
    newcomers: bool,
}

impl PresenceFeed {
    fn lock(&self) -> MutexGuard<'_, Pending> {
        // Poisoning only means a panic mid-push; the lists are still sound.
        self.inner.pending.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Tells the other nodes of this node's changes from now on; the first
    /// call wins.
    pub fn attach_relay(&self, relay: Relay) {
        let _ = self.inner.relay.set(relay);
    }

    /// `user` came online, or renamed themselves (an `online` with the same id).
    pub fn online(&self, user: &User) {
        if let Some(relay) = self.inner.relay.get() {
            relay.presence(user, true);
        }
        self.change(user.clone());
    }

    /// `user`'s last connection on this node closed.
    pub fn offline(&self, user: User) {
        if let Some(relay) = self.inner.relay.get() {
            relay.presence(&user, false);
        }
        self.change(user);
    }

    /// `user`'s presence changed on another node: the next flush says where
    /// they stand, counting every node.
    pub fn changed_elsewhere(&self, user: User) {
        self.change(user);
    }

    fn change(&self, user: User) {
        let change = Change { user, at: now_ms() };
        {
            let mut pending = self.lock();
            let slot = pending.changes.len();
            if let Some(earlier) = pending.latest.insert(change.user.id, slot) {
                pending.changes[earlier] = None;
            }
            pending.changes.push(Some(change));
        }
        self.inner.wake.notify_one();
    }

    /// Sends `s` everyone online, with the next flush.
    pub fn snapshot_for(&self, s: &SocketRef) {
        {
            // Joined under the lock, so a flush switching rooms cannot miss it.
            let mut pending = self.lock();
            s.join(PRESENCE_WELCOME[pending.welcome]);
            pending.newcomers = true;
        }
        self.inner.wake.notify_one();
    }

    /// The feed's task: flushes at once after a quiet spell, then at most
    /// once per [`window`] while changes keep coming; ends when `stop` fires.
    pub async fn run(self, outbound: Outbound, presence: Arc<Presence>, mut stop: oneshot::Receiver<()>) {
        loop {
            tokio::select! {
                _ = self.inner.wake.notified() => {}
                _ = &mut stop => return,
            }
            while self.flush(&outbound, &presence).await {
                tokio::select! {
                    _ = tokio::time::sleep(window(presence.online_count())) => {}
                    _ = &mut stop => return,
                }
            }
        }
    }

    /// Sends what is pending; false when there was nothing.
    async fn flush(&self, outbound: &Outbound, presence: &Presence) -> bool {
        let (changes, newcomers) = {
            let mut pending = self.lock();
            pending.latest.clear();
            let welcome = std::mem::take(&mut pending.newcomers).then_some(PRESENCE_WELCOME[pending.welcome]);
            pending.welcome = 1 - pending.welcome;
            (std::mem::take(&mut pending.changes), welcome)
        };
        if changes.is_empty() && newcomers.is_none() {
            return false;
        }
        let changes: Vec<(User, bool, i64)> = changes
            .into_iter()
            .flatten()
            .map(|change| match presence.online_user(change.user.id) {
                Some(now) => (now, true, change.at),
                None => (change.user, false, change.at),
            })
            .collect();
        if !changes.is_empty() {
            let version = self.inner.version.fetch_add(1, Ordering::Relaxed) + 1;
            emit_changes(outbound, changes, version).await;
        }
        // After the changes, as before coalescing: a newcomer hears its own
        // `online`, then the list. The list is taken now, so it holds those
        // changes, and anything later comes in the next flush.
        if let Some(room) = newcomers {
            send_snapshot(outbound, room, presence, self.inner.version.load(Ordering::Relaxed)).await;
        }
        true
    }
}

/// One list for every newcomer of this flush (the sockets in `room`),
/// encoded once; then the room is emptied for its next turn.
async fn send_snapshot(outbound: &Outbound, room: &'static str, presence: &Presence, version: u64) {
    let list = PresenceList { users: presence.users(), version };
    outbound.send_one(Audience::Presence(room), event::PRESENCE, &list).await;
    if let Some(waiting) = outbound.recipients(Audience::Presence(room)) {
        if let Err(error) = waiting.leave(room).await {
            tracing::warn!(?error, "cannot empty the presence welcome room");
        }
    }
}

/// `(user, online now, when it changed)`, in the order of the changes:
/// one `online`/`offline` each, in one write, to the classic sockets, and
/// one `presence_changes` to the batched ones. A socket that misses some
/// tells by `version`, and asks for the list again.
async fn emit_changes(outbound: &Outbound, changes: Vec<(User, bool, i64)>, version: u64) {
    let mut batch = PresenceChanges { at: now_ms(), version, ..PresenceChanges::default() };
    // Usually none: RTCA's own client takes batches. Then a storm's
    // thousands of changes are not serialised one by one for nobody.
    let any_classic =
        outbound.recipients(Audience::Presence(PRESENCE_EACH)).is_some_and(|classic| !classic.sockets().is_empty());
    let mut each = Vec::with_capacity(if any_classic { changes.len() } else { 0 });
    for (user, online, at) in changes {
        let change = PresenceChange { user, at };
        if any_classic {
            match serde_json::value::to_raw_value(&change) {
                Ok(raw) => each.push((if online { event::ONLINE } else { event::OFFLINE }, raw)),
                Err(error) => tracing::warn!(%error, "a presence change could not be encoded"),
            }
        }
        if online {
            batch.online.push(change.user)
        } else {
            batch.offline.push(change.user)
        }
    }
    if any_classic {
        let each: Vec<direct::Event<'_>> = each.iter().map(|(name, raw)| (*name, &**raw)).collect();
        outbound.send(Audience::Presence(PRESENCE_EACH), &each).await;
    }
    outbound.send_one(Audience::Presence(PRESENCE_BATCHED), event::PRESENCE_CHANGES, &batch).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_grows_with_the_crowd_within_bounds() {
        assert_eq!(window(0), MIN_WINDOW);
        assert_eq!(window(500), MIN_WINDOW);
        assert_eq!(window(5_000), Duration::from_millis(500));
        assert_eq!(window(usize::MAX), MAX_WINDOW);
    }
}
