//! The relay task: one per node, between this node's commits, Redis, and
//! this node's sockets.
//!
//! - **Out.** Each message or change this node commits is encoded once
//!   (its wire shape, as sockets get it) and published, those bytes
//!   inside a small envelope ([`Relayed`]), on its conversation's channel:
//!   `rtca:room:NAME` for a room, and for a pair `rtca:user:ID` of each
//!   party (a node hears a pair for the users it has sockets of).
//! - **In.** The node subscribes to the channels of what its sockets hear:
//!   the chat rooms and users that have sockets here (read from the
//!   Socket.IO layer's rooms every [`RECONCILE`], so it never drifts from
//!   who is connected). What others publish is delivered to the local
//!   sockets with the bytes as they came: encoded once per message, not
//!   once per node or socket.
//! - **Order.** Local and relayed items go through one [`Order`], so each
//!   conversation's sockets get `seq` and change numbers in order,
//!   whichever node committed them. A gap open for [`GAP_WAIT`] is filled
//!   from the store (the resume path's reads); so is a conversation whose
//!   last message was lost with nothing after it to reveal it: every
//!   [`TAIL_CHECK`] the store's newest numbers are compared with what was
//!   delivered, in one read for every conversation this node heard lately.
//!   That covers a publish dropped by Redis, a node that crashed between
//!   commit and publish, and Redis restarting (the node subscribes again
//!   and checks every conversation at once).
//!
//! - **Presence.** Each node keeps who is online on it in a Redis hash
//!   (`rtca:presence:NODE`), changed as people come and go and published
//!   live on `rtca:presence`; every [`HEARTBEAT`] it writes the hash whole
//!   again, renewing its expiry, and reads every other node's. A node that
//!   dies stops renewing: its hash expires after [`PRESENCE_TTL`], and the
//!   next read drops its users. `socket::presence` counts every node, so
//!   someone with tabs on two nodes is online once.
//! - **Controls.** What changes who hears what ([`Control`]: a user's
//!   sockets joining or leaving a room, a session signed out) goes to
//!   every node on one channel, `rtca:control`, and each applies it to
//!   its own sockets.
//!
//! Why not socketioxide's Redis adapter: delivery writes straight to
//! WebSockets (`delivery::direct`), past any adapter, and a message lost
//! on the way must be found again by `seq`, which an adapter cannot do.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use tokio::sync::mpsc;

use super::order::{Order, Place};
use crate::protocol::{ConversationId, Message, User, UserId};
use crate::server::delivery::presence_feed::PresenceFeed;
use crate::server::delivery::{Audience, Encoded, Outbound};
use crate::server::metrics;
use crate::server::socket::presence::Presence;
use crate::server::store::{Cursor, Store};

/// How long a gap may stay open before it is filled from the store: long
/// enough for a publish that was only late.
const GAP_WAIT: Duration = Duration::from_millis(200);
/// How often the store's newest numbers are compared with what was
/// delivered (the bound on a lost last message).
const TAIL_CHECK: Duration = Duration::from_secs(1);
/// How often the subscriptions are made to match this node's sockets.
const RECONCILE: Duration = Duration::from_millis(250);
/// How often a lost subscriber connection is tried again.
const RECONNECT: Duration = Duration::from_secs(1);
/// How often the task looks at timers at all.
const TICK: Duration = Duration::from_millis(50);
/// Conversations heard within this are checked against the store.
const RECENTLY: Duration = Duration::from_secs(600);
/// Items read from the store per conversation per heal.
const HEAL_PAGE: usize = 200;
/// Committed items waiting for the relay task; a full queue makes
/// delivery wait (as the store's writer waits for delivery).
const LOCAL_QUEUE: usize = 4096;
/// Envelopes waiting to be published; past it they are dropped (the
/// other nodes fill the gap from the store) rather than hold up delivery.
const PUBLISH_QUEUE: usize = 8192;
/// Conversations checked against the store in one read.
const MAX_TAIL_CHECK: usize = 1000;

