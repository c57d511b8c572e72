//! History by `seq` cursor, and resuming after a reconnect without gaps or
//! duplicates, against the real server.

use crate::common::{temp_db, TestClient, TestServer};
use serde_json::{json, Value};

fn seqs(page: &Value, field: &str) -> Vec<i64> {
    page[field].as_array().map(|m| m.iter().map(|m| m["seq"].as_i64().unwrap()).collect()).unwrap_or_default()
}

#[tokio::test]
async fn pages_move_by_seq_cursor_in_both_directions() {
    let (_dir, db) = temp_db();
    let server = TestServer::start(db).await;
    let (alice, _) = server.online("alice").await;
    for i in 1..=7 {
        alice.emit_ack("message", json!({ "text": format!("m{i}") })).await;
    }
    let latest = alice.emit_ack("history", json!({ "limit": 3 })).await;
    assert_eq!((seqs(&latest, "messages"), latest["more"].clone()), (vec![5, 6, 7], json!(true)));
    let older = alice.emit_ack("history", json!({ "before": 5, "limit": 3 })).await;
    assert_eq!((seqs(&older, "messages"), older["more"].clone()), (vec![2, 3, 4], json!(true)));
    let oldest = alice.emit_ack("history", json!({ "before": 2 })).await;
    assert_eq!((seqs(&oldest, "messages"), oldest["more"].clone()), (vec![1], json!(false)));
    let forward = alice.emit_ack("history", json!({ "after": 4, "limit": 2 })).await;
    assert_eq!((seqs(&forward, "messages"), forward["more"].clone()), (vec![5, 6], json!(true)));
    let caught_up = alice.emit_ack("history", json!({ "after": 7 })).await;
    assert_eq!((seqs(&caught_up, "messages"), caught_up["more"].clone()), (vec![], json!(false)));
    assert_eq!(latest["messages"][0]["text"], "m5");

    // Anyone may read the lobby, even before `online`.
    let visitor = server.client().await;
    assert_eq!(seqs(&visitor.emit_ack("history", json!({})).await, "messages"), (1..=7).collect::<Vec<_>>());
    server.stop().await;
}

#[tokio::test]
async fn private_history_is_served_only_to_its_two_parties() {
    let (_dir, db) = temp_db();
    let server = TestServer::start(db).await;
    let (alice, alice_ack) = server.online("alice").await;
    let (bob, bob_ack) = server.online("bob").await;
    let (carol, _) = server.online("carol").await;
    let (alice_id, bob_id) = (alice_ack["user"]["id"].clone(), bob_ack["user"]["id"].clone());
    alice.emit_ack("secret", json!({ "to": bob_id, "text": "for bob only" })).await;

    let bobs = bob.emit_ack("history", json!({ "with": alice_id })).await;
    assert_eq!(bobs["secrets"][0]["text"], "for bob only");
    let alices = alice.emit_ack("history", json!({ "with": bob_id })).await;
    assert_eq!(alices["secrets"][0]["text"], "for bob only");
    // Carol can only ever name her own conversations.
    for with in [&alice_id, &bob_id] {
        let page = carol.emit_ack("history", json!({ "with": with })).await;
        assert_eq!(page["ok"], true);
        assert!(!page.to_string().contains("for bob only"), "{page}");
    }
    let visitor = server.client().await;
    assert_eq!(visitor.emit_ack("history", json!({ "with": alice_id })).await["error"]["code"], "not_online");
    for (bad, code) in [
        (json!({ "before": 3, "after": 1 }), "invalid_payload"),
        (json!({ "limit": 0 }), "invalid_payload"),
        (json!({ "limit": 100_000 }), "invalid_payload"),
        (json!({ "room": "lobby", "with": 1 }), "invalid_payload"),
        (json!({ "room": "dm:1:2" }), "no_such_room"),
        (json!({ "after": "x" }), "invalid_payload"),
    ] {
        assert_eq!(carol.emit_ack("history", bad.clone()).await["error"]["code"], code, "{bad}");
    }
    server.stop().await;
}

