//! Acknowledged means durable: the real server binary takes a burst of
//! acked messages from several clients, is killed with SIGKILL mid-burst,
//! and restarts on the same database file. Every acked message must be
//! there exactly once and in order; clients that resend what was in flight
//! (same `cid`) store it once; reconnecting clients catch up with no gap.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::common::{spawn_binary, stored_messages, temp_db, TestClient};
use serde_json::{json, Value};
use tokio::process::Child;

const CLIENTS: usize = 4;
const ACKS_BEFORE_KILL: usize = 120;

/// Starts the `rtca` binary on an ephemeral port; returns it and its address.
async fn spawn_server(db: &Path) -> (Child, SocketAddr) {
    // This test drives the write path as fast as it goes; the default
    // per-user rate limits (tested in tests/hostile.rs) would pace it.
    let limits = [("RTCA_RATE_SEND_CONNECTION", "100000:100000"), ("RTCA_RATE_SEND_USER", "100000:100000")];
    let (child, addr, mut lines) = spawn_binary(db, "info", &limits).await;
    // Keep reading, as a log collector would.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, addr)
}

/// What one client sent: cid → ack (`None` while unacked).
type Sent = BTreeMap<String, Option<Value>>;

#[tokio::test]
async fn sigkill_mid_burst_loses_no_acknowledged_message() {
    let (_dir, db) = temp_db();
    let (mut server, addr) = spawn_server(&db).await;

    let mut tokens = Vec::new();
    let mut clients = Vec::new();
    for n in 0..CLIENTS {
        let client = TestClient::connect(addr, None).await.unwrap();
        let ack = client.emit_ack("online", json!({ "name": format!("writer{n}") })).await;
        tokens.push(ack["token"].as_str().unwrap().to_owned());
        clients.push(Arc::new(client));
    }
    let acked = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let sent: Vec<Arc<Mutex<Sent>>> = (0..CLIENTS).map(|_| Arc::default()).collect();
    let mut writers = Vec::new();
    for (n, client) in clients.iter().enumerate() {
        let (client, sent, acked) = (client.clone(), sent[n].clone(), acked.clone());
        writers.push(tokio::spawn(async move {
            // Several in flight at once, as a busy client would have.
            for batch in 0.. {
                let cids: Vec<String> = (0..4).map(|i| format!("w{n}-{batch}-{i}")).collect();
                let sends = cids.iter().map(|cid| {
                    sent.lock().unwrap().insert(cid.clone(), None);
                    client.try_emit_ack(
                        "message",
                        json!({ "text": format!("text {cid}"), "cid": cid }),
                        Duration::from_secs(2),
                    )
                });
                let acks = futures::future::join_all(sends).await;
                let mut alive = false;
                for (cid, ack) in cids.iter().zip(acks) {
                    if let Some(ack) = ack {
                        assert_eq!(ack["ok"], true, "{ack}");
                        sent.lock().unwrap().insert(cid.clone(), Some(ack));
                        acked.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        alive = true;
                    }
                }
                if !alive {
                    return;
                }
            }
        }));
    }
    while acked.load(std::sync::atomic::Ordering::SeqCst) < ACKS_BEFORE_KILL {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.start_kill().unwrap();
    server.wait().await.unwrap();
    for writer in writers {
        writer.await.unwrap();
    }

    // Every acked message is stored exactly once, with the acked id and seq.
    let stored = stored_messages(&db).await;
    let by_cid: BTreeMap<String, (i64, i64)> =
        stored.iter().map(|(id, seq, _, cid)| (cid.clone().unwrap(), (*id, *seq))).collect();
    assert_eq!(by_cid.len(), stored.len(), "a cid was stored twice");
    let mut acked_total = 0;
    for sent in &sent {
        for (cid, ack) in sent.lock().unwrap().iter() {
            if let Some(ack) = ack {
                acked_total += 1;
                let (id, seq) = by_cid.get(cid).unwrap_or_else(|| panic!("acked {cid} was lost"));
                assert_eq!((ack["id"].as_i64().unwrap(), ack["seq"].as_i64().unwrap()), (*id, *seq));
            }
        }
    }
    // seq runs 1..=n with no gap and no repeat.
    let seqs: Vec<i64> = stored.iter().map(|(_, seq, _, _)| *seq).collect();
    assert_eq!(seqs, (1..=stored.len() as i64).collect::<Vec<_>>());

    // Restart on the same file; clients resend whatever was unacked.
    let (mut server, addr) = spawn_server(&db).await;
    let mut resent = 0;
    for (n, token) in tokens.iter().enumerate() {
        let client = TestClient::connect(addr, Some(json!({ "token": token }))).await.unwrap();
        let unacked: Vec<String> =
            sent[n].lock().unwrap().iter().filter(|(_, ack)| ack.is_none()).map(|(cid, _)| cid.clone()).collect();
        for cid in unacked {
            let ack = client.emit_ack("message", json!({ "text": format!("text {cid}"), "cid": cid })).await;
            assert_eq!(ack["ok"], true, "{ack}");
            resent += 1;
        }
        client.close().await;
    }
    let after = stored_messages(&db).await;
    let cids: BTreeSet<String> = after.iter().map(|(_, _, _, cid)| cid.clone().unwrap()).collect();
    let all_sent: usize = sent.iter().map(|s| s.lock().unwrap().len()).sum();
    assert_eq!(cids.len(), after.len(), "a resend was stored twice");
    assert_eq!(after.len(), all_sent, "every message sent is stored exactly once");
    assert_eq!(
        after.iter().map(|(_, seq, _, _)| *seq).collect::<Vec<_>>(),
        (1..=after.len() as i64).collect::<Vec<_>>()
    );

    // A client that saw only the first half catches up with no gap.
    let reader = TestClient::connect(addr, Some(json!({ "token": tokens[0] }))).await.unwrap();
    let half = after.len() as i64 / 2;
    let mut seen: Vec<i64> = (1..=half).collect();
    loop {
        let page = reader.emit_ack("history", json!({ "after": seen.last(), "limit": 100 })).await;
        seen.extend(page["messages"].as_array().unwrap().iter().map(|m| m["seq"].as_i64().unwrap()));
        if page["more"] == false {
            break;
        }
    }
    assert_eq!(seen, (1..=after.len() as i64).collect::<Vec<_>>());
    println!(
        "durability: {acked_total} acked before SIGKILL, all present; {resent} in flight resent; {} stored, seq 1..={} without gaps",
        after.len(),
        after.len()
    );
    server.start_kill().unwrap();
    let _ = server.wait().await;
}
