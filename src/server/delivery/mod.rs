//! The one way out. Everything the server sends to sockets goes through
//! here: [`Outbound`] to a conversation, a user, a session or everyone;
//! [`ack`] and [`to_socket`] to one socket. Behind it, delivery is local:
//! `direct` writes to WebSockets (through `wire`), socketioxide carries
//! the rest. Between nodes, [`cluster`] publishes committed messages and
//! delivers other nodes' through [`Outbound`] too; nothing else emits.
//!
//! - [`fanout`]: committed messages, handed over by the store in commit
//!   order, each acked to its sender and then delivered.
//! - [`presence_feed`]: presence changes and lists, coalesced into flushes.
//! - [`room_feed`]: new public rooms, announced a flush at a time.
//! - [`typing_feed`]: who is typing where, a flush a second at most.
//! - [`direct`], [`wire`]: encoded and framed once, written to every
//!   WebSocket without a task or a copy per recipient.
//! - [`cluster`]: the backplane between nodes (Redis): what this node
//!   commits goes to the others, what they commit comes here, in order.
//! - [`backlog`]: the budget of unsent bytes of sockets on long-polling, or
//!   upgraded from it, which socketioxide carries.

pub mod backlog;
pub mod cluster;
pub mod direct;
pub mod fanout;
pub mod presence_feed;
pub mod room_feed;
pub mod typing_feed;
pub mod wire;

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use serde::Serialize;
use serde_json::value::RawValue;
use socketioxide::extract::SocketRef;
use socketioxide::operators::BroadcastOperators;
use socketioxide::SocketIo;

use super::socket::keys;
use crate::protocol::{ConversationId, Message, UserId, WireMessage};
use crate::server::clock::now_ms;
use crate::server::metrics;

pub use direct::{ack, Event};