/// A committed message or change on its way between nodes: its wire bytes
/// as this node encoded them, and where it goes and stands.
#[derive(Serialize, Deserialize)]
struct Relayed {
    /// The node that committed it (it hears its own publishes: skipped).
    node: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    room: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pair: Option<(UserId, UserId)>,
    seq: i64,
    /// The change number, for a change; 0 for a new message.
    #[serde(default)]
    change: i64,
    event: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    arrived: Option<i64>,
    data: Box<RawValue>,
}

/// What changes who hears what, told to every node (on one channel,
/// [`CONTROL`]: these are rare, unlike messages), which applies it to its
/// own sockets.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Control {
    /// `user`'s sockets join (or leave) a chat room.
    Subscribe { user: UserId, room: String, join: bool },
    /// A session was signed out: its sockets close. The token's hash, in
    /// hex (never the token).
    CloseSession { token_hash: String },
}

/// The channel [`Control`]s travel on; every node subscribes to it.
const CONTROL: &str = "rtca:control";
/// The channel presence changes travel on; every node subscribes to it.
const PRESENCE: &str = "rtca:presence";
/// Each node keeps who is online on it in a hash under this prefix and
/// its id, which expires unless renewed (the node's heartbeat): a node
/// that dies leaves no one online for longer than [`PRESENCE_TTL`] and a
/// [`HEARTBEAT`].
const PRESENCE_KEY: &str = "rtca:presence:";
/// How often a node writes its hash again, and reads every other node's.
const HEARTBEAT: Duration = Duration::from_secs(5);
/// How long a node's hash outlives its last heartbeat.
const PRESENCE_TTL: Duration = Duration::from_secs(15);

/// A user online on one node, or no more there.
#[derive(Serialize, Deserialize)]
struct PresenceEnvelope {
    node: String,
    user: User,
    online: bool,
}

/// What the publisher sends to Redis, in order.
enum Outgoing {
    /// One payload, published on each of these channels.
    Publish(Vec<String>, Vec<u8>),
    /// Commands sent together (a presence hash's change, a heartbeat).
    Commands(redis::Pipeline),
}

/// A [`Control`] from one node.
#[derive(Serialize, Deserialize)]
struct ControlEnvelope {
    node: String,
    control: Control,
}

/// This node's side of the relay, for delivery (`delivery::fanout`) and
/// `Outbound`'s controls.
#[derive(Clone)]
pub struct Relay {
    local: mpsc::Sender<(Encoded, Place)>,
    publish: mpsc::Sender<Outgoing>,
    node: Arc<str>,
    /// Whether this node is subscribed to Redis now (readiness).
    connected: Arc<AtomicBool>,
}

impl Relay {
    /// Hands a message this node committed (new, or `changed`) to the
    /// relay, which publishes it and delivers it here in order.
    pub async fn committed(&self, message: Message, changed: bool) {
        let place = place_of(&message, changed);
        let Some(encoded) = Encoded::of(message, changed) else { return };
        if self.local.send((encoded, place)).await.is_err() {
            tracing::warn!("the relay has stopped; a committed message reaches no socket live");
        }
    }
}

impl Relay {
    /// Whether this node hears the others now: false while Redis is out of
    /// reach (`/readyz` says so).
    pub fn is_connected(&self) -> bool {
        self.connected.load(Ordering::Relaxed)
    }

    /// Tells every other node that `user` is online on this one, or no
    /// more: in this node's hash (what a node reads when it starts or
    /// reconnects) and live, on [`PRESENCE`].
    pub fn presence(&self, user: &User, online: bool) {
        let envelope = PresenceEnvelope { node: self.node.to_string(), user: user.clone(), online };
        let (Ok(payload), Ok(entry)) = (serde_json::to_vec(&envelope), serde_json::to_string(user)) else {
            return tracing::warn!("a presence change could not be encoded");
        };
        let key = format!("{PRESENCE_KEY}{}", self.node);
        let mut commands = redis::pipe();
        if online {
            commands.hset(&key, user.id, entry).ignore();
        } else {
            commands.hdel(&key, user.id).ignore();
        }
        commands.publish(PRESENCE, payload).ignore();
        if self.publish.try_send(Outgoing::Commands(commands)).is_err() {
            tracing::warn!("the publish queue is full; other nodes learn this presence at the next heartbeat");
            metrics::relay_lost();
        }
    }

