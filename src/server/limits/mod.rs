//! How much one client may do: token-bucket rate limits per connection,
//! per user and per address, and caps on connections per user and per
//! address. A client past a limit gets `rate_limited` (or, for a
//! connection, a refused handshake); nobody else notices.
//!
//! With several nodes, the per-user and per-address budgets and caps hold
//! across them, approximately ([`shared`]).
//!
//! Every table here is bounded: buckets that have filled up again carry no
//! information and are dropped when a table grows, and connection counts
//! are released by a guard that lives exactly as long as the socket.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

pub mod shared;

use self::shared::{Shared, Table};
use super::config::{LimitSettings, Rate};
use super::metrics;
use crate::error::ChatError;
use crate::protocol::UserId;

/// The classic token bucket: `burst` tokens, refilled at `per_second`.
#[derive(Debug, Clone)]
pub struct TokenBucket {
    rate: Rate,
    tokens: f64,
    updated: Instant,
}

impl TokenBucket {
    pub fn new(rate: Rate, now: Instant) -> TokenBucket {
        TokenBucket { rate, tokens: f64::from(rate.burst), updated: now }
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.updated).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.rate.per_second).min(f64::from(self.rate.burst));
        self.updated = now;
    }

    /// Takes one token if there is one.
    pub fn try_take(&mut self, now: Instant) -> bool {
        self.refill(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// Whether a whole token is there, taking nothing.
    fn has_token(&mut self, now: Instant) -> bool {
        self.refill(now);
        self.tokens >= 1.0
    }

    /// Whether anything is left: a budget charged after the fact (bytes
    /// read) admits while it is above zero.
    fn has_credit(&mut self, now: Instant) -> bool {
        self.refill(now);
        self.tokens > 0.0
    }

    /// Takes `amount`, into debt if need be (down to one burst below zero):
    /// a large read delays the next ones instead of being refused once its
    /// size is known.
    fn charge(&mut self, amount: usize, now: Instant) {
        self.refill(now);
        let burst = f64::from(self.rate.burst);
        self.tokens = (self.tokens - amount as f64).max(-burst);
    }

    /// Full again: forgetting this bucket loses nothing.
    fn is_full(&mut self, now: Instant) -> bool {
        self.refill(now);
        self.tokens >= f64::from(self.rate.burst)
    }
}

/// What a client is trying to do, for the per-connection buckets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// `message`, `secret`.
    Send,
    /// `history`, `conversations`, `presence`.
    Read,
    /// `online`.
    Join,
    /// Anything else: room management, unknown events.
    Other,
}

/// Past this many entries a table drops its full buckets.
const PRUNE_AT: usize = 4096;
/// A table never holds more: past it (under a flood of new keys whose
/// buckets have not refilled yet), a new key takes the place of an
/// arbitrary other one, whose limit starts afresh. Failing toward one
/// key's limit, not toward refusing every newcomer: a full table must not
/// lock everyone out of signing in.
const MAX_ENTRIES: usize = 65_536;

/// A map of buckets keyed by user or address.
#[derive(Debug)]
struct BucketTable<K> {
    buckets: Mutex<Buckets<K>>,
}

#[derive(Debug)]
struct Buckets<K> {
    map: HashMap<K, TokenBucket>,
    /// The size at which full buckets are dropped next: doubled after each
    /// pass, so that a table of buckets that never refill is not scanned
    /// on every new key. Once the table is full, it is scanned at most
    /// every [`PRUNE_FULL_EVERY`] (`pruned`).
    prune_at: usize,
    pruned: Instant,
}

/// How often a full table looks for buckets to drop.
const PRUNE_FULL_EVERY: std::time::Duration = std::time::Duration::from_secs(10);

impl<K> Default for BucketTable<K> {
    fn default() -> Self {
        BucketTable { buckets: Mutex::new(Buckets { map: HashMap::new(), prune_at: PRUNE_AT, pruned: Instant::now() }) }
    }
}

impl<K: Eq + Hash + Clone> BucketTable<K> {
    fn try_take(&self, key: K, rate: Rate) -> bool {
        self.with(key, rate, TokenBucket::try_take)
    }

    fn has_credit(&self, key: K, rate: Rate) -> bool {
        self.with(key, rate, TokenBucket::has_credit)
    }

    fn has_token(&self, key: K, rate: Rate) -> bool {
        self.with(key, rate, TokenBucket::has_token)
    }

