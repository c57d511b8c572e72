//! The hostile-client suite: raw Engine.IO over WebSocket and long-polling,
//! sent by clients that lie, flood, stall or pry. After every case the
//! server must still be up, and two well-behaved users connected beside the
//! attacker must still chat both ways (a room message and a private one).
//! Each test prints how many cases it ran.
//!
//! - `clients`: lies, floods, stalls and pries over one socket;
//! - `budgets`: what one address can make the server hold: unsent bytes,
//!   history, reads;
//! - `connections`: what it can keep open: stalled heads, bodies and
//!   sessions, abandoned handshakes, descriptors.

mod budgets;
mod clients;
mod connections;

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use crate::common::{temp_db, TestClient, TestServer};
use futures::{SinkExt, StreamExt};
use rtca::server::Config;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

/// A server with two bystanders, alice and bob, who keep chatting.
pub struct Arena {
    pub server: TestServer,
    pub alice: TestClient,
    pub alice_id: Value,
    pub bob: TestClient,
    pub bob_id: Value,
    cases: Vec<&'static str>,
}

impl Arena {
    pub async fn start(adjust: impl FnOnce(&mut Config)) -> (tempfile::TempDir, Arena) {
        let (dir, db) = temp_db();
        let server = TestServer::start_with(db, adjust).await;
        let (alice, alice_ack) = server.online("alice").await;
        let (bob, bob_ack) = server.online("bob").await;
        let (alice_id, bob_id) = (alice_ack["user"]["id"].clone(), bob_ack["user"]["id"].clone());
        (dir, Arena { server, alice, alice_id, bob, bob_id, cases: Vec::new() })
    }

    pub fn addr(&self) -> SocketAddr {
        self.server.addr
    }

    /// After `case`: the server answers, and the bystanders still chat.
    pub async fn survived(&mut self, case: &'static str) {
        eprintln!("hostile: {:?} checking the server after: {case}", std::time::SystemTime::now());
        let health = reqwest::get(format!("http://{}/health", self.addr())).await.expect("the server is down");
        assert!(health.status().is_success(), "{case}: health {}", health.status());
        let text = format!("all is well after: {case}");
        let ack = self.alice.emit_ack_patiently("message", json!({ "text": text })).await;
        assert_eq!(ack["ok"], true, "{case}: alice could not post: {ack}");
        self.bob.event_where("message", |m| m["text"] == text.as_str()).await;
        let secret = format!("psst, after: {case}");
        let ack = self.bob.emit_ack_patiently("secret", json!({ "to": self.alice_id, "text": secret })).await;
        assert_eq!(ack["ok"], true, "{case}: bob could not whisper: {ack}");
        self.alice.event_where("secret", |m| m["text"] == secret.as_str()).await;
        self.cases.push(case);
    }

    pub async fn finish(self, suite: &str) {
        println!(
            "hostile/{suite}: {} cases, each followed by a healthy server and bystanders chatting:",
            self.cases.len()
        );
        for case in &self.cases {
            println!("  - {case}");
        }
        self.server.stop().await;
    }
}

/// A raw Engine.IO long-polling session, driven by hand.
pub struct Polling {
    http: reqwest::Client,
    url: String,
    addr: SocketAddr,
    from: Option<IpAddr>,
    sid: String,
}

impl Polling {
    pub async fn open(addr: SocketAddr) -> Polling {
        Polling::open_from(addr, None).await
    }

    /// The same, from the local address `from` (see [`raw_socket_from`]).
    pub async fn open_from(addr: SocketAddr, from: Option<IpAddr>) -> Polling {
        let http = reqwest::Client::builder().local_address(from).build().unwrap();
        let base = format!("http://{addr}/socket.io/?EIO=4&transport=polling");
        let body = http.get(&base).send().await.unwrap().text().await.unwrap();
        let open: Value = serde_json::from_str(body.strip_prefix('0').expect("an open packet")).unwrap();
        let sid = open["sid"].as_str().unwrap().to_owned();
        Polling { http, url: format!("{base}&sid={sid}"), addr, from, sid }
    }