    /// Tells every other node to apply `control` to its sockets (this node
    /// applies it itself). Dropped, and logged, if the publish queue is
    /// full: such a user hears the room, or keeps a signed-out socket,
    /// until they reconnect.
    pub fn control(&self, control: Control) {
        let envelope = ControlEnvelope { node: self.node.to_string(), control };
        match serde_json::to_vec(&envelope) {
            Ok(payload) => {
                if self.publish.try_send(Outgoing::Publish(vec![CONTROL.to_owned()], payload)).is_err() {
                    tracing::warn!(?envelope.control, "the publish queue is full; another node may not hear this");
                }
            }
            Err(error) => tracing::warn!(%error, "a control could not be encoded"),
        }
    }
}

fn place_of(message: &Message, changed: bool) -> Place {
    if changed {
        Place::Change { change: message.revision.change, seq: message.seq }
    } else {
        Place::New(message.seq)
    }
}

/// Connects to Redis at `url` and starts the relay task, which runs until
/// every [`Relay`] handle is dropped (the store has closed and delivery
/// ended).
pub async fn start(
    url: &str,
    outbound: Outbound,
    store: Arc<dyn Store>,
    presence: Arc<Presence>,
    presence_feed: PresenceFeed,
) -> anyhow::Result<Relay> {
    let client = redis::Client::open(url).map_err(|error| anyhow::anyhow!("cannot use Redis at {url}: {error}"))?;
    // Fails at start rather than later: a node told to join others must.
    let publisher = client
        .get_multiplexed_async_connection()
        .await
        .map_err(|error| anyhow::anyhow!("cannot reach Redis at {url}: {error}"))?;
    let (local, local_queue) = mpsc::channel(LOCAL_QUEUE);
    let (publish, publish_queue) = mpsc::channel(PUBLISH_QUEUE);
    let mut node_id = [0u8; 8];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut node_id);
    let id = hex::encode(node_id);
    let connected = Arc::new(AtomicBool::new(false));
    let relay =
        Relay { local, publish: publish.clone(), node: Arc::from(id.as_str()), connected: Arc::clone(&connected) };
    let node = Node {
        id,
        connected,
        presence,
        presence_feed,
        commands: None,
        outbound,
        store,
        client: client.clone(),
        order: Order::default(),
        subscribed: HashSet::new(),
        publish,
    };
    tokio::spawn(publish_all(client, publisher, publish_queue));
    tokio::spawn(node.run(local_queue));
    Ok(relay)
}

/// Publishes what it is given, in order, on one connection, opened again
/// (at most once per [`RECONNECT`]) after it fails. A publish that fails,
/// or finds no connection, is logged and dropped: its readers fill the gap
/// from the store.
async fn publish_all(
    client: redis::Client,
    connection: redis::aio::MultiplexedConnection,
    mut queue: mpsc::Receiver<Outgoing>,
) {
    let mut connection = Some(connection);
    let mut tried = Instant::now();
    while let Some(outgoing) = queue.recv().await {
        if connection.is_none() && tried.elapsed() >= RECONNECT {
            tried = Instant::now();
            connection = client.get_multiplexed_async_connection().await.ok();
        }
        let Some(open) = connection.as_mut() else {
            metrics::relay_lost();
            continue;
        };
        let sent: redis::RedisResult<()> = match &outgoing {
            Outgoing::Publish(channels, payload) => {
                let mut publishes = redis::pipe();
                for channel in channels {
                    publishes.publish(channel, payload).ignore();
                }
                publishes.query_async(open).await
            }
            Outgoing::Commands(commands) => commands.query_async(open).await,
        };
        match sent {
            Ok(()) if matches!(outgoing, Outgoing::Publish(..)) => metrics::relayed("out", 1),
            Ok(()) => {}
            Err(error) => {
                tracing::warn!(%error, "a publish to the other nodes failed");
                metrics::relay_lost();
                connection = None;
            }
        }
    }
}

