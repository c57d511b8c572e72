//! The browser's Socket.IO client: Engine.IO v4 over gloo-net's WebSocket,
//! or long-polling when a WebSocket cannot be opened ([`super::transport`]).
//!
//! One task owns the connection. It opens a transport, joins namespace `/`
//! (the session cookie travels with the handshake request), answers pings,
//! matches acks to the emits that asked for them, and reconnects with
//! jittered exponential backoff when the connection drops or goes quiet.
//! Everything it hears goes to one callback; the UI never sees frames.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use futures::channel::{mpsc, oneshot};
use futures::{select, FutureExt, SinkExt, StreamExt};
use gloo_timers::future::TimeoutFuture;

use super::transport::{self, Inbound, Kind, Link};
use crate::chat_state::ConnStatus;
use crate::engine_io::{
    decode_engine, decode_socket, encode_connect, encode_event, EnginePacket, RawPayload, SocketPacket, PONG,
};
use crate::error::{code, ApiError};
use crate::protocol::{HandshakeAuth, BATCHED_PRESENCE};

/// Emits waiting to be written; past this the UI is told to slow down.
const COMMAND_QUEUE: usize = 256;
/// Emits waiting for their ack at once.
const MAX_PENDING_ACKS: usize = 256;
/// How long an emit waits for its ack.
const ACK_TIMEOUT_MS: u32 = 10_000;
const BACKOFF_MIN_MS: f64 = 500.0;
const BACKOFF_MAX_MS: f64 = 10_000.0;

/// What the connection task reports.
pub enum SocketEvent {
    Status(ConnStatus),
    /// The namespace accepted us (first time or after a reconnect).
    Connected {
        reconnect: bool,
    },
    Event {
        name: String,
        data: RawPayload,
    },
}

enum Command {
    Emit { event: String, data: RawPayload, reply: oneshot::Sender<Result<RawPayload, ApiError>> },
    Reconnect,
}

/// A cheap handle to the connection task.
#[derive(Clone)]
pub struct SocketClient {
    commands: mpsc::Sender<Command>,
}

impl SocketClient {
    /// Starts the connection task; `on_event` receives everything it hears.
    pub fn start(on_event: impl Fn(SocketEvent) + 'static) -> SocketClient {
        let (commands, queue) = mpsc::channel(COMMAND_QUEUE);
        wasm_bindgen_futures::spawn_local(run(queue, Rc::new(on_event)));
        SocketClient { commands }
    }

    /// Emits `event` with `data`, JSON text, and waits for the server's ack.
    pub async fn emit_with_ack(&self, event: &str, data: RawPayload) -> Result<RawPayload, ApiError> {
        let (reply, answer) = oneshot::channel();
        self.commands
            .clone()
            .try_send(Command::Emit { event: event.to_owned(), data, reply })
            .map_err(|_| ApiError::new(code::BUSY, "Too many messages are waiting to be sent. Wait a moment."))?;
        select! {
            answer = answer.fuse() => answer.unwrap_or_else(|_| Err(disconnected())),
            _ = TimeoutFuture::new(ACK_TIMEOUT_MS).fuse() =>
                Err(ApiError::new(code::TIMEOUT, "The server did not answer in time. Check your connection.")),
        }
    }

    /// Drops the connection and opens a new one now (after signing in, so the
    /// new session cookie is used).
    pub fn reconnect(&self) {
        let _ = self.commands.clone().try_send(Command::Reconnect);
    }
}

/// An emit that never went out: it may be sent again as it is.
fn disconnected() -> ApiError {
    ApiError::new(code::DISCONNECTED, "Not connected to the server. Your message was not sent.")
}

/// An emit that went out and whose answer was lost with the connection.
fn unanswered() -> ApiError {
    ApiError::new(code::TIMEOUT, "The connection dropped before the server answered. Check your connection.")
}

fn browser_offline() -> bool {
    web_sys::window().is_some_and(|w| !w.navigator().on_line())
}

/// Delay before reconnect attempt `attempt` (1-based): doubling from 0.5 s
/// to 10 s, with ±25% jitter so a restarted server is not hit all at once.
fn backoff_ms(attempt: u32) -> u32 {
    let base = (BACKOFF_MIN_MS * 2f64.powi(attempt.saturating_sub(1).min(16) as i32)).min(BACKOFF_MAX_MS);
    let jitter = 0.75 + js_sys::Math::random() * 0.5;
    (base * jitter) as u32
}

enum Ended {
    /// The connection dropped. `opened`: the server's open packet came;
    /// `was_up`: the namespace accepted us too; `on`: the transport in use.
    Lost {
        was_up: bool,
        opened: bool,
        on: Kind,
    },
    Reconnect,
    /// Every handle is gone: stop for good.
    Shutdown,
}

async fn run(mut commands: mpsc::Receiver<Command>, on_event: Rc<dyn Fn(SocketEvent)>) {
    let mut attempt = 0u32;
    let mut ever_connected = false;
    let mut transport = Kind::WebSocket;
    loop {
        match connection(transport, &mut commands, &on_event, ever_connected).await {
            Ended::Shutdown => return,
            Ended::Reconnect => {
                ever_connected = true;
                attempt = 0;
                continue;
            }
            Ended::Lost { was_up, opened, on } => {
                ever_connected |= was_up;
                if on == Kind::WebSocket && !opened && !browser_offline() {
                    // The WebSocket could not be opened (blocked on the way,
                    // perhaps): try long-polling right away.
                    transport = Kind::Polling;
                    continue;
                }
                // Start the next round on a WebSocket, unless polling is
                // what worked last time (it probes for a WebSocket itself).
                transport = if on == Kind::Polling && opened { Kind::Polling } else { Kind::WebSocket };
                attempt = if was_up { 1 } else { attempt + 1 };
            }
        }
        on_event(SocketEvent::Status(if browser_offline() {
            ConnStatus::Offline
        } else {
            ConnStatus::Reconnecting { attempt }
        }));
        // Wait out the backoff, refusing emits meanwhile (nothing is queued
        // silently: the caller gets an error it can show).
        let mut wait = TimeoutFuture::new(backoff_ms(attempt)).fuse();
        loop {
            select! {
                _ = wait => break,
                command = commands.next() => match command {
                    None => return,
                    Some(Command::Emit { reply, .. }) => { let _ = reply.send(Err(disconnected())); }
                    Some(Command::Reconnect) => { attempt = 0; break; }
                },
            }
        }
    }
}

