//! The real-time contract against the real server: presence, broadcast,
//! private messages, acks after commit, history across a restart, and bad
//! input. Each test starts its own server on 127.0.0.1:0 with its own
//! SQLite file.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::common::{stored_messages, temp_db, TestClient, TestServer};
use rtca::engine_io::encode_event;
use serde_json::{json, Value};

fn user_id(ack: &Value) -> i64 {
    ack["user"]["id"].as_i64().unwrap()
}

#[tokio::test]
async fn online_acks_broadcasts_and_sends_presence() {
    let (_dir, db) = temp_db();
    let server = TestServer::start(db).await;
    let (alice, ack) = server.online("alice").await;
    assert_eq!(ack["user"]["name"], "alice");
    assert!(ack["token"].as_str().unwrap().len() >= 32, "token should carry at least 128 bits");
    let presence = alice.event_where("presence", |p| p["users"].as_array().is_some_and(|u| !u.is_empty())).await;
    assert_eq!(presence["users"][0]["name"], "alice");

    let (bob, bob_ack) = server.online("bob").await;
    let seen = alice.event_where("online", |e| e["user"]["name"] == "bob").await;
    assert_eq!(seen["user"]["id"], bob_ack["user"]["id"]);
    assert!(seen["at"].as_i64().unwrap() > 0);
    // The newcomer hears its own `online` too (io.sockets.emit).
    bob.event_where("online", |e| e["user"]["name"] == "bob").await;
    let names: Vec<String> = bob.event_where("presence", |p| p["users"].as_array().is_some_and(|u| u.len() == 2)).await
        ["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, vec!["alice", "bob"]);
    server.stop().await;
}

#[tokio::test]
async fn a_name_held_by_someone_online_is_refused() {
    let (_dir, db) = temp_db();
    let server = TestServer::start(db).await;
    let (_alice, _) = server.online("Alice").await;
    let other = server.client().await;
    let ack = other.emit_ack("online", json!({ "name": "alice" })).await;
    assert_eq!(ack["ok"], false);
    assert_eq!(ack["error"]["code"], "name_taken");
    assert!(!ack["error"]["message"].as_str().unwrap().is_empty());
    server.stop().await;
}

#[tokio::test]
async fn messages_reach_the_whole_room_after_commit() {
    let (_dir, db) = temp_db();
    let server = TestServer::start(db.clone()).await;
    let (alice, _) = server.online("alice").await;
    let (bob, _) = server.online("bob").await;
    let (carol, _) = server.online("carol").await;

    let ack = alice.emit_ack("message", json!({ "text": "hello all", "cid": "c-1" })).await;
    assert_eq!(ack["ok"], true, "{ack}");
    let id = ack["id"].as_i64().unwrap();
    assert_eq!(ack["seq"], 1);

    // The ack came after the commit: a separate connection already sees it.
    let stored = stored_messages(&db).await;
    assert_eq!(stored, vec![(id, 1, "hello all".to_owned(), Some("c-1".to_owned()))]);

    for client in [&alice, &bob, &carol] {
        let m = client.event("message").await;
        assert_eq!(m["id"], id);
        assert_eq!(m["seq"], 1);
        assert_eq!(m["room"], "lobby");
        assert_eq!(m["from"]["name"], "alice");
        assert_eq!(m["text"], "hello all");
        assert_eq!(m["cid"], "c-1");
        assert!(m["at"].as_i64().unwrap() > 0);
    }
    let second = bob.emit_ack("message", json!({ "text": "hi alice", "cid": "c-2", "room": "lobby" })).await;
    assert_eq!(second["seq"], 2);
    server.stop().await;
}

#[tokio::test]
async fn a_retried_cid_is_stored_once_and_acked_the_same() {
    let (_dir, db) = temp_db();
    let server = TestServer::start(db).await;
    let (alice, _) = server.online("alice").await;
    let first = alice.emit_ack("message", json!({ "text": "once", "cid": "same" })).await;
    let retry = alice.emit_ack("message", json!({ "text": "once", "cid": "same" })).await;
    assert_eq!(first, retry);
    let delivered = alice.drain(Duration::from_millis(300)).await;
    assert_eq!(delivered.iter().filter(|(name, _)| name == "message").count(), 1, "{delivered:?}");
    server.stop().await;
}

#[tokio::test]
async fn secrets_reach_only_the_two_parties() {
    let (_dir, db) = temp_db();
    let server = TestServer::start(db).await;
    let (alice, _) = server.online("alice").await;
    let (bob, bob_ack) = server.online("bob").await;
    let (carol, _) = server.online("carol").await;
    // Alice in a second tab sees her own secret too.
    let alice_token = alice.emit_ack("online", json!({ "name": "alice" })).await["token"].clone();
    let alice_tab = TestClient::connect(server.addr, Some(json!({ "token": alice_token }))).await.unwrap();

    let ack = alice.emit_ack("secret", json!({ "to": user_id(&bob_ack), "text": "psst", "cid": "s-1" })).await;
    assert_eq!(ack["ok"], true, "{ack}");
    for client in [&bob, &alice, &alice_tab] {
        let s = client.event("secret").await;
        assert_eq!(s["text"], "psst");
        assert_eq!(s["from"]["name"], "alice");
        assert_eq!(s["to"]["name"], "bob");
        assert_eq!(s["id"], ack["id"]);
    }
    // Carol's own message is a barrier: anything sent to her before it
    // would already be in her queue.
    carol.emit_ack("message", json!({ "text": "anyone?" })).await;
    let carol_saw = carol.drain(Duration::from_millis(300)).await;
    assert!(carol_saw.iter().all(|(name, _)| name != "secret"), "carol saw a secret: {carol_saw:?}");
    assert!(carol_saw.iter().all(|(_, data)| !data.to_string().contains("psst")));

    let unknown = alice.emit_ack("secret", json!({ "to": 999_999, "text": "hello?" })).await;
    assert_eq!(unknown["error"]["code"], "no_such_user");
    server.stop().await;
}

#[tokio::test]
async fn offline_fires_when_the_last_connection_closes() {
    let (_dir, db) = temp_db();
    let server = TestServer::start(db).await;
    let (alice, _) = server.online("alice").await;
    let (bob, bob_ack) = server.online("bob").await;
    let token = bob_ack["token"].clone();
    let bob_tab = TestClient::connect(server.addr, Some(json!({ "token": token }))).await.unwrap();
    let session = bob_tab.event("session").await;
    assert_eq!(session["user"]["name"], "bob", "the token restores the identity without `online`");
    let sent = bob_tab.emit_ack("message", json!({ "text": "from my second tab" })).await;
    assert_eq!(sent["ok"], true);

    bob.close().await;
    let early = alice.drain(Duration::from_millis(400)).await;
    assert!(early.iter().all(|(name, _)| name != "offline"), "bob still has a tab open: {early:?}");

    bob_tab.close().await;
    let offline = alice.event("offline").await;
    assert_eq!(offline["user"]["name"], "bob");
    assert!(offline["at"].as_i64().unwrap() > 0);
    server.stop().await;
}

#[tokio::test]
async fn history_survives_a_restart_on_the_same_file() {
    let (_dir, db) = temp_db();
    let server = TestServer::start(db.clone()).await;
    let (alice, ack) = server.online("alice").await;
    let token = ack["token"].as_str().unwrap().to_owned();
    for i in 1..=3 {
        alice.emit_ack("message", json!({ "text": format!("before restart {i}"), "cid": format!("r{i}") })).await;
    }
    alice.close().await;
    server.stop().await;

    let server = TestServer::start(db).await;
    // The page renders the persisted history.
    let page = reqwest::get(format!("http://{}/", server.addr)).await.unwrap().text().await.unwrap();
    for i in 1..=3 {
        assert!(page.contains(&format!("before restart {i}")), "history missing from the page");
    }
    // The session survived too, and seq continues.
    let alice = TestClient::connect(server.addr, Some(json!({ "token": token }))).await.unwrap();
    assert_eq!(alice.event("session").await["user"]["name"], "alice");
    let ack = alice.emit_ack("message", json!({ "text": "after restart" })).await;
    assert_eq!(ack["seq"], 4);
    server.stop().await;
}

#[tokio::test]
async fn bad_input_gets_an_error_and_stores_nothing() {
    let (_dir, db) = temp_db();
    let server = TestServer::start(db.clone()).await;
    let anonymous = server.client().await;
    let before_online = anonymous.emit_ack("message", json!({ "text": "hi" })).await;
    assert_eq!(before_online["error"]["code"], "not_online");

    let (alice, _) = server.online("alice").await;
    let cases = [
        ("message", json!({ "text": "" }), "empty_text"),
        ("message", json!({ "text": "   \n " }), "empty_text"),
        ("message", json!({ "text": "x".repeat(4001) }), "text_too_long"),
        ("message", json!({ "text": 42 }), "invalid_payload"),
        ("message", json!("just a string"), "invalid_payload"),
        ("message", json!({ "text": "hi", "room": "elsewhere" }), "no_such_room"),
        ("message", json!({ "text": "hi", "cid": "x".repeat(65) }), "invalid_payload"),
        ("secret", json!({ "to": "bob", "text": "hi" }), "invalid_payload"),
        ("secret", json!({ "to": 1, "text": "" }), "empty_text"),
        ("online", json!({ "name": "" }), "invalid_name"),
        ("online", json!(17), "invalid_payload"),
        ("no-such-event", json!({}), "unknown_event"),
    ];
    for (event, data, code) in cases {
        let ack = alice.emit_ack(event, data.clone()).await;
        assert_eq!(ack["ok"], false, "{event} {data} should fail");
        assert_eq!(ack["error"]["code"], code, "{event} {data}: {ack}");
        assert!(ack["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    // Without an ack, the error comes as an `error` event.
    alice.emit("message", json!({ "text": "" }));
    assert_eq!(alice.event("error").await["code"], "empty_text");
    alice.emit("bogus", json!(null));
    assert_eq!(alice.event("error").await["code"], "unknown_event");
    let fine = server.online("still-works").await.0;
    assert_eq!(fine.emit_ack("message", json!({ "text": "ok" })).await["ok"], true);

    let texts: Vec<String> = stored_messages(&db).await.into_iter().map(|(_, _, text, _)| text).collect();
    assert_eq!(texts, vec!["ok"], "only the valid message is stored");
    server.stop().await;
}

#[tokio::test]
async fn a_forged_token_is_refused_and_a_foreign_origin_cannot_connect() {
    let (_dir, db) = temp_db();
    let server = TestServer::start(db).await;
    match TestClient::connect(server.addr, Some(json!({ "token": "forged" }))).await {
        Err(crate::common::ConnectError::Refused(data)) => assert!(data["message"].as_str().is_some()),
        Ok(_) => panic!("a forged token connected"),
        Err(other) => panic!("unexpected: {other:?}"),
    }
    let foreign = TestClient::connect_with(server.addr, None, Some("https://evil.example")).await;
    assert!(matches!(foreign, Err(crate::common::ConnectError::Http(_))), "a cross-site page opened a socket");
    let own = TestClient::connect_with(server.addr, None, Some(&format!("http://{}", server.addr))).await;
    assert!(own.is_ok());
    // The polling transport and server-function posts are guarded too.
    let http = reqwest::Client::new();
    let polling = http
        .get(format!("http://{}/socket.io/?EIO=4&transport=polling", server.addr))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(polling.status(), 403);
    let forged_join = http
        .post(format!("http://{}/api/join", server.addr))
        .header("origin", "https://evil.example")
        .form(&[("name", "victim")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged_join.status(), 403, "a cross-site form must not set a session");
    let own_join = http
        .post(format!("http://{}/api/join", server.addr))
        .header("origin", format!("http://{}", server.addr))
        .form(&[("name", "victim")])
        .send()
        .await
        .unwrap();
    assert!(own_join.status().is_success(), "{}", own_join.status());
    assert!(own_join.headers().get("set-cookie").is_some_and(|c| c.to_str().unwrap().contains("HttpOnly")));
    server.stop().await;
}

#[tokio::test]
async fn malformed_frames_never_panic_the_server() {
    // Count panics anywhere in this process (the server runs in it): a
    // handler panic would otherwise die quietly inside its task.
    static PANICS: AtomicUsize = AtomicUsize::new(0);
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        PANICS.fetch_add(1, Ordering::SeqCst);
        previous(info);
    }));

    let (_dir, db) = temp_db();
    let server = TestServer::start(db).await;
    let (alice, _) = server.online("alice").await;
    let junk = [
        "",
        "4",
        "42",
        "42[",
        "42[1,2]",
        "42{}",
        "4x",
        "9",
        "0",
        "2probe",
        "40/nope,",
        "41",
        "43[1]",
        "44{}",
        "42999999999999999999999[\"message\"]",
        "451-[\"message\",{\"_placeholder\":true,\"num\":0}]",
        "42[\"message\",{\"text\":{\"nested\":[1,2,3]}}]",
        "42[\"online\",{\"name\":null}]",
        "42[\"secret\",{\"to\":1e309,\"text\":\"x\"}]",
        "42[\"message\"]",
        "42[\"\"]",
    ];
    let (_, mallory) = server.online("mallory").await;
    for frame in junk {
        // A fresh connection per frame (as the same user): a frame that gets
        // one connection closed must not stop the others from being parsed.
        let attacker = TestClient::connect(server.addr, Some(json!({ "token": mallory["token"] }))).await.unwrap();
        attacker.send_raw(frame);
        attacker.send_raw(encode_event("message", &json!({ "text": "" }), None).unwrap());
        let _ = attacker.drain(Duration::from_millis(50)).await;
    }
    let ack = alice.emit_ack("message", json!({ "text": "still fine" })).await;
    assert_eq!(ack["ok"], true);
    assert_eq!(alice.event_where("message", |m| m["text"] == "still fine").await["from"]["name"], "alice");
    assert_eq!(PANICS.load(Ordering::SeqCst), 0, "the server panicked on input");
    server.stop().await;
}

#[tokio::test]
async fn oversized_packets_close_only_the_sender() {
    let (_dir, db) = temp_db();
    let server = TestServer::start_with(db.clone(), |config| config.max_packet_bytes = 1024).await;
    let (attacker, _) = server.online("mallory").await;
    let (alice, _) = server.online("alice").await;
    // Valid as a message (under 4000 characters) but over the packet cap.
    attacker.emit("message", json!({ "text": "x".repeat(2000), "cid": "big" }));
    assert!(attacker.closed_by_server().await, "an oversized frame must close its connection");
    let ack = alice.emit_ack("message", json!({ "text": "still here" })).await;
    assert_eq!(ack["ok"], true);
    assert!(stored_messages(&db).await.iter().all(|(_, _, _, cid)| cid.as_deref() != Some("big")));
    server.stop().await;
}

#[tokio::test]
async fn a_reused_cid_with_other_text_is_refused() {
    let (_dir, db) = temp_db();
    let server = TestServer::start(db).await;
    let (alice, _) = server.online("alice").await;
    assert_eq!(alice.emit_ack("message", json!({ "text": "first", "cid": "k" })).await["ok"], true);
    let clash = alice.emit_ack("message", json!({ "text": "second", "cid": "k" })).await;
    assert_eq!(clash["error"]["code"], "invalid_payload");
    server.stop().await;
}

#[tokio::test]
async fn renames_are_seen_by_everyone_and_invisible_names_refused() {
    let (_dir, db) = temp_db();
    let server = TestServer::start(db).await;
    let (alice, ack) = server.online("alice").await;
    let (bob, _) = server.online("bob").await;
    let guest = server.client().await;
    let sneaky = guest.emit_ack("online", json!({ "name": "ali\u{200B}ce" })).await;
    assert_eq!(sneaky["error"]["code"], "invalid_name");
    assert_eq!(alice.emit_ack("online", json!({ "name": "BOB" })).await["error"]["code"], "name_taken");
    let renamed = alice.emit_ack("online", json!({ "name": "alicia" })).await;
    assert_eq!(renamed["user"]["id"], ack["user"]["id"]);
    let seen = bob.event_where("online", |e| e["user"]["name"] == "alicia").await;
    assert_eq!(seen["user"]["id"], ack["user"]["id"]);
    // The old name is free again.
    assert_eq!(guest.emit_ack("online", json!({ "name": "alice" })).await["ok"], true);
    server.stop().await;
}

/// A rename the store cannot keep changes nothing: presence, live messages
/// and history all go on with the old name (they once parted ways, live
/// messages carrying the new name and history the old).
#[tokio::test]
async fn a_rename_the_store_refuses_changes_nothing() {
    let (_dir, db) = temp_db();
    let server = TestServer::start(db.clone()).await;
    let (alice, _) = server.online("alice").await;
    let (bob, _) = server.online("bob").await;
    // The real store, made to fail on renames.
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", db.display())).await.unwrap();
    sqlx::query(
        "CREATE TRIGGER no_renames BEFORE UPDATE OF name ON users BEGIN SELECT RAISE(ABORT, 'disk on fire'); END",
    )
    .execute(&pool)
    .await
    .unwrap();
    let refused = alice.emit_ack("online", json!({ "name": "alicia" })).await;
    assert_eq!(refused["error"]["code"], "internal", "{refused}");

    let ack = alice.emit_ack("message", json!({ "text": "still me" })).await;
    assert_eq!(ack["ok"], true);
    let live = bob.event_where("message", |m| m["text"] == "still me").await;
    assert_eq!(live["from"]["name"], "alice", "live messages keep the old name");
    let page = bob.emit_ack("history", json!({ "limit": 1 })).await;
    assert_eq!(page["messages"][0]["from"]["name"], "alice");
    // Presence too: the new name was never taken, the old one still is.
    let carol = server.client().await;
    assert_eq!(carol.emit_ack("online", json!({ "name": "alicia" })).await["ok"], true);
    assert_eq!(bob.emit_ack("online", json!({ "name": "Alice" })).await["error"]["code"], "name_taken");
    pool.close().await;
    server.stop().await;
}

/// A graceful stop closes the database: what was stored is written into
/// the main file and SQLite's write-ahead log goes with the last
/// connection (a writer thread or pool left open would keep it).
#[tokio::test]
async fn a_graceful_stop_closes_the_database() {
    let (_dir, db) = temp_db();
    let server = TestServer::start(db.clone()).await;
    let (alice, _) = server.online("alice").await;
    for n in 0..5 {
        assert_eq!(alice.emit_ack("message", json!({ "text": format!("kept {n}") })).await["ok"], true);
    }
    let wal = db.with_file_name(format!("{}-wal", db.file_name().unwrap().to_string_lossy()));
    assert!(wal.exists(), "the log exists while the server runs");
    server.stop().await;
    assert!(!wal.exists(), "the log is still there after a graceful stop");
    assert_eq!(crate::common::stored_messages(&db).await.len(), 5);
}