struct Node {
    id: String,
    connected: Arc<AtomicBool>,
    presence: Arc<Presence>,
    presence_feed: PresenceFeed,
    /// For reading the other nodes' presence hashes; opened when needed.
    commands: Option<redis::aio::MultiplexedConnection>,
    outbound: Outbound,
    store: Arc<dyn Store>,
    client: redis::Client,
    order: Order<Encoded>,
    /// The channels subscribed to, as the last reconcile left them.
    subscribed: HashSet<String>,
    publish: mpsc::Sender<Outgoing>,
}

/// The channels a conversation is published on.
fn channels_of(conversation: &ConversationId) -> Vec<String> {
    match conversation {
        ConversationId::Room(name) => vec![format!("rtca:room:{name}")],
        ConversationId::Pair(a, b) => vec![format!("rtca:user:{a}"), format!("rtca:user:{b}")],
    }
}

/// The channel a Socket.IO room of this node's stands for, if any: a chat
/// room's, or a user's (for their private conversations).
fn channel_of_socket_room(room: &str) -> Option<String> {
    if let Some(user) = room.strip_prefix("user:") {
        return user.parse::<UserId>().ok().map(|id| format!("rtca:user:{id}"));
    }
    // A chat room's Socket.IO room is its bare name; every other name
    // (sessions, presence) has a `:` (`socket::keys`).
    (!room.contains(':') && !room.is_empty()).then(|| format!("rtca:room:{room}"))
}

impl Node {
    async fn run(mut self, mut local: mpsc::Receiver<(Encoded, Place)>) {
        let mut sink: Option<redis::aio::PubSubSink> = None;
        let mut stream: Option<redis::aio::PubSubStream> = None;
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let (mut reconciled, mut tail_checked, mut forgot) = (Instant::now(), Instant::now(), Instant::now());
        // When this node last wrote its presence and read the others'.
        let mut beat: Option<Instant> = None;
        // When a subscriber connection was last tried (`None`: never).
        let mut tried: Option<Instant> = None;
        loop {
            tokio::select! {
                item = local.recv() => {
                    let Some((encoded, place)) = item else { break };
                    self.publish(&encoded, place);
                    let now = Instant::now();
                    let conversation = encoded.conversation.clone();
                    for ready in self.order.offer(&conversation, place, encoded, now) {
                        self.outbound.deliver_encoded(&ready).await;
                    }
                }
                relayed = next_message(&mut stream) => {
                    match relayed {
                        Some((channel, payload)) if channel == CONTROL => self.controlled(&payload).await,
                        Some((channel, payload)) if channel == PRESENCE => self.presence_changed(&payload),
                        Some((_, payload)) => self.relayed(&payload).await,
                        None => {
                            tracing::warn!("lost the connection to Redis; subscribing again");
                            (sink, stream) = (None, None);
                            self.connected.store(false, Ordering::Relaxed);
                        }
                    }
                }
                _ = tick.tick() => {
                    let now = Instant::now();
                    if sink.is_none() && tried.is_none_or(|at| now.duration_since(at) >= RECONNECT) {
                        tried = Some(now);
                        if let Some((mut new_sink, new_stream)) = self.connect().await {
                            if self.reconcile(&mut new_sink).await {
                                (sink, stream) = (Some(new_sink), Some(new_stream));
                                self.connected.store(true, Ordering::Relaxed);
                                // Redis may have restarted empty: write and read presence now.
                                beat = None;
                                reconciled = now;
                                // Whatever was published meanwhile is in the store.
                                self.check_tails(now, true).await;
                            }
                        }
                    }
                    if let Some(open) = sink.as_mut() {
                        if now.duration_since(reconciled) >= RECONCILE {
                            reconciled = now;
                            if !self.reconcile(open).await {
                                (sink, stream) = (None, None);
                                self.connected.store(false, Ordering::Relaxed);
                            }
                        }
                    }
                    for ready in self.order.settle(now) {
                        self.outbound.deliver_encoded(&ready).await;
                    }
                    self.heal_gaps(now).await;
                    if now.duration_since(tail_checked) >= TAIL_CHECK {
                        tail_checked = now;
                        self.check_tails(now, false).await;
                    }
                    if sink.is_some() && beat.is_none_or(|at| now.duration_since(at) >= HEARTBEAT) {
                        beat = Some(now);
                        self.heartbeat();
                        self.read_other_nodes().await;
                    }
                    if now.duration_since(forgot) >= RECENTLY {
                        forgot = now;
                        self.order.forget_idle(now, RECENTLY);
                    }
                }
            }
        }
    }

