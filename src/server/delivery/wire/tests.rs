//! The direct write path over real sockets: frames of ours and the
//! stream's own, interleaved, under backpressure.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use futures::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::protocol::Role;
use tokio_tungstenite::WebSocketStream;

use super::*;

const THEIRS: usize = 300;
const OURS: usize = 300;
/// Stands for RTCA's `session`: nothing of ours before it.
const OPENER: &[u8] = b"open";

/// A client connected to a fresh `WireStream`, and that stream's `Wire`.
async fn connected(listener: &TcpListener, max_queued: usize) -> (TcpStream, WireStream, Arc<Wire>) {
    connected_with(listener, budget(max_queued)).await
}

async fn connected_with(listener: &TcpListener, budget: Budget) -> (TcpStream, WireStream, Arc<Wire>) {
    let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    let (stream, _) = listener.accept().await.unwrap();
    let server = WireStream::new(stream, peer(), budget, Some(OPENER));
    let wire = Arc::clone(&server.wire);
    (client, server, wire)
}

/// Room for `frames`, whatever their size, for a minute.
fn budget(frames: usize) -> Budget {
    Budget { frames, bytes: usize::MAX, drain_within: Duration::from_secs(60) }
}

fn peer() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 1))
}

fn padded(tag: char, n: usize, pad: usize) -> String {
    format!("{tag}{n} {}", "x".repeat(pad))
}

/// Reads the upgrade response byte by byte, then every frame; returns
/// the numbers of the stream's own frames and of ours, in arrival order.
async fn read_all(addr: SocketAddr) -> (Vec<usize>, Vec<usize>) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        head.push(stream.read_u8().await.unwrap());
    }
    // Let the server's writes pile up against a full socket first: 1.8 MB
    // in all, far more than loopback's buffers hold.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut ws = WebSocketStream::from_raw_socket(stream, Role::Client, None).await;
    let (mut theirs, mut ours, mut opened) = (Vec::new(), Vec::new(), false);
    while theirs.len() + ours.len() < THEIRS + OURS {
        let Ok(Some(message)) = tokio::time::timeout(Duration::from_secs(3), ws.next()).await else {
            panic!("stuck after theirs {:?} ours {:?}", theirs.last(), ours.last());
        };
        let message = message.unwrap();
        let text = message.into_text().unwrap();
        if text.starts_with("open") {
            assert!(theirs.is_empty() && ours.is_empty(), "the opener came late");
            opened = true;
            continue;
        }
        assert!(opened, "{text:.10} came before the opener");
        let (label, rest) = text.split_once(' ').unwrap();
        let n: usize = label[1..].parse().unwrap();
        let (list, pad) = if label.starts_with('t') { (&mut theirs, their_pad(n)) } else { (&mut ours, our_pad(n)) };
        assert_eq!(rest.len(), pad, "frame {label} arrived cut or merged");
        list.push(n);
    }
    (theirs, ours)
}

fn their_pad(n: usize) -> usize {
    n * 97 % 9000
}

fn our_pad(n: usize) -> usize {
    n * 131 % 3000
}

/// tungstenite's frames (written two to a write, as its buffer does)
/// and ours share one connection whose reader is slow: nothing of ours
/// comes before the opener, every frame arrives whole, each side's in
/// its own order, and none of ours is lost while the queue has room.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn direct_frames_go_in_whole_between_the_streams_own() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let reader = tokio::spawn(read_all(listener.local_addr().unwrap()));
    let (stream, _) = listener.accept().await.unwrap();
    let mut server = WireStream::new(stream, peer(), budget(OURS), Some(OPENER));
    let wire = Arc::clone(&server.wire);
    server.write_all(b"HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\n\r\n").await.unwrap();
    // Some of ours before the opener: they wait for it.
    let early = 10;
    for n in 0..early {
        assert_eq!(wire.send(&text_frame(&padded('d', n, our_pad(n)))), Sent::Yes);
    }
    let writer = tokio::spawn(async move {
        server.write_all(&text_frame("open")).await.unwrap();
        for n in (0..THEIRS).step_by(2) {
            let mut pair = text_frame(&padded('t', n, their_pad(n))).to_vec();
            pair.extend_from_slice(&text_frame(&padded('t', n + 1, their_pad(n + 1))));
            server.write_all(&pair).await.unwrap();
        }
        server
    });
    for n in early..OURS {
        assert_eq!(wire.send(&text_frame(&padded('d', n, our_pad(n)))), Sent::Yes);
        tokio::task::yield_now().await;
    }
    let (theirs, ours) = tokio::time::timeout(Duration::from_secs(20), reader).await.unwrap().unwrap();
    assert_eq!(theirs, (0..THEIRS).collect::<Vec<_>>());
    assert_eq!(ours, (0..OURS).collect::<Vec<_>>());
    drop(writer.await.unwrap());
}