#[tokio::test]
async fn a_reconnecting_client_resumes_exactly_what_it_missed() {
    let (_dir, db) = temp_db();
    let server = TestServer::start(db).await;
    let (alice, _) = server.online("alice").await;
    let (bob, bob_ack) = server.online("bob").await;
    alice.emit_ack("message", json!({ "text": "before" })).await;
    let last_seen = bob.event_where("message", |m| m["text"] == "before").await["seq"].as_i64().unwrap();
    bob.close().await;

    for i in 1..=3 {
        alice.emit_ack("message", json!({ "text": format!("missed {i}") })).await;
    }
    let bob = TestClient::connect(server.addr, Some(json!({ "token": bob_ack["token"] }))).await.unwrap();
    let resumed = bob.emit_ack("history", json!({ "after": last_seen })).await;
    let texts: Vec<&str> =
        resumed["messages"].as_array().unwrap().iter().map(|m| m["text"].as_str().unwrap()).collect();
    assert_eq!(texts, ["missed 1", "missed 2", "missed 3"]);
    assert_eq!(seqs(&resumed, "messages"), vec![last_seen + 1, last_seen + 2, last_seen + 3]);
    assert_eq!(resumed["more"], false);
    server.stop().await;
}

#[tokio::test]
async fn a_reconnecting_client_learns_of_conversations_started_while_it_was_away() {
    let (_dir, db) = temp_db();
    let server = TestServer::start(db).await;
    let (alice, alice_ack) = server.online("alice").await;
    let (bob, _) = server.online("bob").await;
    let alice_id = alice_ack["user"]["id"].clone();
    bob.emit_ack("secret", json!({ "to": alice_id, "text": "hi alice" })).await;
    let before = alice.emit_ack("conversations", json!(null)).await;
    assert_eq!(before["conversations"].as_array().map(Vec::len), Some(1), "{before}");
    assert_eq!(
        (before["conversations"][0]["with"]["name"].clone(), before["conversations"][0]["last_seq"].clone()),
        (json!("bob"), json!(1))
    );
    alice.close().await;

    // While alice is away, bob writes again and carol, a stranger, starts a
    // conversation with her.
    bob.emit_ack("secret", json!({ "to": alice_id, "text": "still there?" })).await;
    let (carol, _) = server.online("carol").await;
    carol.emit_ack("secret", json!({ "to": alice_id, "text": "we have not met" })).await;

    let alice = TestClient::connect(server.addr, Some(json!({ "token": alice_ack["token"] }))).await.unwrap();
    let after = alice.emit_ack("conversations", json!(null)).await;
    let listed: Vec<(String, i64)> = after["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["with"]["name"].as_str().unwrap().to_owned(), c["last_seq"].as_i64().unwrap()))
        .collect();
    assert_eq!(listed, [("carol".to_owned(), 1), ("bob".to_owned(), 2)], "most recent first: {after}");
    let from_carol = alice.emit_ack("history", json!({ "with": after["conversations"][0]["with"]["id"] })).await;
    assert_eq!(from_carol["secrets"][0]["text"], "we have not met");

    // Each list is its owner's alone; a visitor has none.
    let bobs = bob.emit_ack("conversations", json!(null)).await;
    assert_eq!(bobs["conversations"].as_array().map(Vec::len), Some(1), "{bobs}");
    assert_eq!(bobs["conversations"][0]["with"]["id"], alice_id);
    let visitor = server.client().await;
    assert_eq!(visitor.emit_ack("conversations", json!(null)).await["error"]["code"], "not_online");
    server.stop().await;
}

#[tokio::test]
async fn the_history_epoch_survives_a_restart_and_changes_with_a_new_database() {
    let (_dir, db) = temp_db();
    let epoch_of = |server: &TestServer| {
        let addr = server.addr;
        async move {
            let client = TestClient::connect(addr, None).await.unwrap();
            let page = client.emit_ack("history", json!({})).await;
            page["epoch"].as_str().unwrap().to_owned()
        }
    };
    let server = TestServer::start(db.clone()).await;
    let first = epoch_of(&server).await;
    assert_eq!(first.len(), 16, "64 random bits in hex: {first}");
    server.stop().await;

    let again = TestServer::start(db).await;
    assert_eq!(epoch_of(&again).await, first, "a restart keeps the history");
    again.stop().await;

    let (_other_dir, other_db) = temp_db();
    let fresh = TestServer::start(other_db).await;
    assert_ne!(epoch_of(&fresh).await, first, "a new database is a new history");
    fresh.stop().await;
}
