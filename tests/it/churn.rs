//! Churn: readers drop and reopen their connections at random while
//! writers send. After resuming by `seq` each time, every reader must end
//! with the full sequence: nothing missing, nothing twice, in order.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::common::{temp_db, TestClient, TestServer};
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

const WRITERS: usize = 3;
const MESSAGES_PER_WRITER: usize = 40;
const READERS: usize = 5;

/// Adds lobby messages to `seen`, keyed by seq. A message can arrive both
/// live and by replay; it must be the same message both times.
fn absorb<'a>(seen: &mut BTreeMap<i64, i64>, messages: impl IntoIterator<Item = &'a Value>) {
    for m in messages {
        let (seq, id) = (m["seq"].as_i64().unwrap(), m["id"].as_i64().unwrap());
        if let Some(previous) = seen.insert(seq, id) {
            assert_eq!(previous, id, "two messages share seq {seq}");
        }
    }
}

#[tokio::test]
async fn readers_that_keep_dropping_still_get_everything_once() {
    let (_dir, db) = temp_db();
    let server = TestServer::start(db).await;
    let total = (WRITERS * MESSAGES_PER_WRITER) as i64;

    let mut readers = Vec::new();
    for r in 0..READERS {
        let (client, ack) = server.online(&format!("reader{r}")).await;
        let token = ack["token"].clone();
        let addr = server.addr;
        readers.push(tokio::spawn(async move {
            let mut rng = rand::rngs::StdRng::seed_from_u64(r as u64);
            let mut seen = BTreeMap::new();
            let mut reconnects = 0;
            let mut client = Some(client);
            loop {
                let live = client.take().unwrap();
                // Listen live for a random while, then drop the connection.
                let window = Duration::from_millis(rng.gen_range(20..120));
                let events = live.drain(window).await;
                absorb(&mut seen, events.iter().filter(|(name, _)| name == "message").map(|(_, data)| data));
                live.close().await;
                if seen.len() as i64 == total {
                    return (seen, reconnects);
                }
                // Come back and resume from the last seq seen.
                let again = TestClient::connect(addr, Some(json!({ "token": token }))).await.unwrap();
                reconnects += 1;
                loop {
                    let after = seen.keys().next_back().copied().unwrap_or(0);
                    let page = again.emit_ack("history", json!({ "after": after, "limit": 25 })).await;
                    absorb(&mut seen, page["messages"].as_array().unwrap());
                    if page["more"] == false {
                        break;
                    }
                }
                // A gap below the newest seq would mean a lost message.
                let newest = seen.keys().next_back().copied().unwrap_or(0);
                assert_eq!(seen.len() as i64, newest, "reader{r} has a gap after resuming");
                if seen.len() as i64 == total {
                    again.close().await;
                    return (seen, reconnects);
                }
                client = Some(again);
            }
        }));
    }

    let mut writers = Vec::new();
    for w in 0..WRITERS {
        let (client, _) = server.online(&format!("writer{w}")).await;
        writers.push(tokio::spawn(async move {
            let mut rng = rand::rngs::StdRng::seed_from_u64(100 + w as u64);
            for i in 0..MESSAGES_PER_WRITER {
                // Past the rate limit, a writer waits and resends the same
                // cid, as the browser's outbox does.
                let ack = client
                    .emit_ack_patiently("message", json!({ "text": format!("w{w} #{i}"), "cid": format!("w{w}-{i}") }))
                    .await;
                assert_eq!(ack["ok"], true);
                tokio::time::sleep(Duration::from_millis(rng.gen_range(0..8))).await;
            }
        }));
    }
    for writer in writers {
        writer.await.unwrap();
    }
    let mut delivered = 0;
    let mut reconnects = 0;
    for reader in readers {
        let (seen, n) =
            tokio::time::timeout(Duration::from_secs(60), reader).await.expect("a reader never caught up").unwrap();
        assert_eq!(seen.keys().copied().collect::<Vec<_>>(), (1..=total).collect::<Vec<_>>());
        delivered += seen.len();
        reconnects += n;
    }
    println!(
        "churn: delivered {delivered}/{} messages to {READERS} readers across {reconnects} reconnects",
        total as usize * READERS
    );
    server.stop().await;
}

/// What a reader holds of each message: its state, by id.
type Held = BTreeMap<i64, Value>;