    /// Joins namespace `/`, and collects until the server's CONNECT answer
    /// is in (a poll may come back first with a ping alone).
    pub async fn connect(&self) {
        assert_eq!(self.post("40").await, Some(reqwest::StatusCode::OK));
        let connected =
            tokio::time::timeout(crate::common::WAIT, async { while !self.get().await.1.contains("40{") {} });
        assert!(connected.await.is_ok(), "no CONNECT answer on long-polling");
    }

    /// Upgrades the session to a WebSocket (the probe, then `5`), on a
    /// connection with a receive buffer of `receive_buffer` bytes.
    pub async fn upgrade(&self, receive_buffer: u32) -> RawSocket {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.set_recv_buffer_size(receive_buffer).unwrap();
        if let Some(from) = self.from {
            socket.bind(SocketAddr::new(from, 0)).unwrap();
        }
        let stream = socket.connect(self.addr).await.unwrap();
        let url = format!("ws://{}/socket.io/?EIO=4&transport=websocket&sid={}", self.addr, self.sid);
        let (mut ws, _) = tokio_tungstenite::client_async(url, stream).await.unwrap();
        ws.send(Message::text("2probe")).await.unwrap();
        let probe = ws.next().await.unwrap().unwrap();
        assert_eq!(probe.to_text().unwrap(), "3probe");
        ws.send(Message::text("5")).await.unwrap();
        ws
    }

    /// The status, or `None` if the server cut the connection first.
    pub async fn post(&self, body: impl Into<reqwest::Body>) -> Option<reqwest::StatusCode> {
        let request = self.http.post(&self.url).header("content-type", "text/plain;charset=UTF-8").body(body);
        request.send().await.ok().map(|response| response.status())
    }

    pub async fn get(&self) -> (reqwest::StatusCode, String) {
        let response = self.http.get(&self.url).send().await.unwrap();
        (response.status(), response.text().await.unwrap_or_default())
    }
}

/// A raw WebSocket that has joined namespace `/` (with `auth`), and then
/// does only what the test makes it do.
pub async fn raw_socket(addr: SocketAddr, auth: Value, receive_buffer: Option<u32>) -> RawSocket {
    raw_socket_from(addr, None, auth, receive_buffer).await
}

pub type RawSocket = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;

/// The same, from the local address `from` (any of 127.0.0.0/8 reaches the
/// server): another address, for the per-address limits.
pub async fn raw_socket_from(
    addr: SocketAddr,
    from: Option<IpAddr>,
    auth: Value,
    receive_buffer: Option<u32>,
) -> RawSocket {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    if let Some(bytes) = receive_buffer {
        socket.set_recv_buffer_size(bytes).unwrap();
    }
    if let Some(from) = from {
        socket.bind(SocketAddr::new(from, 0)).unwrap();
    }
    let stream = socket.connect(addr).await.unwrap();
    let url = format!("ws://{addr}/socket.io/?EIO=4&transport=websocket");
    let (mut ws, _) = tokio_tungstenite::client_async(url, stream).await.unwrap();
    let open = ws.next().await.unwrap().unwrap();
    assert!(open.to_text().unwrap().starts_with('0'));
    ws.send(Message::text(format!("40{auth}"))).await.unwrap();
    loop {
        let frame = ws.next().await.unwrap().unwrap();
        if frame.to_text().unwrap().starts_with("40") {
            return ws;
        }
    }
}

/// Whether the server closes `ws` within `wait` (reading and discarding
/// whatever it still sends).
pub async fn closed_within(ws: &mut RawSocket, wait: Duration) -> bool {
    tokio::time::timeout(wait, async {
        loop {
            match ws.next().await {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                Some(Ok(_)) => {}
            }
        }
    })
    .await
    .is_ok()
}

/// Pings every second, pongs due within two: quick enough for a test to
/// watch silent clients being dropped, slow enough for a busy machine.
pub fn quick_heartbeat(config: &mut Config) {
    config.ping_interval = Duration::from_millis(1000);
    config.ping_timeout = Duration::from_millis(2000);
}