    /// Opens a subscriber connection (the subscriptions are made by the
    /// next reconcile).
    async fn connect(&mut self) -> Option<(redis::aio::PubSubSink, redis::aio::PubSubStream)> {
        match self.client.get_async_pubsub().await {
            Ok(pubsub) => {
                self.subscribed.clear();
                Some(pubsub.split())
            }
            Err(error) => {
                tracing::warn!(%error, "cannot subscribe to Redis yet");
                None
            }
        }
    }

    /// Publishes a local commit for the other nodes.
    fn publish(&self, encoded: &Encoded, place: Place) {
        let (seq, change) = match place {
            Place::New(seq) => (seq, 0),
            Place::Change { change, seq } => (seq, change),
        };
        let (room, pair) = match &encoded.conversation {
            ConversationId::Room(name) => (Some(name.clone()), None),
            ConversationId::Pair(a, b) => (None, Some((*a, *b))),
        };
        let envelope = Relayed {
            node: self.id.clone(),
            room,
            pair,
            seq,
            change,
            event: encoded.event.clone(),
            arrived: encoded.arrived,
            data: encoded.data.clone(),
        };
        match serde_json::to_vec(&envelope) {
            Ok(payload) => {
                if self.publish.try_send(Outgoing::Publish(channels_of(&encoded.conversation), payload)).is_err() {
                    tracing::warn!("the publish queue is full; other nodes will read this message from the store");
                    metrics::relay_lost();
                }
            }
            Err(error) => tracing::warn!(%error, "a message could not be enveloped for the other nodes"),
        }
    }

    /// What another node published.
    async fn relayed(&mut self, payload: &[u8]) {
        let envelope: Relayed = match serde_json::from_slice(payload) {
            Ok(envelope) => envelope,
            Err(error) => return tracing::warn!(%error, "an unreadable envelope from Redis"),
        };
        if envelope.node == self.id {
            return;
        }
        metrics::relayed("in", 1);
        let conversation = match (envelope.room, envelope.pair) {
            (Some(name), None) => ConversationId::room(name),
            (None, Some((a, b))) => ConversationId::pair(a, b),
            _ => return tracing::warn!("an envelope from Redis names no conversation"),
        };
        let place = if envelope.change > 0 {
            Place::Change { change: envelope.change, seq: envelope.seq }
        } else {
            Place::New(envelope.seq)
        };
        let encoded = Encoded {
            conversation: conversation.clone(),
            event: envelope.event,
            data: envelope.data,
            arrived: envelope.arrived,
        };
        for ready in self.order.offer(&conversation, place, encoded, Instant::now()) {
            self.outbound.deliver_encoded(&ready).await;
        }
    }

    /// What another node told every node to do to its sockets.
    async fn controlled(&self, payload: &[u8]) {
        let envelope: ControlEnvelope = match serde_json::from_slice(payload) {
            Ok(envelope) => envelope,
            Err(error) => return tracing::warn!(%error, "an unreadable control from Redis"),
        };
        if envelope.node == self.id {
            return;
        }
        match envelope.control {
            Control::Subscribe { user, room, join } => self.outbound.subscribe_here(user, &room, join).await,
            Control::CloseSession { token_hash } => {
                let mut hash = [0u8; 32];
                match hex::decode_to_slice(&token_hash, &mut hash) {
                    Ok(()) => self.outbound.close_session_here(&hash).await,
                    Err(error) => tracing::warn!(%error, "a control named no session"),
                }
            }
        }
    }

    /// Another node's presence change, live.
    fn presence_changed(&self, payload: &[u8]) {
        let envelope: PresenceEnvelope = match serde_json::from_slice(payload) {
            Ok(envelope) => envelope,
            Err(error) => return tracing::warn!(%error, "an unreadable presence change from Redis"),
        };
        if envelope.node != self.id && self.presence.remote_change(&envelope.node, &envelope.user, envelope.online) {
            self.presence_feed.changed_elsewhere(envelope.user);
        }
    }