/// Keeps `message` unless a later state of it is held already.
fn keep(held: &mut Held, message: &Value) {
    let id = message["id"].as_i64().unwrap();
    let newer = |old: &Value| old["change"].as_i64().unwrap_or(0) <= message["change"].as_i64().unwrap_or(0);
    if held.get(&id).is_none_or(newer) {
        held.insert(id, message.clone());
    }
}

#[tokio::test]
async fn readers_that_keep_dropping_end_with_every_edit_deletion_and_reaction() {
    let (_dir, db) = temp_db();
    let server = TestServer::start(db).await;
    let (writer, _) = server.online("writer").await;
    let mut ids = Vec::new();
    for i in 0..20 {
        let ack = writer.emit_ack_patiently("message", json!({ "text": format!("first #{i}") })).await;
        ids.push(ack["id"].as_i64().unwrap());
    }
    let changes_done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut readers = Vec::new();
    for r in 0..3u64 {
        let (client, ack) = server.online(&format!("reader{r}")).await;
        let (token, addr, done) = (ack["token"].clone(), server.addr, changes_done.clone());
        readers.push(tokio::spawn(async move {
            let mut rng = rand::rngs::StdRng::seed_from_u64(r);
            let mut held = Held::new();
            let page = client.emit_ack("history", json!({ "limit": 100 })).await;
            page["messages"].as_array().unwrap().iter().for_each(|m| keep(&mut held, m));
            let mut seen_change = page["changes"].as_i64().unwrap();
            let mut live = client;
            loop {
                let last_round = done.load(std::sync::atomic::Ordering::SeqCst);
                for (name, data) in live.drain(Duration::from_millis(rng.gen_range(20..100))).await {
                    if name == "message" || name == "message_changed" {
                        seen_change = seen_change.max(data["change"].as_i64().unwrap_or(0));
                        keep(&mut held, &data);
                    }
                }
                live.close().await;
                live = TestClient::connect(addr, Some(json!({ "token": token }))).await.unwrap();
                // Resume: what was sent, then what changed, since.
                let newest = held.values().map(|m| m["seq"].as_i64().unwrap()).max().unwrap_or(0);
                let missed = live.emit_ack_patiently("history", json!({ "after": newest, "limit": 100 })).await;
                missed["messages"].as_array().unwrap().iter().for_each(|m| keep(&mut held, m));
                loop {
                    let caught = live.emit_ack_patiently("changes", json!({ "after": seen_change })).await;
                    for message in caught["messages"].as_array().unwrap() {
                        seen_change = seen_change.max(message["change"].as_i64().unwrap());
                        keep(&mut held, message);
                    }
                    seen_change = seen_change.max(caught["changes"].as_i64().unwrap());
                    if caught["more"] == false {
                        break;
                    }
                }
                if last_round {
                    live.close().await;
                    return held;
                }
            }
        }));
    }
    // Edits, deletions and reactions at random, with new messages between.
    let (other, _) = server.online("other").await;
    let mut rng = rand::rngs::StdRng::seed_from_u64(99);
    for n in 0..60 {
        let id = ids[rng.gen_range(0..ids.len())];
        let ack = match n % 4 {
            0 => writer.emit_ack_patiently("edit", json!({ "id": id, "text": format!("edit {n}") })).await,
            1 => {
                let emoji = ["👍", "🎉", "❤️"][n % 3];
                other.emit_ack_patiently("react", json!({ "id": id, "emoji": emoji })).await
            }
            2 => writer.emit_ack_patiently("message", json!({ "text": format!("more {n}") })).await,
            _ if n % 20 == 3 => writer.emit_ack_patiently("delete", json!({ "id": id })).await,
            _ => other.emit_ack_patiently("react", json!({ "id": id, "emoji": "👀" })).await,
        };
        // Changes to a deleted message are refused; nothing else is.
        assert!(ack["ok"] == true || ack["error"]["code"] == "message_deleted", "{ack}");
    }
    changes_done.store(true, std::sync::atomic::Ordering::SeqCst);
    let truth = writer.emit_ack("history", json!({ "limit": 500 })).await;
    let truth: Held =
        truth["messages"].as_array().unwrap().iter().map(|m| (m["id"].as_i64().unwrap(), m.clone())).collect();
    for reader in readers {
        let held =
            tokio::time::timeout(Duration::from_secs(60), reader).await.expect("a reader never finished").unwrap();
        assert_eq!(held, truth, "a reader's messages differ from the server's");
    }
    server.stop().await;
}