/// Who is to hear something.
#[derive(Clone, Copy, Debug)]
pub enum Audience<'a> {
    /// A room's members' sockets, or both parties' of a pair.
    Conversation(&'a ConversationId),
    /// Every socket of one user.
    User(UserId),
    /// Every socket opened with one session (by its token's hash).
    Session(&'a [u8; 32]),
    /// Every socket, except those of `except`.
    Everyone { except: Option<UserId> },
    /// The sockets in one of the presence rooms of `socket::keys`.
    Presence(&'static str),
}

/// The handle every sender holds; cloning is cheap.
#[derive(Clone)]
pub struct Outbound {
    /// Set once the Socket.IO layer exists (it is built from the state
    /// that holds this handle).
    io: Arc<OnceLock<SocketIo>>,
    /// Whether WebSocket recipients are written to directly
    /// (`Config::direct_writes`).
    direct: bool,
    /// The other nodes, when there are (`cluster`): what changes who hears
    /// what is told to them too.
    relay: Arc<OnceLock<cluster::Relay>>,
}

impl Outbound {
    pub fn new(direct: bool) -> Outbound {
        Outbound { io: Arc::default(), direct, relay: Arc::default() }
    }

    /// Connects the handle to the Socket.IO layer; the first call wins.
    pub fn attach(&self, io: SocketIo) {
        let _ = self.io.set(io);
    }

    /// Whether this node hears the other nodes now; `None` when it is
    /// alone.
    pub fn hears_other_nodes(&self) -> Option<bool> {
        self.relay.get().map(cluster::Relay::is_connected)
    }

    /// Connects the handle to the other nodes; the first call wins.
    pub fn attach_relay(&self, relay: cluster::Relay) {
        let _ = self.relay.set(relay);
    }

    /// The sockets of `audience` on this node, or `None` before the layer
    /// exists or once it has closed: `SocketIo`'s shortcuts (`io.to`) panic
    /// when the namespace is gone.
    pub fn recipients(&self, audience: Audience<'_>) -> Option<BroadcastOperators> {
        let sockets = self.io.get()?.of("/")?;
        Some(match audience {
            Audience::Conversation(ConversationId::Room(name)) => sockets.to(keys::chat_room(name)),
            Audience::Conversation(ConversationId::Pair(a, b)) => sockets.to([keys::user(*a), keys::user(*b)]),
            Audience::User(id) => sockets.to(keys::user(id)),
            Audience::Session(hash) => sockets.to(keys::session(hash)),
            Audience::Everyone { except: Some(id) } => sockets.except(keys::user(id)),
            Audience::Everyone { except: None } => sockets,
            Audience::Presence(key) => sockets.to(key),
        })
    }

    /// Open sockets, as `(websocket, polling)` (for metrics, when read).
    pub fn count_by_transport(&self) -> (usize, usize) {
        let Some(sockets) = self.recipients(Audience::Everyone { except: None }) else { return (0, 0) };
        let sockets = sockets.sockets();
        let websocket = sockets.iter().filter(|s| s.transport_type() == socketioxide::TransportType::Websocket).count();
        (websocket, sockets.len() - websocket)
    }

    /// Sends `events`, in order, to `audience`: each serialised once,
    /// however many hear it. A socket that is gone or too slow misses it
    /// live; what it missed it recovers as after any reconnect, so this
    /// only logs.
    pub async fn send(&self, audience: Audience<'_>, events: &[Event<'_>]) -> usize {
        let Some(recipients) = self.recipients(audience) else { return 0 };
        let (reached, outcome) = direct::broadcast(recipients, events, self.direct).await;
        if let Err(error) = outcome {
            tracing::debug!(%error, ?audience, "a send reached only some sockets");
        }
        reached
    }

    /// Sends one event, serialised once.
    pub async fn send_one<T: Serialize + ?Sized>(&self, audience: Audience<'_>, event: &str, data: &T) {
        match serde_json::value::to_raw_value(data) {
            Ok(data) => {
                self.send(audience, &[(event, &data)]).await;
            }
            Err(error) => tracing::warn!(%error, event, "could not encode an event"),
        }
    }

    /// Sends one event to every socket of `user`, on every node (events
    /// meant for one person: `read`, `seen`, `invited`).
    pub async fn tell<T: Serialize + ?Sized>(&self, user: UserId, event: &str, data: &T) {
        let data = match serde_json::value::to_raw_value(data) {
            Ok(data) => data,
            Err(error) => return tracing::warn!(%error, event, "could not encode an event"),
        };
        if let Some(relay) = self.relay.get() {
            relay.tell(user, event, &data);
        }
        self.send(Audience::User(user), &[(event, &data)]).await;
    }

    /// Delivers a committed message to its conversation, in its wire shape:
    /// new, or `changed` (its state after an edit, deletion or reaction).
    pub async fn deliver(&self, message: Message, changed: bool) {
        if let Some(encoded) = Encoded::of(message, changed) {
            self.deliver_encoded(&encoded).await;
        }
    }

    /// Delivers a message encoded already (once per node, however many
    /// sockets hear it: `cluster` relays these bytes between nodes).
    pub async fn deliver_encoded(&self, encoded: &Encoded) {
        let reached =
            self.send(Audience::Conversation(&encoded.conversation), &[(&encoded.event, &encoded.data)]).await;
        let since = encoded.arrived.map(|at| Duration::from_millis(u64::try_from(now_ms() - at).unwrap_or(0)));
        metrics::delivered(reached, since);
    }

    /// Makes every open socket of `user` join (or leave) a chat room, so
    /// that it hears the room live (or no more), on every node.
    pub async fn subscribe(&self, user: UserId, room: &str, join: bool) {
        if let Some(relay) = self.relay.get() {
            relay.control(cluster::Control::Subscribe { user, room: room.to_owned(), join });
        }
        self.subscribe_here(user, room, join).await;
    }

    /// [`Outbound::subscribe`] for this node's sockets only.
    pub async fn subscribe_here(&self, user: UserId, room: &str, join: bool) {
        let Some(sockets) = self.recipients(Audience::User(user)) else { return };
        let room = keys::chat_room(room);
        let moved = if join { sockets.join(room).await } else { sockets.leave(room).await };
        if let Err(error) = moved {
            tracing::debug!(?error, "could not move a user's sockets");
        }
    }

    /// Closes every socket of a session (it was signed out), on every
    /// node.
    pub async fn close_session(&self, token_hash: &[u8; 32]) {
        if let Some(relay) = self.relay.get() {
            relay.control(cluster::Control::CloseSession { token_hash: hex::encode(token_hash) });
        }
        self.close_session_here(token_hash).await;
    }

    /// [`Outbound::close_session`] for this node's sockets only.
    pub async fn close_session_here(&self, token_hash: &[u8; 32]) {
        let Some(sockets) = self.recipients(Audience::Session(token_hash)) else { return };
        if let Err(error) = sockets.disconnect().await {
            tracing::debug!(?error, "some signed-out sockets did not close");
        }
    }

    /// Closes every socket (the server is shutting down).
    pub async fn close_all(&self) {
        if let Some(io) = self.io.get() {
            io.close().await;
        }
    }
}

/// A committed message in its wire shape, serialised once, with where it
/// goes.
#[derive(Debug)]
pub struct Encoded {
    pub conversation: ConversationId,
    /// `message` or `secret`, or their `…_changed` forms.
    pub event: String,
    pub data: Box<RawValue>,
    /// When a new message arrived (for the delivery latency); `None` for a
    /// change.
    pub arrived: Option<i64>,
}

impl Encoded {
    /// `message` as its conversation hears it: new, or `changed`.
    pub fn of(message: Message, changed: bool) -> Option<Encoded> {
        let event = if changed { message.changed_event() } else { message.event() };
        let conversation = message.conversation.clone();
        // A new message's time is when it arrived; a change's is not.
        let arrived = (!changed).then_some(message.at);
        let data = match message.into_wire() {
            WireMessage::Room(message) => serde_json::value::to_raw_value(&message),
            WireMessage::Pair(secret) => serde_json::value::to_raw_value(&secret),
        };
        match data {
            Ok(data) => Some(Encoded { conversation, event: event.to_owned(), data, arrived }),
            Err(error) => {
                tracing::warn!(%error, "a message could not be encoded for delivery");
                None
            }
        }
    }
}

/// Emits to one socket through socketioxide: the `session` that opens every
/// connection, and `error` events. A failure means the socket is gone or
/// too slow to keep up; neither is the sender's problem, so it is logged.
pub fn to_socket<T: Serialize + ?Sized>(socket: &SocketRef, event: &str, data: &T) {
    // Encoded once: its length is what the socket's backlog counts.
    let data = match serde_json::value::to_raw_value(data) {
        Ok(data) => data,
        Err(error) => return tracing::warn!(sid = %socket.id, %event, %error, "an event could not be encoded"),
    };
    if !backlog::admit(socket, || event.len() + data.get().len()) {
        return;
    }
    if let Err(error) = socket.emit(event, &data) {
        tracing::debug!(sid = %socket.id, %event, ?error, "emit failed");
    }
}
