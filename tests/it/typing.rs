//! Who is typing, against the real server: it reaches the conversation and
//! nobody else, goes when the message is posted, and a crowd typing costs
//! each socket about one frame a second.

use std::time::Duration;

use serde_json::json;

use crate::common::{temp_db, TestServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typing_reaches_the_conversation_only_and_ends_with_the_message() {
    let (_dir, db) = temp_db();
    let server = TestServer::start(db).await;
    let (alice, alice_ack) = server.online("alice").await;
    let (bob, bob_ack) = server.online("bob").await;
    let (carol, _) = server.online("carol").await;
    let (alice_id, bob_id) = (alice_ack["user"]["id"].as_i64().unwrap(), bob_ack["user"]["id"].as_i64().unwrap());

    assert_eq!(alice.emit_ack("typing", json!({})).await["ok"], true);
    let seen = bob.event_where("typing", |t| t["room"] == "lobby" && t["count"] == 1).await;
    assert_eq!(seen["users"], json!([{ "id": alice_id, "name": "alice" }]));
    alice.emit_ack("message", json!({ "text": "done typing" })).await;
    bob.event_where("typing", |t| t["room"] == "lobby" && t["count"] == 0).await;

    // A private conversation's typing reaches its two, and nobody else.
    carol.drain(Duration::from_millis(100)).await;
    assert_eq!(alice.emit_ack("typing", json!({ "with": bob_id })).await["ok"], true);
    let private = bob.event_where("typing", |t| t.get("pair").is_some()).await;
    let mut pair = [alice_id, bob_id];
    pair.sort();
    assert_eq!((private["pair"].clone(), private["count"].clone()), (json!(pair), json!(1)));
    let heard = carol.drain(Duration::from_millis(1500)).await;
    assert!(!heard.iter().any(|(name, data)| name == "typing" && data.get("pair").is_some()), "{heard:?}");

    // Only where one may post.
    alice.emit_ack("create_room", json!({ "name": "inner", "private": true })).await;
    alice.emit_ack("create_room", json!({ "name": "open" })).await;
    for (room, code) in [("inner", "no_such_room"), ("open", "not_a_member")] {
        assert_eq!(carol.emit_ack("typing", json!({ "room": room })).await["error"]["code"], code);
    }
    for (bad, code) in [
        (json!({ "with": 999_999 }), "no_such_user"),
        (json!({ "room": "lobby", "with": bob_id }), "invalid_payload"),
        (json!({ "with": alice_id }), "invalid_payload"),
    ] {
        assert_eq!(alice.emit_ack("typing", bad.clone()).await["error"]["code"], code, "{bad}");
    }
    let visitor = server.client().await;
    assert_eq!(visitor.emit_ack("typing", json!({})).await["error"]["code"], "not_online");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crowd_typing_costs_each_socket_about_a_frame_a_second() {
    let (_dir, db) = temp_db();
    let server = TestServer::start(db).await;
    let (reader, _) = server.online("reader").await;
    let mut typists = Vec::new();
    for n in 0..30 {
        typists.push(server.online(&format!("typist{n}")).await.0);
    }
    reader.drain(Duration::from_millis(1200)).await;
    let started = std::time::Instant::now();
    // Everyone types, and says so again and again, for two seconds.
    while started.elapsed() < Duration::from_secs(2) {
        futures::future::join_all(typists.iter().map(|t| t.emit_ack("typing", json!({})))).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let frames: Vec<_> =
        reader.drain(Duration::from_millis(1100)).await.into_iter().filter(|(name, _)| name == "typing").collect();
    assert!((1..=5).contains(&frames.len()), "{} typing frames in about 3 s", frames.len());
    let last = &frames.last().unwrap().1;
    assert_eq!((last["count"].clone(), last["users"].as_array().unwrap().len()), (json!(30), 5));
    server.stop().await;
}
