//! The floor: plain socketioxide with RTCA's event contract and nothing else.
//!
//! It answers the question the benchmark cannot answer by itself: how much
//! of RTCA's cost per delivery is socketioxide's own (its per-socket writer
//! task and channel, tungstenite, one write per frame) and how much is
//! RTCA's (storage, ordering, limits, presence)? It is the Node peer
//! (`bench/peer/server.js`) written against socketioxide, with the same
//! transport settings as RTCA (`src/server/socket/mod.rs`, `http/mod.rs`): nothing stored,
//! no limits, presence sent as the prototype did. `bench/run.js --floor`
//! runs it as a third server.
//!
//! Handlers are registered in the connect middleware, as RTCA does, so a
//! client that emits at once loses nothing.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};
use socketioxide::extract::{AckSender, Data, SocketRef, State};
use socketioxide::handler::ConnectHandler;
use socketioxide::socket::Sid;
use socketioxide::SocketIo;

/// Who is online, by socket id; and the id counters.
#[derive(Clone, Default)]
struct Floor {
    users: Arc<Mutex<HashMap<Sid, Value>>>,
    next_user: Arc<AtomicU64>,
    next_message: Arc<AtomicU64>,
}

impl Floor {
    fn users(&self) -> std::sync::MutexGuard<'_, HashMap<Sid, Value>> {
        self.users.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The same bound RTCA puts on a packet (`RTCA_MAX_PACKET_BYTES`).
const MAX_PACKET_BYTES: usize = 64 * 1024;
/// RTCA's accept backlog.
const ACCEPT_BACKLOG: u32 = 4096;
/// The per-socket queue the benchmark gives RTCA (`RTCA_SOCKET_BUFFER`).
const SOCKET_BUFFER: usize = 1024;

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

fn refuse(ack: AckSender, code: &str, message: &str) {
    let _ = ack.send(&json!({ "ok": false, "error": { "code": code, "message": message } }));
}

async fn register(s: SocketRef) -> Result<(), std::convert::Infallible> {
    s.on("online", online);
    s.on("message", message);
    s.on("create_room", |s: SocketRef, Data(v): Data<Value>, ack: AckSender| async move { enter(s, &v["name"], ack) });
    s.on("join_room", |s: SocketRef, Data(v): Data<Value>, ack: AckSender| async move { enter(s, &v["room"], ack) });
    s.on_disconnect(disconnect);
    s.join("lobby");
    Ok(())
}

async fn connected() {}

async fn online(s: SocketRef, Data(payload): Data<Value>, ack: AckSender, State(floor): State<Floor>) {
    let name = payload.as_str().or_else(|| payload["name"].as_str()).map(str::trim).unwrap_or_default();
    if name.is_empty() {
        return refuse(ack, "invalid_name", "a name cannot be empty");
    }
    let user = json!({ "id": floor.next_user.fetch_add(1, Ordering::Relaxed) + 1, "name": name });
    let list: Vec<Value> = {
        let mut users = floor.users();
        users.insert(s.id, user.clone());
        users.values().cloned().collect()
    };
    let _ = ack.send(&json!({ "ok": true, "user": user, "token": "" }));
    let _ = s.within("lobby").emit("online", &json!({ "user": user, "at": now_ms() })).await;
    let _ = s.emit("presence", &json!({ "users": list }));
}

async fn message(s: SocketRef, Data(payload): Data<Value>, ack: AckSender, State(floor): State<Floor>) {
    let Some(from) = floor.users().get(&s.id).cloned() else {
        return refuse(ack, "not_online", "say who you are first");
    };
    let room = payload["room"].as_str().unwrap_or("lobby").to_owned();
    if room != "lobby" && !s.rooms().iter().any(|r| r.as_ref() == room) {
        return refuse(ack, "not_a_member", "join the room first");
    }
    let id = floor.next_message.fetch_add(1, Ordering::Relaxed) + 1;
    let at = now_ms();
    let text = payload["text"].as_str().unwrap_or_default();
    let message =
        json!({ "id": id, "seq": id, "room": room, "from": from, "text": text, "at": at, "cid": payload["cid"] });
    let _ = ack.send(&json!({ "ok": true, "id": id, "seq": id, "at": at }));
    // The sender receives its own message too, as in the peer.
    let _ = s.within(room).emit("message", &message).await;
}

fn enter(s: SocketRef, name: &Value, ack: AckSender) {
    let valid = name.as_str().filter(|n| {
        (1..=32).contains(&n.len())
            && n.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
    });
    let Some(name) = valid else {
        return refuse(ack, "invalid_room_name", "bad room name");
    };
    s.join(name.to_owned());
    let _ = ack.send(&json!({ "ok": true, "name": name, "private": false }));
}

async fn disconnect(s: SocketRef, State(floor): State<Floor>) {
    let user = floor.users().remove(&s.id);
    if let Some(user) = user {
        let _ = s.broadcast().emit("offline", &json!({ "user": user, "at": now_ms() })).await;
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let port: u16 = std::env::var("PORT").ok().and_then(|p| p.parse().ok()).unwrap_or(0);
    let (layer, io) = SocketIo::builder()
        .max_payload(MAX_PACKET_BYTES as u64)
        .ws_max_message_size(MAX_PACKET_BYTES)
        .ws_max_frame_size(MAX_PACKET_BYTES)
        .max_buffer_size(SOCKET_BUFFER)
        .with_state(Floor::default())
        .build_layer();
    io.ns("/", connected.with(register));
    let app = axum::Router::new().route("/health", axum::routing::get(|| async { "ok" })).layer(layer);
    // RTCA's accept backlog (`src/server/http/mod.rs`), so both meet a storm alike.
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.bind(std::net::SocketAddr::from(([127, 0, 0, 1], port)))?;
    let listener = socket.listen(ACCEPT_BACKLOG)?;
    println!("listening on http://{}", listener.local_addr()?);
    // As RTCA and Node do: every frame goes out at once.
    let listener = axum::serve::ListenerExt::tap_io(listener, |stream| {
        let _ = stream.set_nodelay(true);
    });
    axum::serve(listener, app).await
}