    fn charge(&self, key: K, rate: Rate, amount: usize) {
        self.with(key, rate, |bucket, now| {
            bucket.charge(amount, now);
            true
        });
    }

    /// Runs `act` on `key`'s bucket, made full if it is new.
    fn with(&self, key: K, rate: Rate, act: impl FnOnce(&mut TokenBucket, Instant) -> bool) -> bool {
        let now = Instant::now();
        let mut table = lock(&self.buckets);
        let Buckets { map, prune_at, pruned } = &mut *table;
        let due = map.len() < MAX_ENTRIES || now.saturating_duration_since(*pruned) >= PRUNE_FULL_EVERY;
        if map.len() >= *prune_at && due && !map.contains_key(&key) {
            map.retain(|_, bucket| !bucket.is_full(now));
            *prune_at = (map.len() * 2).clamp(PRUNE_AT, MAX_ENTRIES);
            *pruned = now;
        }
        if map.len() >= MAX_ENTRIES && !map.contains_key(&key) {
            if let Some(other) = map.keys().next().cloned() {
                map.remove(&other);
            }
        }
        act(map.entry(key).or_insert_with(|| TokenBucket::new(rate, now)), now)
    }
}

/// A poisoned lock only means another thread panicked mid-update of a
/// counter; the numbers are still usable.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The server-wide limiter, shared through `AppState`.
#[derive(Debug)]
pub struct Limits {
    settings: LimitSettings,
    send_by_user: BucketTable<UserId>,
    uploads_by_user: BucketTable<UserId>,
    joins_by_address: BucketTable<IpAddr>,
    handshakes_by_address: BucketTable<IpAddr>,
    logins_by_address: BucketTable<IpAddr>,
    logins_by_account: BucketTable<String>,
    reads_by_address: BucketTable<IpAddr>,
    public_rooms_by_user: BucketTable<UserId>,
    public_rooms_by_address: BucketTable<IpAddr>,
    calls_by_user: BucketTable<UserId>,
    reads_everywhere: Mutex<TokenBucket>,
    open: Mutex<OpenConnections>,
    /// What this node spent, and what the other nodes hold.
    shared: Mutex<Shared>,
}

#[derive(Debug, Default)]
struct OpenConnections {
    by_user: HashMap<UserId, usize>,
    by_address: HashMap<IpAddr, usize>,
}

/// One fewer for `key`; a count of zero leaves the table.
pub fn release<K: Eq + Hash>(counts: &mut HashMap<K, usize>, key: &K) {
    if let Some(count) = counts.get_mut(key) {
        *count = count.saturating_sub(1);
        if *count == 0 {
            counts.remove(key);
        }
    }
}

impl Limits {
    pub fn new(settings: LimitSettings) -> Limits {
        Limits {
            settings,
            send_by_user: BucketTable::default(),
            uploads_by_user: BucketTable::default(),
            joins_by_address: BucketTable::default(),
            handshakes_by_address: BucketTable::default(),
            logins_by_address: BucketTable::default(),
            logins_by_account: BucketTable::default(),
            reads_by_address: BucketTable::default(),
            public_rooms_by_user: BucketTable::default(),
            public_rooms_by_address: BucketTable::default(),
            calls_by_user: BucketTable::default(),
            reads_everywhere: Mutex::new(TokenBucket::new(settings.read_bytes_total, Instant::now())),
            open: Mutex::default(),
            shared: Mutex::default(),
        }
    }

    pub fn settings(&self) -> &LimitSettings {
        &self.settings
    }

    /// One message from `user` (socket or form).
    pub fn user_sends(&self, user: UserId) -> Result<(), ChatError> {
        allow(self.send_by_user.try_take(user, self.settings.send_per_user))?;
        self.spent(Table::SendByUser, user, 1);
        Ok(())
    }

    /// One file upload by `user`.
    pub fn user_uploads(&self, user: UserId) -> Result<(), ChatError> {
        allow(self.uploads_by_user.try_take(user, self.settings.upload_per_user))?;
        self.spent(Table::UploadsByUser, user, 1);
        Ok(())
    }

    /// One new identity (guest or account) from `address`.
    pub fn address_joins(&self, address: Option<IpAddr>) -> Result<(), ChatError> {
        let Some(address) = address.map(client) else { return Ok(()) };
        allow(self.joins_by_address.try_take(address, self.settings.join_per_address))?;
        self.spent(Table::JoinsByAddress, address, 1);
        Ok(())
    }

