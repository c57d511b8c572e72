//! How far each person has read, against the real server: it never moves
//! back, agrees across a person's sockets live, tells the other party of
//! a private conversation and nobody in a room, and gives unread counts.

use std::time::Duration;

use serde_json::{json, Value};

use crate::common::{temp_db, token, TestClient, TestServer};

/// The state `reads` lists for the conversation matching `matches`.
async fn state_of(client: &TestClient, matches: impl Fn(&Value) -> bool) -> Value {
    let reads = client.emit_ack("reads", json!(null)).await;
    reads["reads"].as_array().unwrap().iter().find(|r| matches(r)).cloned().unwrap_or(Value::Null)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reading_moves_forward_and_every_tab_hears_it() {
    let (_dir, db) = temp_db();
    let server = TestServer::start(db.clone()).await;
    let (alice, _) = server.online("alice").await;
    let (bob, bob_ack) = server.online("bob").await;
    let bob_too = TestClient::connect(server.addr, Some(json!({ "token": token(&bob_ack) }))).await.unwrap();
    for n in 1..=3 {
        alice.emit_ack("message", json!({ "text": format!("news {n}") })).await;
    }
    bob.emit_ack("message", json!({ "text": "mine does not count" })).await;
    let lobby = state_of(&bob, |r| r["room"] == "lobby").await;
    assert_eq!((lobby["seq"].clone(), lobby["unread"].clone()), (json!(0), json!(3)), "{lobby}");

    let read = bob.emit_ack("read", json!({ "seq": 2 })).await;
    assert_eq!((read["ok"].clone(), read["seq"].clone(), read["unread"].clone()), (json!(true), json!(2), json!(1)));
    let elsewhere = bob_too.event_where("read", |r| r["room"] == "lobby").await;
    assert_eq!((elsewhere["seq"].clone(), elsewhere["unread"].clone()), (json!(2), json!(1)));
    // Never back; and past the newest is the newest.
    assert_eq!(bob.emit_ack("read", json!({ "seq": 1 })).await["seq"], 2);
    assert_eq!(bob.emit_ack("read", json!({ "seq": 999 })).await["seq"], 4);
    assert_eq!(state_of(&bob_too, |r| r["room"] == "lobby").await["unread"], 0);
    // A room's reading is the reader's own: others hear nothing of it.
    let heard = alice.drain(Duration::from_millis(300)).await;
    assert!(!heard.iter().any(|(name, _)| name == "read" || name == "seen"), "{heard:?}");
    for (bad, code) in [(json!({ "seq": -1 }), "invalid_payload"), (json!({}), "invalid_payload")] {
        assert_eq!(bob.emit_ack("read", bad.clone()).await["error"]["code"], code, "{bad}");
    }
    assert_eq!(server.client().await.emit_ack("read", json!({ "seq": 1 })).await["error"]["code"], "not_online");
    // A newcomer has read what the lobby said before they came.
    let (newcomer, _) = server.online("newcomer").await;
    let lobby = state_of(&newcomer, |r| r["room"] == "lobby").await;
    assert_eq!((lobby["seq"].clone(), lobby["unread"].clone()), (json!(4), json!(0)), "{lobby}");
    alice.emit_ack("message", json!({ "text": "news for the newcomer" })).await;
    assert_eq!(state_of(&newcomer, |r| r["room"] == "lobby").await["unread"], 1);
    // Marks are written a few at a time, and all of them by a graceful
    // stop: bob has read the lobby to 4 after a restart.
    server.stop().await;
    let server = TestServer::start(db).await;
    let bob = TestClient::connect(server.addr, Some(json!({ "token": token(&bob_ack) }))).await.unwrap();
    assert_eq!(bob.emit_ack("online", json!({ "name": "bob" })).await["ok"], true);
    let lobby = state_of(&bob, |r| r["room"] == "lobby").await;
    assert_eq!((lobby["seq"].clone(), lobby["unread"].clone()), (json!(4), json!(1)), "{lobby}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_private_conversation_tells_the_other_party_and_nobody_else() {
    let (_dir, db) = temp_db();
    let server = TestServer::start(db).await;
    let (alice, alice_ack) = server.online("alice").await;
    let (bob, bob_ack) = server.online("bob").await;
    let (carol, _) = server.online("carol").await;
    let (alice_id, bob_id) = (alice_ack["user"]["id"].as_i64().unwrap(), bob_ack["user"]["id"].as_i64().unwrap());
    for text in ["one", "two"] {
        alice.emit_ack("secret", json!({ "to": bob_id, "text": text })).await;
    }
    let pair = |r: &Value| r.get("pair").is_some();
    let bobs = state_of(&bob, pair).await;
    assert_eq!((bobs["unread"].clone(), bobs["peer_seq"].clone()), (json!(2), json!(0)), "{bobs}");

    assert_eq!(bob.emit_ack("read", json!({ "with": alice_id, "seq": 2 })).await["unread"], 0);
    let seen = alice.event("seen").await;
    let mut ids = [alice_id, bob_id];
    ids.sort();
    assert_eq!(seen, json!({ "pair": ids, "user": bob_id, "seq": 2 }));
    assert_eq!(state_of(&alice, pair).await["peer_seq"], 2);
    let heard = carol.drain(Duration::from_millis(300)).await;
    assert!(!heard.iter().any(|(name, _)| name == "read" || name == "seen"), "{heard:?}");

    // A private room does not exist for outsiders; joining a room makes
    // its past read, not news.
    alice.emit_ack("create_room", json!({ "name": "inner", "private": true })).await;
    alice.emit_ack("create_room", json!({ "name": "open" })).await;
    for n in 0..5 {
        alice.emit_ack("message", json!({ "room": "open", "text": format!("before {n}") })).await;
    }
    assert_eq!(carol.emit_ack("read", json!({ "room": "inner", "seq": 1 })).await["error"]["code"], "no_such_room");
    carol.emit_ack("join_room", json!({ "room": "open" })).await;
    let open = state_of(&carol, |r| r["room"] == "open").await;
    assert_eq!((open["seq"].clone(), open["unread"].clone()), (json!(5), json!(0)), "{open}");
    alice.emit_ack("message", json!({ "room": "open", "text": "after" })).await;
    assert_eq!(state_of(&carol, |r| r["room"] == "open").await["unread"], 1);
    server.stop().await;
}