    /// Writes who is online on this node, whole, into its hash, renewing
    /// its expiry (Redis may have restarted empty since).
    fn heartbeat(&self) {
        let key = format!("{PRESENCE_KEY}{}", self.id);
        let mut commands = redis::pipe();
        commands.atomic().del(&key).ignore();
        let entries: Vec<(UserId, String)> = self
            .presence
            .local_users()
            .into_iter()
            .filter_map(|user| Some((user.id, serde_json::to_string(&user).ok()?)))
            .collect();
        if !entries.is_empty() {
            commands.hset_multiple(&key, &entries).ignore();
        }
        commands.expire(&key, i64::try_from(PRESENCE_TTL.as_secs()).unwrap_or(15)).ignore();
        if self.publish.try_send(Outgoing::Commands(commands)).is_err() {
            tracing::warn!("the publish queue is full; this node's heartbeat waits for the next");
        }
    }

    /// Reads every other node's hash (a node whose hash expired is gone,
    /// and so are its users), and tells this node's sockets what changed.
    async fn read_other_nodes(&mut self) {
        if self.commands.is_none() {
            self.commands = self.client.get_multiplexed_async_connection().await.ok();
        }
        let Some(commands) = self.commands.as_mut() else { return };
        let read = read_presence_hashes(commands, &self.id).await;
        match read {
            Ok(nodes) => {
                for user in self.presence.remote_nodes(nodes) {
                    self.presence_feed.changed_elsewhere(user);
                }
            }
            Err(error) => {
                tracing::warn!(%error, "could not read the other nodes' presence");
                self.commands = None;
            }
        }
    }

    /// Subscribes to the channels of what this node's sockets hear, and
    /// unsubscribes from the rest. Returns false if the connection failed.
    async fn reconcile(&mut self, sink: &mut redis::aio::PubSubSink) -> bool {
        let Some(everyone) = self.outbound.recipients(Audience::Everyone { except: None }) else {
            return true;
        };
        let rooms = match everyone.rooms().await {
            Ok(rooms) => rooms,
            Err(error) => {
                tracing::debug!(?error, "could not list this node's rooms");
                return true;
            }
        };
        let mut wanted: HashSet<String> = rooms.iter().filter_map(|room| channel_of_socket_room(room)).collect();
        wanted.insert(CONTROL.to_owned());
        wanted.insert(PRESENCE.to_owned());
        let new: Vec<&String> = wanted.difference(&self.subscribed).collect();
        let gone: Vec<&String> = self.subscribed.difference(&wanted).collect();
        if !new.is_empty() {
            if let Err(error) = sink.subscribe(&new).await {
                tracing::warn!(%error, "could not subscribe");
                return false;
            }
        }
        if !gone.is_empty() {
            if let Err(error) = sink.unsubscribe(&gone).await {
                tracing::warn!(%error, "could not unsubscribe");
                return false;
            }
        }
        self.subscribed = wanted;
        true
    }

    /// Fills every gap open for [`GAP_WAIT`] from the store.
    async fn heal_gaps(&mut self, now: Instant) {
        for (conversation, seq, change) in self.order.gaps(now, GAP_WAIT) {
            self.heal(&conversation, seq, change).await;
        }
    }

    /// Compares the store's newest numbers with what was delivered, for
    /// every conversation heard lately (`all`: however long ago), and
    /// fills what is missing.
    async fn check_tails(&mut self, now: Instant, all: bool) {
        let recently = if all { Duration::MAX } else { RECENTLY };
        let mut lines = self.order.recent(now, recently);
        lines.truncate(MAX_TAIL_CHECK);
        if lines.is_empty() {
            return;
        }
        let conversations: Vec<ConversationId> = lines.iter().map(|(conversation, ..)| conversation.clone()).collect();
        let heads = match self.store.heads(&conversations).await {
            Ok(heads) => heads,
            Err(error) => return tracing::warn!(%error, "could not read the store's newest numbers"),
        };
        for ((conversation, seq, change), (last_seq, last_change)) in lines.into_iter().zip(heads) {
            let behind = seq.is_some_and(|seq| last_seq > seq) || change.is_some_and(|change| last_change > change);
            if behind {
                self.heal(&conversation, seq, change).await;
            }
        }
    }

