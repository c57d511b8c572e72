//! The relay task: one per node, between this node's commits, Redis, and
//! this node's sockets.
//!
//! - **Out.** Each message or change this node commits is encoded once
//!   (its wire shape, as sockets get it) and published, those bytes
//!   inside a small envelope ([`Relayed`]), on its conversation's channel:
//!   `rtca:room:NAME` for a room, and for a pair `rtca:user:ID` of each
//!   party (a node hears a pair for the users it has sockets of).
//! - **In.** The node subscribes to the channels of what its sockets hear
//!   (`channels`): the chat rooms and users that have sockets here (read
//!   from the Socket.IO layer's rooms every [`RECONCILE`], so it never
//!   drifts from who is connected). What others publish is delivered to the local
//!   sockets with the bytes as they came: encoded once per message, not
//!   once per node or socket.
//! - **Order.** Local and relayed items go through one [`Order`], so each
//!   conversation's sockets get `seq` and change numbers in order,
//!   whichever node committed them; what was missed is read from the store
//!   (`heal`): a gap once it has been open a moment, and a lost last
//!   message, which nothing later reveals, by comparing the store's newest
//!   numbers with what was delivered every [`TAIL_CHECK`], for the
//!   conversations heard most lately. One found behind twice running, with
//!   nothing delivered in between, is filled (once only, it could be this
//!   node's own commit still on its way from the store's writer). That
//!   covers a publish dropped by Redis or never made (a node that crashed
//!   between commit and publish), and Redis restarting.
//! - **Presence** (`presence`), **controls** (`control`), **passing
//!   news** (`passing`: typing, events for one person) and **limits**
//!   (`limits`: what clients spent, who holds many connections) use the
//!   same connections; `publisher` sends everything out, in order.
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

use super::channels::{channels_of, conversation_named, envelope_fields};
use super::control::CONTROL;
use super::heal::{RECENTLY, TAIL_CHECK};
use super::limits::{LIMITS, SHARE_EVERY};
use super::order::{Order, Place};
use super::passing::PassingEnvelope;
use super::presence::{HEARTBEAT, PRESENCE};
use super::publisher::{publish_all, Outgoing, RECONNECT};
use crate::protocol::{ConversationId, Message, UserId};
use crate::server::delivery::presence_feed::PresenceFeed;
use crate::server::delivery::room_feed::RoomFeed;
use crate::server::delivery::typing_feed::TypingFeed;
use crate::server::delivery::{Encoded, Outbound};
use crate::server::limits::Limits;
use crate::server::metrics;
use crate::server::socket::presence::Presence;
use crate::server::store::Store;

/// How often the subscriptions are made to match this node's sockets.
const RECONCILE: Duration = Duration::from_millis(250);
/// How often the task looks at timers at all.
const TICK: Duration = Duration::from_millis(50);
/// Committed items waiting for the relay task; a full queue makes
/// delivery wait (as the store's writer waits for delivery).
const LOCAL_QUEUE: usize = 4096;
/// Envelopes waiting to be published; past it they are dropped (the
/// other nodes fill the gap from the store) rather than hold up delivery.
const PUBLISH_QUEUE: usize = 8192;

/// A committed message or change on its way between nodes: its wire bytes
/// as this node encoded them, and where it goes and stands. Written with
/// borrowed text and bytes (`&str`, `&RawValue`: the encoded message is
/// copied once, into the payload), read back owned.
#[derive(Serialize, Deserialize)]
struct Relayed<S, D> {
    /// The node that committed it (it hears its own publishes: skipped).
    node: S,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    room: Option<S>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pair: Option<(UserId, UserId)>,
    seq: i64,
    /// The change number, for a change; 0 for a new message.
    #[serde(default)]
    change: i64,
    event: S,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    arrived: Option<i64>,
    data: D,
}

/// This node's side of the relay, for delivery (`delivery::fanout`) and
/// `Outbound`'s controls.
#[derive(Clone)]
pub struct Relay {
    local: mpsc::Sender<(Encoded, Place)>,
    pub(super) publish: mpsc::Sender<Outgoing>,
    pub(super) node: Arc<str>,
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

    /// Whether this node hears the others now: false while Redis is out of
    /// reach (`/readyz` says so).
    pub fn is_connected(&self) -> bool {
        self.connected.load(Ordering::Relaxed)
    }
}

fn place_of(message: &Message, changed: bool) -> Place {
    if changed {
        Place::Change { change: message.revision.change, seq: message.seq }
    } else {
        Place::New(message.seq)
    }
}

/// The parts of this node the other nodes speak to: its feeds (who is
/// online, who types, which rooms were created) and its limits.
pub struct Parts {
    pub presence_feed: PresenceFeed,
    pub typing: TypingFeed,
    pub rooms: RoomFeed,
    pub limits: Arc<Limits>,
}

