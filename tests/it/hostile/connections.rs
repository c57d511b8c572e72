//! What one address can make the server keep open: connections that never
//! finish a request head or idle forever, uploads whose body stops,
//! Engine.IO sessions that never CONNECT, abandoned handshakes, and a
//! process out of descriptors.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use rtca::server::config::Rate;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use super::Arena;
use crate::common::{spawn_binary_limited, temp_db, token, TestClient};

const ELSEWHERE: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));

async fn connect_from(server: SocketAddr, from: IpAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::new(from, 0)).unwrap();
    socket.connect(server).await.unwrap()
}

/// Whether the server ends `stream` (end of stream or reset) within `wait`,
/// reading and dropping what it sends first.
async fn ended_within(stream: &mut TcpStream, wait: Duration) -> bool {
    let mut buffer = [0u8; 4096];
    tokio::time::timeout(wait, async {
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await
    .is_ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_that_stall_or_idle_are_closed_and_capped() {
    let (_dir, mut arena) = Arena::start(|config| {
        config.header_timeout = Duration::from_millis(1000);
        config.http_connections_per_address = 8;
    })
    .await;
    let addr = arena.addr();

    // A request head that never ends, and a kept-alive connection that
    // idles after its first request: both closed after the header timeout.
    let mut slow = connect_from(addr, ELSEWHERE).await;
    slow.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    let mut idle = connect_from(addr, ELSEWHERE).await;
    idle.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    let started = Instant::now();
    assert!(
        ended_within(&mut slow, Duration::from_secs(4)).await,
        "a request head that never ends kept its connection"
    );
    assert!(ended_within(&mut idle, Duration::from_secs(4)).await, "an idle kept-alive connection was kept");
    assert!(started.elapsed() >= Duration::from_millis(900), "closed before the timeout: {:?}", started.elapsed());
    arena.survived("a request head that never ends, and an idle kept-alive connection").await;

    // Eight connections from one address; the ninth is closed at once,
    // and another address still connects.
    let mut held = Vec::new();
    for _ in 0..8 {
        held.push(connect_from(addr, ELSEWHERE).await);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut ninth = connect_from(addr, ELSEWHERE).await;
    assert!(ended_within(&mut ninth, Duration::from_millis(500)).await, "a ninth connection from one address was kept");
    assert!(reqwest::get(format!("http://{addr}/health")).await.unwrap().status().is_success());
    drop(held);
    arena.survived("more connections from one address than allowed").await;
    arena.finish("connections").await;
}

/// Polling handshakes whose clients hang up at once, against the real
/// binary (its descriptors counted in `/proc`): with sessions kept for a
/// minute, none keeps its descriptor.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abandoned_handshakes_keep_no_descriptor() {
    let (_dir, db) = temp_db();
    let env = [("RTCA_CONNECT_TIMEOUT_MS", "60000"), ("RTCA_RATE_HANDSHAKE_ADDRESS", "100000:100000")];
    let (child, addr, _output) = spawn_binary_limited(&db, &env, 4096).await;
    let descriptors = || std::fs::read_dir(format!("/proc/{}/fd", child.id().unwrap())).unwrap().count();
    let before = descriptors();
    let handshakes = 1500;
    for _ in 0..handshakes {
        let mut stream = connect_from(addr, ELSEWHERE).await;
        let request = format!("GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: {addr}\r\n\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut head = [0u8; 64];
        let read = stream.read(&mut head).await.unwrap();
        assert!(head[..read].starts_with(b"HTTP/1.1 200"), "{}", String::from_utf8_lossy(&head[..read]));
    }
    // Every client has hung up (its stream dropped above); give the server
    // a moment to see the ends.
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut after = descriptors();
    while after > before + 20 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
        after = descriptors();
    }
    println!("descriptors: {before} open before {handshakes} abandoned polling handshakes, {after} after");
    assert!(after <= before + 20, "{handshakes} abandoned handshakes left {after} descriptors open ({before} before)");
    bystanders_chat(addr).await;
}

/// Two people on `addr` still chat, in the lobby and privately.
async fn bystanders_chat(addr: SocketAddr) {
    let alice = TestClient::connect(addr, None).await.unwrap();
    let bob = TestClient::connect(addr, None).await.unwrap();
    assert_eq!(alice.emit_ack("online", json!({ "name": "alice" })).await["ok"], true);
    let bob_ack = bob.emit_ack("online", json!({ "name": "bob" })).await;
    assert_eq!(alice.emit_ack("message", json!({ "text": "still here" })).await["ok"], true);
    bob.event_where("message", |m| m["text"] == "still here").await;
    let ack = alice.emit_ack("secret", json!({ "to": bob_ack["user"]["id"], "text": "psst" })).await;
    assert_eq!(ack["ok"], true, "{ack}");
    bob.event_where("secret", |m| m["text"] == "psst").await;
}

/// Sessions that never CONNECT: capped per address, and gone after the
/// connect timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_without_connect_are_capped_and_time_out() {
    let (_dir, mut arena) = Arena::start(|config| {
        config.connect_timeout = Duration::from_millis(1000);
        config.limits.handshake_per_address = Rate::new(0.5, 5);
    })
    .await;
    let url = format!("http://{}/socket.io/?EIO=4&transport=polling", arena.addr());
    let elsewhere = reqwest::Client::builder().local_address(ELSEWHERE).build().unwrap();
    let mut sids = Vec::new();
    for _ in 0..5 {
        let body = elsewhere.get(&url).send().await.unwrap().text().await.unwrap();
        let open: Value = serde_json::from_str(body.strip_prefix('0').unwrap()).unwrap();
        sids.push(open["sid"].as_str().unwrap().to_owned());
    }
    let refused = elsewhere.get(&url).send().await.unwrap();
    assert_eq!(refused.status(), reqwest::StatusCode::TOO_MANY_REQUESTS, "a sixth waiting session was opened");
    assert!(reqwest::get(&url).await.unwrap().status().is_success(), "another address was refused");
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let late = elsewhere.get(format!("{url}&sid={}", sids[0])).send().await.unwrap();
    assert!(late.status().is_client_error(), "a session without CONNECT outlived its timeout: {}", late.status());
    arena.survived("sessions that never CONNECT").await;
    arena.finish("no-connect").await;
}

/// An upload whose body stops: `408 request_timeout`, nothing staged left,
/// and its slot free again. Uploads in progress are capped per address.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_uploads_time_out_and_are_capped_per_address() {
    let (dir, mut arena) = Arena::start(|config| {
        config.body_idle = Duration::from_millis(1000);
        config.uploads_per_user = 1;
        config.uploads_per_address = 2;
    })
    .await;
    let addr = arena.addr();
    let mut stalled = Vec::new();
    for name in ["staller1", "staller2"] {
        let (_, ack) = arena.server.online(name).await;
        stalled.push((stall_upload(addr, ELSEWHERE, &token(&ack)).await, token(&ack)));
    }
    // A third uploader at the same address finds its places taken.
    let (_, third) = arena.server.online("staller3").await;
    let mut refused = stall_upload(addr, ELSEWHERE, &token(&third)).await;
    let answer = tokio::time::timeout(Duration::from_secs(5), read_response(&mut refused)).await;
    let answer = answer.expect("a third upload from one address was taken in, and stalled");
    assert!(answer.starts_with("HTTP/1.1 429"), "{answer}");
    assert!(answer.contains("too_many_uploads"), "{answer}");
    // Another address uploads meanwhile.
    let (_, elsewhere) = arena.server.online("uploader").await;
    let http = crate::common::Http::new(&arena.server);
    let (status, _) = http.upload(&token(&elsewhere), "a.pdf", "application/pdf", b"%PDF-1.4 x".to_vec()).await;
    assert_eq!(status, reqwest::StatusCode::CREATED);

    for (stream, _) in &mut stalled {
        let answer = tokio::time::timeout(Duration::from_secs(5), read_response(stream)).await.expect("no answer");
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        assert!(answer.contains("request_timeout"), "{answer}");
    }
    let staging = dir.path().join("media").join("staging");
    let left = std::fs::read_dir(&staging).map(|files| files.count()).unwrap_or(0);
    assert_eq!(left, 0, "a timed-out upload left files in {}", staging.display());
    // Its slot is free again.
    let (status, _) = http.upload(&stalled[0].1, "b.pdf", "application/pdf", b"%PDF-1.4 y".to_vec()).await;
    assert_eq!(status, reqwest::StatusCode::CREATED);
    arena.survived("uploads whose bodies stop").await;
    arena.finish("stalled-uploads").await;
}

/// Starts an upload from `from` that promises 1 MB and sends 10 bytes.
async fn stall_upload(server: SocketAddr, from: IpAddr, token: &str) -> TcpStream {
    let mut stream = connect_from(server, from).await;
    let head = format!(
        "POST /api/uploads?name=x.pdf HTTP/1.1\r\nHost: {server}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/pdf\r\nContent-Length: 1000000\r\n\r\n%PDF-1.4 \n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream
}

async fn read_response(stream: &mut TcpStream) -> String {
    let mut all = Vec::new();
    let mut buffer = [0u8; 4096];
    while !String::from_utf8_lossy(&all).contains("\"}") {
        match stream.read(&mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(read) => all.extend_from_slice(&buffer[..read]),
        }
    }
    String::from_utf8_lossy(&all).into_owned()
}

/// The real binary, under a hard limit of 128 descriptors: 200 idle
/// connections exhaust them. The server keeps answering those past the
/// limit at once (closed, not left hanging), and comes back by itself once
/// the idle ones time out, though their client never closes them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn running_out_of_descriptors_degrades_and_recovers() {
    let (_dir, db) = temp_db();
    let env = [("RTCA_HEADER_TIMEOUT_MS", "2000")];
    let (_child, addr, _output) = spawn_binary_limited(&db, &env, 128).await;
    let mut held = Vec::new();
    for _ in 0..200 {
        held.push(TcpStream::connect(addr).await.unwrap());
    }
    // Past the limit, a new connection is closed at once, not left waiting.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut late = TcpStream::connect(addr).await.unwrap();
    let _ = late.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n").await;
    let started = Instant::now();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), late.read_to_end(&mut answer)).await;
    println!("out of descriptors: a new connection answered in {:?}", started.elapsed());
    assert!(read.is_ok(), "a connection past the descriptor limit was left hanging");
    // The idle ones time out; /health answers again while `held` is still
    // open on this side.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let health = reqwest::Client::new().get(format!("http://{addr}/health")).timeout(Duration::from_secs(2)).send();
        if matches!(health.await, Ok(response) if response.status().is_success()) {
            break;
        }
        assert!(Instant::now() < deadline, "the server did not recover from running out of descriptors");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    drop(held);
    bystanders_chat(addr).await;
}