/// The stream is stuck inside a frame far larger than the socket's
/// buffers when a frame of ours comes: it waits, and goes in after it,
/// even though it is larger than the whole budget of bytes (a frame alone
/// always fits).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_direct_frame_waits_for_the_end_of_the_frame_being_written() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let budget = Budget { frames: 4, bytes: 1, drain_within: Duration::from_secs(60) };
    let (mut client, mut server, wire) = connected_with(&listener, budget).await;
    let head = b"HTTP/1.1 101 Switching Protocols\r\n\r\n";
    server.write_all(head).await.unwrap();
    server.write_all(&text_frame("open")).await.unwrap();
    let big = "b".repeat(8 << 20);
    let writer = tokio::spawn(async move {
        server.write_all(&text_frame(&big)).await.unwrap();
        server
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!writer.is_finished(), "8 MiB went into the socket's buffers at once");
    assert!(!wire.lock().frames.open_to_ours());
    assert_eq!(wire.send(&text_frame("ours")), Sent::Yes);

    let mut skipped = vec![0; head.len()];
    client.read_exact(&mut skipped).await.unwrap();
    let mut ws = WebSocketStream::from_raw_socket(client, Role::Client, None).await;
    assert_eq!(ws.next().await.unwrap().unwrap().into_text().unwrap().as_str(), "open");
    let first = ws.next().await.unwrap().unwrap().into_text().unwrap();
    assert!(first.len() == 8 << 20 && first.bytes().all(|b| b == b'b'), "the big frame was cut");
    assert_eq!(ws.next().await.unwrap().unwrap().into_text().unwrap().as_str(), "ours");
    drop(writer.await.unwrap());
}

/// A plain HTTP connection is never written to directly, and a
/// connection that has ended takes no more frames.
#[tokio::test]
async fn only_live_websockets_take_direct_frames() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (_client, mut server, wire) = connected(&listener, 4).await;
    let frame = text_frame("42[\"message\",{}]");
    assert_eq!(wire.send(&frame), Sent::NotDirect, "before any response");
    server.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n").await.unwrap();
    assert_eq!(wire.send(&frame), Sent::NotDirect, "plain HTTP");

    let (_client, mut server, wire) = connected(&listener, 4).await;
    server.write_all(b"HTTP/1.1 101 Switching Protocols\r\n\r\n").await.unwrap();
    assert_eq!(wire.send(&frame), Sent::Yes);
    drop(server);
    assert_eq!(wire.send(&frame), Sent::Dropped, "after the connection ended");
}

/// A client that stops reading: its queue grows until it is over budget in
/// bytes, or has not drained in time, and the connection is closed both
/// ways (the client reads what got through, then the end).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_over_its_budget_is_closed_not_trimmed() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    for (bytes, drain_within) in [(256 * 1024, Duration::from_secs(60)), (usize::MAX, Duration::from_millis(300))] {
        let budget = Budget { frames: usize::MAX, bytes, drain_within };
        let (mut client, mut server, wire) = connected_with(&listener, budget).await;
        server.write_all(b"HTTP/1.1 101 Switching Protocols\r\n\r\n").await.unwrap();
        server.write_all(&text_frame("open")).await.unwrap();
        let frame = text_frame(&"x".repeat(64 * 1024));
        let mut sent = 0;
        let deadline = Instant::now() + Duration::from_secs(10);
        while wire.send(&frame) == Sent::Yes {
            sent += 1;
            assert!(Instant::now() < deadline, "{sent} frames taken and never closed");
            if sent > 64 {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
        assert!(wire.lock().queued.is_empty(), "a closed connection keeps its queue");
        let mut all = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(5), client.read_to_end(&mut all)).await;
        assert!(read.is_ok(), "the client was not told the connection ended");
    }
}