    /// One new public room by `user`, from `address`.
    pub fn public_room_created(&self, user: UserId, address: Option<IpAddr>) -> Result<(), ChatError> {
        let rate = self.settings.public_rooms;
        if let Some(address) = address.map(client) {
            allow(self.public_rooms_by_address.try_take(address, rate))?;
            self.spent(Table::PublicRoomsByAddress, address, 1);
        }
        allow(self.public_rooms_by_user.try_take(user, rate))?;
        self.spent(Table::PublicRoomsByUser, user, 1);
        Ok(())
    }

    /// Whether `user` may call everyone in a room (`@here`, `@room`) now.
    /// Nothing is spent until a message doing it is stored
    /// ([`Limits::user_called_everyone`]), so a retry, or a message
    /// refused for another reason, costs nothing.
    pub fn user_may_call_everyone(&self, user: UserId) -> Result<(), ChatError> {
        allow(self.calls_by_user.has_token(user, self.settings.call_everyone))
    }

    /// A message of `user`'s calling everyone was stored.
    pub fn user_called_everyone(&self, user: UserId) {
        self.calls_by_user.charge(user, self.settings.call_everyone, 1);
        self.spent(Table::CallsByUser, user, 1);
    }

    /// One new Engine.IO session from `address`.
    pub fn address_handshakes(&self, address: Option<IpAddr>) -> Result<(), ChatError> {
        let Some(address) = address.map(client) else { return Ok(()) };
        allow(self.handshakes_by_address.try_take(address, self.settings.handshake_per_address))?;
        self.spent(Table::HandshakesByAddress, address, 1);
        Ok(())
    }

    /// One sign-in attempt for `account` (a name key) from `address`.
    pub fn login_attempt(&self, address: Option<IpAddr>, account: &str) -> Result<(), ChatError> {
        if let Some(address) = address.map(client) {
            allow(self.logins_by_address.try_take(address, self.settings.login_per_address))?;
            self.spent(Table::LoginsByAddress, address, 1);
        }
        allow(self.logins_by_account.try_take(account.to_owned(), self.settings.login_per_account))?;
        self.spent(Table::LoginsByAccount, account, 1);
        Ok(())
    }

    /// Whether a reader at `address` may read history now: both its
    /// address's budget and everyone's have bytes left. What the read cost
    /// is charged afterwards ([`Limits::charge_read`]).
    pub fn may_read(&self, address: Option<IpAddr>) -> Result<(), ChatError> {
        if let Some(address) = address {
            allow(self.reads_by_address.has_credit(client(address), self.settings.read_bytes_per_address))?;
        }
        allow(lock(&self.reads_everywhere).has_credit(Instant::now()))
    }

    /// `bytes` of history read from `address`, taken from both budgets.
    pub fn charge_read(&self, address: Option<IpAddr>, bytes: usize) {
        if let Some(address) = address.map(client) {
            self.reads_by_address.charge(address, self.settings.read_bytes_per_address, bytes);
            self.spent(Table::ReadBytesByAddress, address, u64::try_from(bytes).unwrap_or(u64::MAX));
        }
        lock(&self.reads_everywhere).charge(bytes, Instant::now());
    }

    fn spent(&self, table: Table, key: impl ToString, amount: u64) {
        lock(&self.shared).spend(table, key, amount);
    }

    /// Counts a new connection in, or refuses it if its user or address
    /// already holds as many as allowed. The slot gives the count back
    /// when the last copy of it is dropped (with the socket).
    pub fn open_connection(
        self: &Arc<Self>,
        user: Option<UserId>,
        address: Option<IpAddr>,
    ) -> Result<Arc<ConnectionSlot>, ChatError> {
        let address = address.map(client);
        // Held on the other nodes, as they last said (read first: never
        // two of these locks at once).
        let (user_elsewhere, address_elsewhere) = {
            let shared = lock(&self.shared);
            let now = Instant::now();
            (
                user.map_or(0, |user| shared.user_elsewhere(user, now)),
                address.map_or(0, |address| shared.address_elsewhere(address, now)),
            )
        };
        let mut open = lock(&self.open);
        if let Some(address) = address {
            let here = open.by_address.get(&address).copied().unwrap_or(0);
            if here + address_elsewhere >= self.settings.connections_per_address {
                return Err(ChatError::TooManyConnections);
            }
        }
        if let Some(user) = user {
            let here = open.by_user.get(&user).copied().unwrap_or(0);
            if here + user_elsewhere >= self.settings.connections_per_user {
                return Err(ChatError::TooManyConnections);
            }
            *open.by_user.entry(user).or_default() += 1;
        }
        if let Some(address) = address {
            *open.by_address.entry(address).or_default() += 1;
        }
        Ok(Arc::new(ConnectionSlot { limits: Arc::clone(self), user: Mutex::new(user), address }))
    }
}

