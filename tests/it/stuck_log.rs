//! A server whose log nobody reads keeps serving. Its log goes to stdout,
//! and a write to a pipe that is full blocks; the benchmark's harness once
//! stopped reading for a whole run, and the server stood still mid-storm
//! (docs/performance.md, finding 26). Here the real binary logs at `debug`
//! into a pipe that is never read after startup, and must still answer.

use std::net::SocketAddr;
use std::time::Duration;

use crate::common::{spawn_binary, temp_db, TestClient};
use serde_json::json;

/// Far more than a pipe holds (64 KiB) once logged at `debug`.
const ROUND_TRIPS: usize = 300;

#[tokio::test]
async fn a_log_nobody_reads_never_stops_the_server() {
    let (_dir, db) = temp_db();
    let limits = [
        ("RTCA_RATE_SEND_CONNECTION", "100000:100000"),
        ("RTCA_RATE_SEND_USER", "100000:100000"),
        ("RTCA_RATE_READ", "100000:100000"),
    ];
    let (mut child, addr, lines) = spawn_binary(&db, "debug", &limits).await;
    // From here on nobody reads the pipe; `lines` keeps it open.

    let client = TestClient::connect(addr, None).await.unwrap();
    let online = tokio::time::timeout(Duration::from_secs(10), client.emit_ack("online", json!({ "name": "logger" })))
        .await
        .expect("no answer to `online`");
    assert!(online["user"]["id"].is_number(), "{online}");
    // A message, then a history read: each read logs its query (sqlx, at
    // `debug`), several hundred bytes.
    for n in 0..ROUND_TRIPS {
        let sent = ask(&client, "message", json!({ "text": format!("line {n}"), "cid": format!("c{n}") })).await;
        assert_eq!(sent["ok"], true, "{sent}");
        let history = ask(&client, "history", json!({ "limit": 5 })).await;
        assert_eq!(history["ok"], true, "{history}");
    }
    let health = tokio::time::timeout(Duration::from_secs(10), health_status(addr)).await.expect("/health hung");
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    // The test means something only if the log really was stuck:
    // more than a pipe holds (64 KiB) must have been waiting.
    let mut pending = 0usize;
    let mut lines = lines;
    while let Ok(Ok(Some(line))) = tokio::time::timeout(Duration::from_millis(500), lines.next_line()).await {
        pending += line.len() + 1;
    }
    assert!(pending > 64 * 1024, "only {pending} bytes of log were waiting: the pipe never filled");
    child.kill().await.unwrap();
}

async fn ask(client: &TestClient, event: &str, data: serde_json::Value) -> serde_json::Value {
    tokio::time::timeout(Duration::from_secs(10), client.emit_ack(event, data))
        .await
        .unwrap_or_else(|_| panic!("no answer to `{event}`: the server is stuck"))
}

/// `GET /health` over a plain TCP connection; returns the status line.
async fn health_status(addr: SocketAddr) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(b"GET /health HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n").await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    response.lines().next().unwrap_or_default().to_owned()
}
