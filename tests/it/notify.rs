//! Notification choices against the real server: each person's level per
//! conversation (all, mentions, mute) is kept, listed in `reads`, told to
//! their other sockets and nobody else's, settable without JavaScript, and
//! only for conversations they are in.

use serde_json::{json, Value};

use crate::common::{temp_db, token, TestClient, TestServer};

/// The level `client`'s person chose where `matches` says, as `reads`
/// lists the levels chosen (`None`: none, the default).
async fn chosen(client: &TestClient, matches: impl Fn(&Value) -> bool) -> Option<Value> {
    let reads = client.emit_ack("reads", json!(null)).await;
    reads["notify"].as_array().unwrap().iter().find(|setting| matches(setting)).map(|setting| setting["level"].clone())
}

fn id(ack: &Value) -> i64 {
    ack["user"]["id"].as_i64().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_choice_follows_its_chooser_to_every_socket_and_stays_theirs() {
    let (_dir, db) = temp_db();
    let server = TestServer::start(db).await;
    let (alice, alice_ack) = server.online("alice").await;
    let (bob, bob_ack) = server.online("bob").await;
    let alice_too = TestClient::connect(server.addr, Some(json!({ "token": token(&alice_ack) }))).await.unwrap();
    alice_too.event("session").await;
    let (alice_id, bob_id) = (id(&alice_ack), id(&bob_ack));
    let lobby_line = |setting: &Value| setting["room"] == "lobby";
    assert_eq!(chosen(&alice, lobby_line).await, None, "nothing chosen yet");

    let ack = alice.emit_ack("notify", json!({ "level": "mute" })).await;
    assert_eq!(
        (ack["ok"].clone(), ack["room"].clone(), ack["level"].clone()),
        (json!(true), json!("lobby"), json!("mute"))
    );
    let told = alice_too.event("notify").await;
    assert_eq!((told["room"].clone(), told["level"].clone()), (json!("lobby"), json!("mute")), "{told}");
    assert_eq!(chosen(&alice_too, lobby_line).await, Some(json!("mute")));
    assert_eq!(chosen(&bob, lobby_line).await, None, "alice's choice, not bob's");
    let heard = bob.drain(std::time::Duration::from_millis(300)).await;
    assert!(heard.iter().all(|(name, _)| name != "notify"), "bob hears nothing of it: {heard:?}");

    // A private conversation: by the other party's id, listed by its pair,
    // before either wrote a word in it.
    let ack = alice.emit_ack("notify", json!({ "with": bob_id, "level": "mentions" })).await;
    let pair = json!([alice_id.min(bob_id), alice_id.max(bob_id)]);
    assert_eq!((ack["pair"].clone(), ack["level"].clone()), (pair.clone(), json!("mentions")), "{ack}");
    assert_eq!(chosen(&alice, |setting| setting["pair"] == pair).await, Some(json!("mentions")));
    assert_eq!(chosen(&bob, |setting| setting["pair"] == pair).await, None, "bob's side is his");

    // Back to the default: no choice any more.
    assert_eq!(alice.emit_ack("notify", json!({ "room": "lobby", "level": "mentions" })).await["ok"], true);
    assert_eq!(chosen(&alice, lobby_line).await, None);

    // Without JavaScript: the header's form, posted with the session.
    let response = reqwest::Client::new()
        .post(format!("http://{}/api/notify", server.addr))
        .header("accept", "application/json")
        .header("cookie", format!("rtca_session={}", token(&bob_ack)))
        .form(&[("level", "mute"), ("room", ""), ("with", &alice_id.to_string())])
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.text().await.unwrap());
    assert_eq!(chosen(&bob, |setting| setting["pair"] == pair).await, Some(json!("mute")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_choice_is_only_for_a_conversation_one_is_in() {
    let (_dir, db) = temp_db();
    let server = TestServer::start(db).await;
    let (alice, alice_ack) = server.online("alice").await;
    let (bob, _) = server.online("bob").await;
    assert_eq!(bob.emit_ack("create_room", json!({ "name": "open" })).await["ok"], true);
    assert_eq!(bob.emit_ack("create_room", json!({ "name": "hidden", "private": true })).await["ok"], true);
    let code = |ack: Value| ack["error"]["code"].as_str().unwrap_or_default().to_owned();

    let refusals = [
        (json!({ "room": "open", "level": "mute" }), "not_a_member"),
        (json!({ "room": "hidden", "level": "mute" }), "no_such_room"),
        (json!({ "room": "nowhere", "level": "mute" }), "no_such_room"),
        (json!({ "with": id(&alice_ack), "level": "mute" }), "invalid_payload"),
        (json!({ "with": 987_654, "level": "mute" }), "no_such_user"),
        (json!({ "room": "lobby", "with": 1, "level": "mute" }), "invalid_payload"),
        (json!({ "level": "loud" }), "invalid_payload"),
        (json!({ "room": "lobby" }), "invalid_payload"),
    ];
    for (request, expected) in refusals {
        assert_eq!(code(alice.emit_ack("notify", request.clone()).await), expected, "{request}");
    }
    let stranger = server.client().await;
    assert_eq!(code(stranger.emit_ack("notify", json!({ "level": "mute" })).await), "not_online");
    // Nothing was kept of any of them.
    let reads = alice.emit_ack("reads", json!(null)).await;
    assert_eq!(reads["notify"], json!([]), "{reads}");
    // Once in, it is theirs to choose.
    assert_eq!(alice.emit_ack("join_room", json!({ "room": "open" })).await["ok"], true);
    assert_eq!(alice.emit_ack("notify", json!({ "room": "open", "level": "all" })).await["level"], "all");
}