/// Who an address stands for. One IPv6 client usually holds a whole /64,
/// so per-address limits count the /64, or each of its addresses would get
/// limits of its own.
pub fn client(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(_) => address,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6((u128::from(v6) & !u128::from(u64::MAX)).into()),
        },
    }
}

fn allow(granted: bool) -> Result<(), ChatError> {
    if granted {
        Ok(())
    } else {
        metrics::rate_limited();
        Err(ChatError::RateLimited)
    }
}

/// One socket's place in the connection counts, and its own buckets.
#[derive(Debug)]
pub struct ConnectionSlot {
    limits: Arc<Limits>,
    user: Mutex<Option<UserId>>,
    address: Option<IpAddr>,
}

impl ConnectionSlot {
    pub fn address(&self) -> Option<IpAddr> {
        self.address
    }

    /// The connection now speaks for `user` (after `online`).
    pub fn assign_user(&self, user: UserId) {
        let mut current = lock(&self.user);
        if *current == Some(user) {
            return;
        }
        let mut open = lock(&self.limits.open);
        if let Some(previous) = current.take() {
            release(&mut open.by_user, &previous);
        }
        *open.by_user.entry(user).or_default() += 1;
        *current = Some(user);
    }
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        let user = lock(&self.user).take();
        let mut open = lock(&self.limits.open);
        if let Some(user) = user {
            release(&mut open.by_user, &user);
        }
        if let Some(address) = self.address {
            release(&mut open.by_address, &address);
        }
    }
}

/// One socket's limits, kept in its extensions: its place in the
/// connection counts, its own buckets, and its messages in flight.
#[derive(Debug, Clone)]
pub struct ConnectionLimits {
    slot: Arc<ConnectionSlot>,
    buckets: Arc<Mutex<ConnectionBuckets>>,
    posting: Arc<Semaphore>,
}

impl ConnectionLimits {
    /// `socket_buffer` is the socket's packet queue: a quarter of it may be
    /// messages in flight, so their acks (which come back together when a
    /// batch commits) always fit beside the deliveries.
    pub fn new(slot: Arc<ConnectionSlot>, settings: &LimitSettings, socket_buffer: usize) -> ConnectionLimits {
        ConnectionLimits {
            slot,
            buckets: Arc::new(Mutex::new(ConnectionBuckets::new(settings))),
            posting: Arc::new(Semaphore::new((socket_buffer / 4).max(1))),
        }
    }

    /// Waits until fewer than the allowed messages of this connection are
    /// being stored; the permit ends with the message's ack. A client that
    /// sends faster than it is acked waits instead of flooding its own queue.
    pub async fn posting(&self) -> Option<OwnedSemaphorePermit> {
        Arc::clone(&self.posting).acquire_owned().await.ok()
    }

    /// One `action` on this connection, if its bucket allows.
    pub fn take(&self, action: Action) -> Result<(), ChatError> {
        lock(&self.buckets).take(action)
    }

    pub fn address(&self) -> Option<IpAddr> {
        self.slot.address()
    }

    pub fn assign_user(&self, user: UserId) {
        self.slot.assign_user(user);
    }
}

#[derive(Debug)]
struct ConnectionBuckets {
    send: TokenBucket,
    read: TokenBucket,
    join: TokenBucket,
    other: TokenBucket,
}

impl ConnectionBuckets {
    fn new(settings: &LimitSettings) -> ConnectionBuckets {
        let now = Instant::now();
        ConnectionBuckets {
            send: TokenBucket::new(settings.send_per_connection, now),
            read: TokenBucket::new(settings.read_per_connection, now),
            join: TokenBucket::new(settings.join_per_connection, now),
            other: TokenBucket::new(settings.other_per_connection, now),
        }
    }

    fn take(&mut self, action: Action) -> Result<(), ChatError> {
        let now = Instant::now();
        let bucket = match action {
            Action::Send => &mut self.send,
            Action::Read => &mut self.read,
            Action::Join => &mut self.join,
            Action::Other => &mut self.other,
        };
        allow(bucket.try_take(now))
    }
}

#[cfg(test)]
mod tests;
