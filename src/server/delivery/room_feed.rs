//! New public rooms on their way out: every `room_created` goes through one
//! task that coalesces them, so that a flood of creations costs each socket
//! at most one frame per window, however many people create rooms.
//!
//! - The first room after a quiet spell goes out at once, as
//!   `room_created` (one room, to everyone but its creator), as it always did.
//! - Rooms created within the next [`WINDOW`] wait for one flush: a lone
//!   one goes out the same way; several go out as one `rooms_created
//!   {rooms, more}`, serialised once, to everyone.
//! - At most [`MAX_ROOMS_PER_FLUSH`] rooms wait; past that a flush says
//!   `more: true`, and a client that wants the rest asks for `rooms`.
//!
//! Creating public rooms is also rate limited per user and per address
//! (`RTCA_RATE_PUBLIC_ROOMS`); this bounds what everyone else pays for it.
//!
//! With several nodes, a room created here is announced to the other
//! nodes too (`cluster::Control::RoomCreated`), each through its own feed.

use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use tokio::sync::Notify;

use super::cluster::{Control, Relay};
use super::{Audience, Outbound};
use crate::protocol::{event, RoomInfo, RoomsCreated, UserId};

/// How long rooms created after a flush gather before the next one.
pub const WINDOW: Duration = Duration::from_secs(1);
/// The most rooms one flush names.
pub const MAX_ROOMS_PER_FLUSH: usize = 50;

/// The creators' side; cloning is cheap.
#[derive(Clone, Default)]
pub struct RoomFeed {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    /// The other nodes, when there are: rooms created here are told to them.
    relay: OnceLock<Relay>,
    pending: Mutex<Pending>,
    wake: Notify,
}

/// What the next flush sends: bounded by [`MAX_ROOMS_PER_FLUSH`].
#[derive(Default)]
struct Pending {
    /// Each room as everyone but its creator sees it, and its creator.
    rooms: Vec<(RoomInfo, UserId)>,
    /// Rooms were left out for want of room.
    more: bool,
}

impl RoomFeed {
    fn lock(&self) -> MutexGuard<'_, Pending> {
        // Poisoning only means a panic mid-push; the list is still sound.
        self.inner.pending.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Tells the other nodes of rooms created here from now on; the first
    /// call wins.
    pub fn attach_relay(&self, relay: Relay) {
        let _ = self.inner.relay.set(relay);
    }

    /// Tells everyone (but `creator`) of the public room `room`, with the
    /// next flush, on every node.
    pub fn announce(&self, room: RoomInfo, creator: UserId) {
        if let Some(relay) = self.inner.relay.get() {
            relay.control(Control::RoomCreated { room: room.clone(), creator });
        }
        self.announce_here(room, creator);
    }

    /// [`RoomFeed::announce`] to this node's sockets only (another node
    /// created the room).
    pub fn announce_here(&self, room: RoomInfo, creator: UserId) {
        {
            let mut pending = self.lock();
            if pending.rooms.len() < MAX_ROOMS_PER_FLUSH {
                pending.rooms.push((room, creator));
            } else {
                pending.more = true;
            }
        }
        self.inner.wake.notify_one();
    }

    /// Flushes for the server's life: at once after a quiet spell, then at
    /// most once per [`WINDOW`].
    pub async fn run(self, outbound: Outbound) {
        loop {
            self.inner.wake.notified().await;
            while self.flush(&outbound).await {
                tokio::time::sleep(WINDOW).await;
            }
        }
    }

    /// Sends what is pending; false when there was nothing.
    async fn flush(&self, outbound: &Outbound) -> bool {
        let Pending { mut rooms, more } = std::mem::take(&mut *self.lock());
        match (rooms.len(), more) {
            (0, false) => false,
            (1, false) => {
                let (room, creator) = rooms.remove(0);
                let everyone_else = Audience::Everyone { except: Some(creator) };
                outbound.send_one(everyone_else, event::ROOM_CREATED, &room).await;
                true
            }
            _ => {
                let rooms = rooms.into_iter().map(|(room, _)| room).collect();
                let everyone = Audience::Everyone { except: None };
                outbound.send_one(everyone, event::ROOMS_CREATED, &RoomsCreated { rooms, more }).await;
                true
            }
        }
    }
}
