//! Presence under a crowd, against the real server: many users joining and
//! leaving at once reach every observer, batched for clients that asked
//! for it and one event per change for everyone else (the prototype's
//! clients), and both end up with the same, right picture.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::common::{temp_db, TestClient, TestServer, WAIT};
use rtca::server::config::Rate;
use serde_json::{json, Value};

const CROWD: usize = 100;

/// Who a client believes is online, from the events it has received.
#[derive(Default)]
struct Picture {
    online: BTreeSet<i64>,
    batches: usize,
}

impl Picture {
    fn apply(&mut self, name: &str, data: &Value) {
        let ids = |list: &Value| list.as_array().unwrap().iter().map(|u| u["id"].as_i64().unwrap()).collect::<Vec<_>>();
        match name {
            "presence" => self.online = ids(&data["users"]).into_iter().collect(),
            "online" => {
                self.online.insert(data["user"]["id"].as_i64().unwrap());
            }
            "offline" => {
                self.online.remove(&data["user"]["id"].as_i64().unwrap());
            }
            "presence_changes" => {
                self.batches += 1;
                for id in ids(&data["offline"]) {
                    self.online.remove(&id);
                }
                self.online.extend(ids(&data["online"]));
            }
            _ => {}
        }
    }

    /// Reads events until the picture is `expected` (or [`WAIT`] passes).
    async fn settle(&mut self, client: &TestClient, expected: &BTreeSet<i64>) {
        let deadline = tokio::time::Instant::now() + WAIT;
        while &self.online != expected && tokio::time::Instant::now() < deadline {
            for (name, data) in client.drain(Duration::from_millis(50)).await {
                self.apply(&name, &data);
            }
        }
        assert_eq!(&self.online, expected);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crowd_joining_and_leaving_reaches_batched_and_classic_clients_alike() {
    let (_dir, db) = temp_db();
    // One address plays the whole crowd.
    let server = TestServer::start_with(db, |config| {
        config.limits.connections_per_address = 1000;
        config.limits.join_per_address = Rate::new(1000.0, 1000);
        config.limits.handshake_per_address = Rate::new(1000.0, 1000);
    })
    .await;
    let batched = TestClient::connect(server.addr, Some(json!({ "presence": "batched" }))).await.unwrap();
    let ack = batched.emit_ack("online", json!({ "name": "watcher" })).await;
    let watcher = ack["user"]["id"].as_i64().unwrap();
    let (classic, classic_ack) = server.online("classic").await;
    let classic_id = classic_ack["user"]["id"].as_i64().unwrap();

    // Everyone at once.
    let names: Vec<String> = (0..CROWD).map(|n| format!("crowd{n}")).collect();
    let crowd = futures::future::join_all(names.iter().map(|name| server.online(name))).await;
    let mut everyone: BTreeSet<i64> = crowd.iter().map(|(_, ack)| ack["user"]["id"].as_i64().unwrap()).collect();
    everyone.extend([watcher, classic_id]);

    let (mut seen_batched, mut seen_classic) = (Picture::default(), Picture::default());
    seen_batched.settle(&batched, &everyone).await;
    seen_classic.settle(&classic, &everyone).await;
    // The classic client got no batches, and the batched one fewer events
    // than there were joins (a flush waits 50 ms; the crowd joins faster).
    assert_eq!(seen_classic.batches, 0);
    assert!(seen_batched.batches < CROWD, "{} batches for {CROWD} joins", seen_batched.batches);

    // Everyone leaves at once.
    futures::future::join_all(crowd.into_iter().map(|(client, _)| client.close())).await;
    let left = BTreeSet::from([watcher, classic_id]);
    seen_batched.settle(&batched, &left).await;
    seen_classic.settle(&classic, &left).await;

    // A newcomer's own list is right too.
    let (late, _) = server.online("late").await;
    let list = late.event_where("presence", |list| list["users"].as_array().unwrap().len() == 3).await;
    let names: BTreeSet<&str> = list["users"].as_array().unwrap().iter().map(|u| u["name"].as_str().unwrap()).collect();
    assert_eq!(names, BTreeSet::from(["classic", "late", "watcher"]));
    server.stop().await;
}

/// Checks that every batch follows the one before (or the list before it)
/// and returns the last version seen.
fn follow_versions(events: &[(String, Value)], mut last: Option<u64>) -> Option<u64> {
    for (name, data) in events {
        let version = data["version"].as_u64();
        match name.as_str() {
            "presence" => last = version,
            "presence_changes" => {
                let version = version.expect("a batch carries its version");
                if let Some(last) = last {
                    assert_eq!(version, last + 1, "a batch skipped or repeated: {events:?}");
                }
                last = Some(version);
            }
            _ => {}
        }
    }
    last
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_are_numbered_and_a_client_can_ask_for_the_list_again() {
    let (_dir, db) = temp_db();
    let server = TestServer::start(db).await;
    let batched = TestClient::connect(server.addr, Some(json!({ "presence": "batched" }))).await.unwrap();
    batched.emit_ack("online", json!({ "name": "watcher" })).await;
    // Each change in a flush of its own: a flush waits 50 ms after the last.
    let (alice, _) = server.online("alice").await;
    let mut events = batched.drain(Duration::from_millis(300)).await;
    let (_bob, _) = server.online("bob").await;
    events.extend(batched.drain(Duration::from_millis(300)).await);
    alice.close().await;
    events.extend(batched.drain(Duration::from_millis(300)).await);
    let batches = events.iter().filter(|(name, _)| name == "presence_changes").count();
    assert!(batches >= 3, "{batches} batches: {events:?}");
    let last = follow_versions(&events, None).expect("versions seen");

    // Asking again: acked at once, then the list, as of the last batch.
    assert_eq!(batched.emit_ack("presence", Value::Null).await, json!({ "ok": true }));
    let list = batched.event("presence").await;
    assert_eq!(list["version"].as_u64(), Some(last));
    let names: BTreeSet<&str> = list["users"].as_array().unwrap().iter().map(|u| u["name"].as_str().unwrap()).collect();
    assert_eq!(names, BTreeSet::from(["bob", "watcher"]));
    server.stop().await;
}

/// Where ack `ack_id`, and the first `event`, are in `arrivals`; `None`
/// if either is missing.
fn positions(arrivals: &[String], ack_id: u64, event: &str) -> Option<(usize, usize)> {
    let ack = arrivals.iter().position(|name| *name == format!("ack {ack_id}"))?;
    let event = arrivals.iter().position(|name| name == event)?;
    Some((ack, event))
}

/// On one socket, an ack arrives before what its request set off: the
/// socket's own `online` change and then the `presence` list after the ack
/// of `online`, the list after the ack of a `presence` request, the
/// sender's own message after its `message` ack. Acks, presence and
/// live messages all take the direct path (`delivery::direct`); an ack left
/// on socketioxide's queue would often come second.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ack_comes_before_what_its_request_set_off() {
    const ROUNDS: usize = 20;
    let (_dir, db) = temp_db();
    let server = TestServer::start(db).await;
    let kinds = [(Some(json!({ "presence": "batched" })), "presence_changes"), (None, "online")];
    for (n, (auth, own_change)) in kinds.into_iter().enumerate() {
        let client = TestClient::connect(server.addr, auth).await.unwrap();
        client.event("presence").await;
        let check = |start: usize, id: u64, event: &str| {
            let arrivals = client.arrivals();
            let (ack, set_off) = positions(&arrivals[start..], id, event).expect("both arrived");
            assert!(ack < set_off, "`{event}` came before ack {id}: {:?}", &arrivals[start..]);
        };

        let (start, id) = (client.arrivals().len(), client.next_ack_id());
        let ack = client.emit_ack("online", json!({ "name": format!("orderly{n}") })).await;
        let me = ack["user"]["id"].as_i64().unwrap();
        client.event_where("presence", |list| list["users"].as_array().unwrap().iter().any(|u| u["id"] == me)).await;
        check(start, id, own_change);
        check(start, id, "presence");

        for _ in 0..ROUNDS {
            // After a quiet spell (two flush windows), a request is flushed
            // at once: the race an ack must win.
            tokio::time::sleep(Duration::from_millis(120)).await;
            let (start, id) = (client.arrivals().len(), client.next_ack_id());
            assert_eq!(client.emit_ack("presence", Value::Null).await["ok"], true);
            client.event("presence").await;
            check(start, id, "presence");

            let (start, id) = (client.arrivals().len(), client.next_ack_id());
            let ack = client.emit_ack("message", json!({ "text": "in order" })).await;
            client.event_where("message", |message| message["id"] == ack["id"]).await;
            check(start, id, "message");
        }
        client.close().await;
    }
    server.stop().await;
}