/// Connects to Redis at `url` and starts the relay task, which runs until
/// every [`Relay`] handle is dropped (the store has closed and delivery
/// ended).
pub async fn start(
    url: &str,
    outbound: Outbound,
    store: Arc<dyn Store>,
    presence: Arc<Presence>,
    parts: Parts,
) -> anyhow::Result<Relay> {
    // The URL may carry a password: errors name its host only.
    let host = url.rsplit('@').next().unwrap_or(url);
    let client = redis::Client::open(url).map_err(|error| anyhow::anyhow!("cannot use Redis at {host}: {error}"))?;
    // Fails at start rather than later: a node told to join others must.
    let publisher = client
        .get_multiplexed_async_connection()
        .await
        .map_err(|error| anyhow::anyhow!("cannot reach Redis at {host}: {error}"))?;
    let (local, local_queue) = mpsc::channel(LOCAL_QUEUE);
    let (publish, publish_queue) = mpsc::channel(PUBLISH_QUEUE);
    let mut node_id = [0u8; 8];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut node_id);
    let id = hex::encode(node_id);
    let connected = Arc::new(AtomicBool::new(false));
    parts.limits.share_with_other_nodes();
    let relay =
        Relay { local, publish: publish.clone(), node: Arc::from(id.as_str()), connected: Arc::clone(&connected) };
    let node = Node {
        id,
        connected,
        presence,
        presence_feed: parts.presence_feed,
        typing: parts.typing,
        rooms: parts.rooms,
        limits: parts.limits,
        said_held: false,
        commands: None,
        presence_read_at: None,
        behind: HashMap::new(),
        outbound,
        store,
        client: client.clone(),
        order: Order::default(),
        subscribed: HashSet::new(),
        wanted: HashSet::new(),
        publish,
    };
    tokio::spawn(publish_all(client, publisher, publish_queue));
    tokio::spawn(node.run(local_queue));
    Ok(relay)
}

/// The relay task's state (its methods are here, in `presence` and in
/// `control`).
pub(super) struct Node {
    pub(super) id: String,
    connected: Arc<AtomicBool>,
    pub(super) presence: Arc<Presence>,
    pub(super) presence_feed: PresenceFeed,
    pub(super) typing: TypingFeed,
    pub(super) rooms: RoomFeed,
    pub(super) limits: Arc<Limits>,
    /// Whether the last limits report named connections held here.
    pub(super) said_held: bool,
    /// For reading the other nodes' presence hashes; opened when needed.
    pub(super) commands: Option<redis::aio::MultiplexedConnection>,
    /// When the other nodes' presence was last read.
    pub(super) presence_read_at: Option<Instant>,
    pub(super) outbound: Outbound,
    pub(super) store: Arc<dyn Store>,
    pub(super) client: redis::Client,
    pub(super) order: Order<Encoded>,
    /// The channels subscribed to, as the last reconcile left them
    /// (emptied with a lost connection).
    pub(super) subscribed: HashSet<String>,
    /// The channels this node's sockets heard at the last reconcile
    /// (kept across a lost connection).
    pub(super) wanted: HashSet<String>,
    /// Conversations the last tail check found the store ahead of, with
    /// what had been delivered then.
    pub(super) behind: HashMap<ConversationId, (Option<i64>, Option<i64>)>,
    pub(super) publish: mpsc::Sender<Outgoing>,
}

