//! What operators ask of a running server: health and readiness on the
//! public address, Prometheus `/metrics` on an address of its own only
//! (the real binary, so the process's recorder is its own), and JSON logs.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use serde_json::{json, Value};

use crate::common::{spawn_binary, temp_db, ServerOutput, TestClient, TestServer};

pub(crate) async fn get(url: String) -> (u16, String) {
    let response = reqwest::get(url).await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_and_readiness_answer_on_the_public_address() {
    let (_dir, db) = temp_db();
    let server = TestServer::start(db).await;
    let base = format!("http://{}", server.addr);
    assert_eq!(get(format!("{base}/healthz")).await, (200, "ok".to_owned()));
    assert_eq!(get(format!("{base}/health")).await, (200, "ok".to_owned()), "the older name");
    assert_eq!(get(format!("{base}/readyz")).await, (200, "ready".to_owned()));
    assert_eq!(get(format!("{base}/metrics")).await.0, 404, "metrics are never on the public address");
    server.stop().await;
}

/// Each `name{labels} value` line of a Prometheus page, by `name{labels}`.
pub(crate) fn samples(page: &str) -> HashMap<String, f64> {
    page.lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            Some((series.to_owned(), value.parse().ok()?))
        })
        .collect()
}

/// The address a spawned server serves `/metrics` on, from its log (each
/// line read on the way is shown to `each`).
pub(crate) async fn metrics_address(lines: &mut ServerOutput, mut each: impl FnMut(&str)) -> SocketAddr {
    const SAID: &str = "metrics on http://";
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let line = lines.next_line().await.unwrap().expect("the server's output ended");
            each(&line);
            if let Some(at) = line.find(SAID) {
                let rest = &line[at + SAID.len()..];
                break rest[..rest.find("/metrics").unwrap()].parse::<SocketAddr>().unwrap();
            }
        }
    })
    .await
    .expect("the metrics address was never logged")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_what_happens_on_their_own_address_and_logs_are_json() {
    let (_dir, db) = temp_db();
    let env = [("RTCA_METRICS_ADDR", "127.0.0.1:0"), ("RTCA_LOG_FORMAT", "json")];
    let (_child, addr, mut lines) = spawn_binary(&db, "info", &env).await;
    let metrics_line = metrics_address(&mut lines, |line| {
        assert!(serde_json::from_str::<Value>(line).is_ok(), "not a JSON line: {line}");
    })
    .await;
    let scrape = || get(format!("http://{metrics_line}/metrics"));

    let alice = TestClient::connect(addr, None).await.unwrap();
    assert_eq!(alice.emit_ack("online", json!({ "name": "alice" })).await["ok"], true);
    let bob = TestClient::connect(addr, None).await.unwrap();
    assert_eq!(bob.emit_ack("online", json!({ "name": "bob" })).await["ok"], true);
    // More than a connection's burst at once: some are refused.
    let mut refused = 0;
    for n in 0..30 {
        let ack = alice.emit_ack("message", json!({ "text": format!("m{n}") })).await;
        refused += usize::from(ack["error"]["code"] == "rate_limited");
    }
    assert!(refused > 0, "the burst should go past the limit");
    let sent = 30 - refused;
    bob.event_where("message", |m| m["text"] == format!("m{}", sent - 1)).await;

    // The last delivery is counted just after its frames go out.
    let (status, page) = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let (status, page) = scrape().await;
            if samples(&page).get("rtca_delivery_seconds_count") == Some(&(sent as f64)) {
                break (status, page);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("every delivery is counted");
    assert_eq!(status, 200);
    let got = samples(&page);
    let at = |series: &str| got.get(series).copied().unwrap_or_else(|| panic!("no {series} in:\n{page}"));
    assert_eq!(at("rtca_messages_committed_total"), sent as f64);
    assert!(at("rtca_deliveries_total") >= 2.0 * sent as f64, "both sockets got each one:\n{page}");
    assert_eq!(at("rtca_rate_limited_total"), refused as f64);
    assert_eq!(at("rtca_connections{transport=\"websocket\"}"), 2.0);
    assert_eq!(at("rtca_connections{transport=\"polling\"}"), 0.0);
    assert_eq!(at("rtca_users_online"), 2.0);
    // Histograms with their own buckets: every commit is under 2.5 s.
    assert!(at("rtca_commit_seconds_count") >= 1.0, "{page}");
    assert_eq!(at("rtca_commit_seconds_bucket{le=\"2.5\"}"), at("rtca_commit_seconds_count"));
    assert_eq!(at("rtca_delivery_seconds_count"), sent as f64);
    assert!(page.contains("# HELP rtca_deliveries_total"), "{page}");

    bob.close().await;
    let gone = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let got = samples(&scrape().await.1);
            if got.get("rtca_users_online") == Some(&1.0) {
                break got;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("bob never went offline in the metrics");
    assert_eq!(gone.get("rtca_connections{transport=\"websocket\"}"), Some(&1.0));
}

/// Runs `rtca backup` on `args`: whether it succeeded, and what it said.
async fn rtca_backup(args: &[&str]) -> (bool, String) {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_rtca")).arg("backup").args(args).output().await.unwrap();
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), said)
}

async fn epoch(db: &std::path::Path) -> String {
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", db.display())).await.unwrap();
    let epoch =
        sqlx::query_scalar("SELECT value FROM meta WHERE key = 'history_epoch'").fetch_one(&pool).await.unwrap();
    pool.close().await;
    epoch
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_is_taken_while_the_server_writes_and_gets_a_new_epoch() {
    let (dir, db) = temp_db();
    let server = TestServer::start(db.clone()).await;
    let (alice, _) = server.online("alice").await;
    for n in 0..5 {
        assert_eq!(alice.emit_ack("message", json!({ "text": format!("kept {n}") })).await["ok"], true);
    }
    let url = format!("sqlite://{}", db.display());
    let copy = dir.path().join("copy.db");
    // Writes go on while it copies.
    let writer = tokio::spawn(async move {
        for n in 5..20 {
            alice.emit_ack("message", json!({ "text": format!("during {n}") })).await;
        }
    });
    let (done, said) = rtca_backup(&[copy.to_str().unwrap(), "--database-url", &url]).await;
    assert!(done, "{said}");
    writer.await.unwrap();
    let copied = crate::common::stored_messages(&copy).await;
    assert!(copied.len() >= 5, "at least what was acked before: {}", copied.len());
    let seqs: Vec<i64> = copied.iter().map(|m| m.1).collect();
    assert_eq!(seqs, (1..=copied.len() as i64).collect::<Vec<_>>(), "one consistent moment: no holes");
    assert_ne!(epoch(&copy).await, epoch(&db).await, "restored, it is another history");
    // Never over an existing file, and a clear word when there is nothing to copy.
    let (done, said) = rtca_backup(&[copy.to_str().unwrap(), "--database-url", &url]).await;
    assert!(!done && said.contains("exists already"), "{said}");
    let missing = format!("sqlite://{}", dir.path().join("none.db").display());
    let (done, said) = rtca_backup(&[dir.path().join("x.db").to_str().unwrap(), "--database-url", &missing]).await;
    assert!(!done && said.contains("no such database"), "{said}");
    server.stop().await;
}