/// One connection, from opening the transport until it ends.
async fn connection(
    transport: Kind,
    commands: &mut mpsc::Receiver<Command>,
    on_event: &Rc<dyn Fn(SocketEvent)>,
    reconnect: bool,
) -> Ended {
    if !reconnect {
        on_event(SocketEvent::Status(ConnStatus::Connecting));
    }
    let Link { mut incoming, mut outgoing } = transport::open(transport);
    let mut on = transport;
    let pending: RefCell<HashMap<u64, oneshot::Sender<Result<RawPayload, ApiError>>>> = RefCell::default();
    let mut next_id = 0u64;
    let mut opened = false;
    let mut up = false;
    // Until the open packet says otherwise, give the server 10 s. Only what
    // the server sends counts as a sign of life: on a half-open connection
    // our own emits would go nowhere.
    let mut silence_limit_ms = 10_000.0;
    let mut last_heard = js_sys::Date::now();

    let ended = loop {
        let lost = Ended::Lost { was_up: up, opened, on };
        select! {
            inbound = incoming.next() => {
                last_heard = js_sys::Date::now();
                let text = match inbound {
                    Some(Inbound::Frame(text)) => text,
                    Some(Inbound::Upgraded) => {
                        on = Kind::WebSocket;
                        continue;
                    }
                    None => break lost,
                };
                match decode_engine(&text) {
                    Ok(EnginePacket::Open(info)) => {
                        opened = true;
                        silence_limit_ms = (info.ping_interval + info.ping_timeout) as f64;
                        // Identity rides on the session cookie; `auth` only asks
                        // for presence changes in batches.
                        let auth = HandshakeAuth { presence: Some(BATCHED_PRESENCE.to_owned()), token: None };
                        // Cannot fail (two optional strings), but if it did
                        // the namespace would never answer: start over.
                        let sent = match encode_connect(Some(&auth)) {
                            Ok(connect) => outgoing.send(connect).await.is_ok(),
                            Err(_) => false,
                        };
                        if !sent {
                            break Ended::Lost { was_up: up, opened, on };
                        }
                    }
                    Ok(EnginePacket::Ping(payload)) => {
                        if outgoing.send(format!("{PONG}{payload}")).await.is_err() {
                            break lost;
                        }
                    }
                    Ok(EnginePacket::Message(payload)) => match decode_socket::<RawPayload>(payload) {
                        Ok(SocketPacket::Connect(_)) => {
                            up = true;
                            on_event(SocketEvent::Status(ConnStatus::Connected));
                            on_event(SocketEvent::Connected { reconnect });
                        }
                        Ok(SocketPacket::Event { name, data, .. }) => on_event(SocketEvent::Event { name, data }),
                        Ok(SocketPacket::Ack { id, data }) => {
                            if let Some(reply) = pending.borrow_mut().remove(&id) {
                                let _ = reply.send(Ok(data));
                            }
                        }
                        Ok(SocketPacket::ConnectError(_)) | Ok(SocketPacket::Disconnect) => break lost,
                        Err(_) => {}
                    },
                    Ok(EnginePacket::Close) => break lost,
                    Ok(_) | Err(_) => {}
                }
            }
            command = commands.next() => match command {
                None => break Ended::Shutdown,
                Some(Command::Reconnect) => break Ended::Reconnect,
                Some(Command::Emit { event, data, reply }) => {
                    if !up {
                        let _ = reply.send(Err(disconnected()));
                        continue;
                    }
                    // Emits whose caller gave up waiting need no answer.
                    pending.borrow_mut().retain(|_, reply| !reply.is_canceled());
                    if pending.borrow().len() >= MAX_PENDING_ACKS {
                        let _ = reply.send(Err(ApiError::new(code::BUSY, "Too many messages are waiting for the server. Wait a moment.")));
                        continue;
                    }
                    let Ok(frame) = encode_event(&event, &*data, Some(next_id + 1)) else {
                        let _ = reply.send(Err(ApiError::new(code::INTERNAL, "This could not be sent.")));
                        continue;
                    };
                    next_id += 1;
                    pending.borrow_mut().insert(next_id, reply);
                    if outgoing.send(frame).await.is_err() {
                        break lost;
                    }
                }
            },
            _ = TimeoutFuture::new((last_heard + silence_limit_ms - js_sys::Date::now()).max(0.0) as u32).fuse() => {
                if js_sys::Date::now() - last_heard >= silence_limit_ms {
                    break lost;
                }
            }
        }
    };
    // These went out: whether the server acted on them is unknown, as
    // after a timeout (a toggle such as `react` must not be sent again).
    for (_, reply) in pending.borrow_mut().drain() {
        let _ = reply.send(Err(unanswered()));
    }
    // Dropping the link's ends stops its pump, which closes the transport.
    ended
}