impl Node {
    async fn run(mut self, mut local: mpsc::Receiver<(Encoded, Place)>) {
        let mut sink: Option<redis::aio::PubSubSink> = None;
        let mut stream: Option<redis::aio::PubSubStream> = None;
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let (mut reconciled, mut tail_checked, mut forgot) = (Instant::now(), Instant::now(), Instant::now());
        let mut shared_limits = Instant::now();
        // When this node last wrote its presence and read the others'.
        let mut beat: Option<Instant> = None;
        // When a subscriber connection was last tried (`None`: never).
        let mut tried: Option<Instant> = None;
        loop {
            let settle_at = self.order.next_settle();
            tokio::select! {
                item = local.recv() => {
                    let Some((encoded, place)) = item else { break };
                    self.committed_here(encoded, place).await;
                }
                relayed = next_message(&mut stream) => {
                    match relayed {
                        Some((channel, payload)) if channel == CONTROL => self.controlled(&payload).await,
                        Some((channel, payload)) if channel == PRESENCE => self.presence_changed(&payload),
                        Some((channel, payload)) if channel == LIMITS => self.limits_heard(&payload),
                        Some((_, payload)) => self.relayed(&payload).await,
                        None => {
                            tracing::warn!("lost the connection to Redis; subscribing again");
                            (sink, stream) = (None, None);
                            self.connected.store(false, Ordering::Relaxed);
                        }
                    }
                }
                // A numbering new here goes out the moment it has settled,
                // not at the next tick.
                _ = sleep_until(settle_at) => {
                    for ready in self.order.settle(Instant::now()) {
                        self.outbound.deliver_encoded(&ready).await;
                    }
                }
                _ = tick.tick() => {
                    let now = Instant::now();
                    if sink.is_none() && tried.is_none_or(|at| now.duration_since(at) >= RECONNECT) {
                        tried = Some(now);
                        if let Some((mut new_sink, new_stream)) = self.connect().await {
                            if self.reconcile(&mut new_sink, &mut local).await {
                                (sink, stream) = (Some(new_sink), Some(new_stream));
                                self.connected.store(true, Ordering::Relaxed);
                                // Redis may have restarted empty: write and read presence now.
                                beat = None;
                                reconciled = now;
                            }
                        }
                    }
                    if let Some(open) = sink.as_mut() {
                        if now.duration_since(reconciled) >= RECONCILE {
                            reconciled = now;
                            if !self.reconcile(open, &mut local).await {
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
                        self.check_tails(now).await;
                    }
                    // Whether or not this node hears the others: its
                    // presence must not expire while it lives.
                    if beat.is_none_or(|at| now.duration_since(at) >= HEARTBEAT) {
                        beat = Some(now);
                        self.heartbeat();
                        self.read_other_nodes(now).await;
                    }
                    if now.duration_since(shared_limits) >= SHARE_EVERY {
                        shared_limits = now;
                        self.share_limits();
                    }
                    if now.duration_since(forgot) >= RECENTLY {
                        forgot = now;
                        // Rooms still heard keep their place (bounded by
                        // this node's subscriptions); the rest start again.
                        let wanted = &self.wanted;
                        self.order.forget_idle(now, RECENTLY, |conversation| {
                            conversation.room_name().is_some_and(|_| channels_of(conversation).iter().all(|c| wanted.contains(c)))
                        });
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

    /// A commit of this node's: published for the others, and delivered
    /// here in order.
    pub(super) async fn committed_here(&mut self, encoded: Encoded, place: Place) {
        self.publish(&encoded, place);
        let conversation = encoded.conversation.clone();
        for ready in self.order.offer(&conversation, place, encoded, Instant::now()) {
            self.outbound.deliver_encoded(&ready).await;
        }
    }

    /// Publishes a local commit for the other nodes.
    fn publish(&self, encoded: &Encoded, place: Place) {
        let (seq, change) = match place {
            Place::New(seq) => (seq, 0),
            Place::Change { change, seq } => (seq, change),
        };
        let (room, pair) = envelope_fields(&encoded.conversation);
        let envelope = Relayed {
            node: self.id.as_str(),
            room,
            pair,
            seq,
            change,
            event: encoded.event.as_str(),
            arrived: encoded.arrived,
            data: &*encoded.data,
        };
        match serde_json::to_vec(&envelope) {
            Ok(payload) => {
                let outgoing = Outgoing::Publish { channels: channels_of(&encoded.conversation), payload, keep: false };
                if self.publish.try_send(outgoing).is_err() {
                    tracing::warn!("the publish queue is full; other nodes will read this message from the store");
                    metrics::relay_lost();
                }
            }
            Err(error) => tracing::warn!(%error, "a message could not be enveloped for the other nodes"),
        }
    }

    /// What another node published on a conversation's or user's
    /// channel: a numbered item, or passing news.
    async fn relayed(&mut self, payload: &[u8]) {
        let envelope: Relayed<String, Box<RawValue>> = match serde_json::from_slice(payload) {
            Ok(envelope) => envelope,
            // Passing news has no `seq`, so is never taken for an item.
            Err(error) => match serde_json::from_slice::<PassingEnvelope<String, Box<RawValue>>>(payload) {
                Ok(passing) => return self.passed(passing).await,
                Err(_) => return tracing::warn!(%error, "an unreadable envelope from Redis"),
            },
        };
        if envelope.node == self.id {
            return;
        }
        metrics::relayed("in", 1);
        if let Some(arrived) = envelope.arrived {
            let lag = u64::try_from(crate::server::clock::now_ms().saturating_sub(arrived)).unwrap_or(0);
            metrics::relay_lag(Duration::from_millis(lag));
        }
        let Some(conversation) = conversation_named(envelope.room, envelope.pair) else {
            return tracing::warn!("an envelope from Redis names no conversation");
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
}

/// Waits until `at`; never resolves for `None` (so `select!` waits on the
/// other branches).
async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
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