    /// Reads what the store has past `seq` and `change` (the numbers
    /// delivered last) and delivers it, in order.
    async fn heal(&mut self, conversation: &ConversationId, seq: Option<i64>, change: Option<i64>) {
        let mut read = Vec::new();
        if let Some(seq) = seq {
            match self.store.page(conversation, Cursor::After(seq), HEAL_PAGE).await {
                Ok(messages) => read.extend(messages.into_iter().map(|m| (Place::New(m.seq), m, false))),
                Err(error) => return tracing::warn!(%error, "could not read missed messages"),
            }
        }
        if let Some(change) = change {
            match self.store.changed_since(conversation, change, HEAL_PAGE).await {
                Ok(messages) => read.extend(
                    messages.into_iter().map(|m| (Place::Change { change: m.revision.change, seq: m.seq }, m, true)),
                ),
                Err(error) => return tracing::warn!(%error, "could not read missed changes"),
            }
        }
        let read: Vec<(Place, Encoded)> = read
            .into_iter()
            .filter_map(|(place, message, changed)| Encoded::of(message, changed).map(|encoded| (place, encoded)))
            .collect();
        metrics::relay_healed(read.len());
        for ready in self.order.healed(conversation, read, Instant::now()) {
            self.outbound.deliver_encoded(&ready).await;
        }
    }
}

/// Every node's presence hash but `own`'s: who is online on each.
async fn read_presence_hashes(
    commands: &mut redis::aio::MultiplexedConnection,
    own: &str,
) -> redis::RedisResult<HashMap<String, HashMap<UserId, User>>> {
    let mut keys: Vec<String> = Vec::new();
    let mut cursor: u64 = 0;
    loop {
        let (next, found): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(format!("{PRESENCE_KEY}*"))
            .arg("COUNT")
            .arg(1000)
            .query_async(commands)
            .await?;
        keys.extend(found);
        if next == 0 {
            break;
        }
        cursor = next;
    }
    let mut nodes = HashMap::new();
    for key in keys {
        let Some(node) = key.strip_prefix(PRESENCE_KEY) else { continue };
        if node == own {
            continue;
        }
        let entries: HashMap<UserId, String> = redis::cmd("HGETALL").arg(&key).query_async(commands).await?;
        let users: HashMap<UserId, User> =
            entries.into_iter().filter_map(|(id, user)| Some((id, serde_json::from_str(&user).ok()?))).collect();
        nodes.insert(node.to_owned(), users);
    }
    Ok(nodes)
}

/// The next channel and payload on the subscriber stream; never resolves
/// while there is none (so `select!` waits on the other branches), `None`
/// once it ends.
async fn next_message(stream: &mut Option<redis::aio::PubSubStream>) -> Option<(String, Vec<u8>)> {
    match stream {
        Some(stream) => stream
            .next()
            .await
            .map(|message| (message.get_channel_name().to_owned(), message.get_payload_bytes().to_vec())),
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_travel_as_tagged_json() {
        let control = Control::Subscribe { user: 7, room: "team".into(), join: true };
        let json = serde_json::to_string(&control).unwrap_or_default();
        assert_eq!(json, r#"{"kind":"subscribe","user":7,"room":"team","join":true}"#);
        assert_eq!(serde_json::from_str::<Control>(&json).ok(), Some(control));
    }

    #[test]
    fn chat_rooms_and_users_have_channels_and_nothing_else_does() {
        assert_eq!(channel_of_socket_room("lobby").as_deref(), Some("rtca:room:lobby"));
        assert_eq!(channel_of_socket_room("team-1").as_deref(), Some("rtca:room:team-1"));
        assert_eq!(channel_of_socket_room("user:42").as_deref(), Some("rtca:user:42"));
        assert_eq!(channel_of_socket_room("user:x"), None);
        assert_eq!(channel_of_socket_room("session:abcd"), None);
        assert_eq!(channels_of(&ConversationId::pair(7, 3)), ["rtca:user:3", "rtca:user:7"]);
    }
}
