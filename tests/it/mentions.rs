//! Mentions against the real server: a message names people by id, or
//! calls a room's members with `@here` and `@room`; the server keeps only
//! the people who can read it, delivers and pages the mention with the
//! message, counts each reader's unread mentions, and refuses calling
//! everyone where it would reach too many.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::common::{temp_db, token, Http, TestClient, TestServer};

/// `reads`' line for `room`.
async fn read_line(client: &TestClient, room: &str) -> Value {
    let reads = client.emit_ack("reads", json!(null)).await;
    reads["reads"].as_array().unwrap().iter().find(|r| r["room"] == room).cloned().unwrap_or(Value::Null)
}

/// `(unread, mentions)` of `room` for `client`.
async fn counts(client: &TestClient, room: &str) -> (Value, Value) {
    let line = read_line(client, room).await;
    (line["unread"].clone(), line.get("mentions").cloned().unwrap_or(json!(0)))
}

fn id(ack: &Value) -> i64 {
    ack["user"]["id"].as_i64().unwrap()
}

/// Waits until `member` shows offline in `room`'s member list.
async fn until_offline(client: &TestClient, room: &str, member: i64) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let list = client.emit_ack("room_members", json!({ "room": room })).await;
        let online = list["members"].as_array().unwrap().iter().any(|m| m["id"] == member && m["online"] == true);
        if !online {
            return;
        }
        assert!(Instant::now() < deadline, "{member} still online: {list}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mentions_reach_who_can_read_them_and_are_counted_until_read() {
    let (_dir, db) = temp_db();
    let server = TestServer::start(db).await;
    let (alice, alice_ack) = server.online("alice").await;
    let (bob, bob_ack) = server.online("bob").await;
    let (carol, carol_ack) = server.online("carol").await;
    let (dave, dave_ack) = server.online("dave").await;
    let (alice_id, bob_id, carol_id, dave_id) = (id(&alice_ack), id(&bob_ack), id(&carol_ack), id(&dave_ack));
    assert_eq!(alice.emit_ack("create_room", json!({ "name": "design" })).await["ok"], true);
    for member in [&bob, &dave] {
        assert_eq!(member.emit_ack("join_room", json!({ "room": "design" })).await["ok"], true);
    }

    // Carol is not in the room, alice is the sender, bob is named twice:
    // only bob is called.
    let named = json!({
        "room": "design", "text": "@bob @carol have a look",
        "mentions": [bob_id, carol_id, alice_id, bob_id],
    });
    let ack = alice.emit_ack("message", named).await;
    assert_eq!(ack["ok"], true, "{ack}");
    let live = bob.event_where("message", |m| m["room"] == "design").await;
    assert_eq!((live["mentions"].clone(), live.get("everyone")), (json!([bob_id]), None), "{live}");
    let page = bob.emit_ack("history", json!({ "room": "design" })).await;
    assert_eq!(page["messages"][0]["mentions"], json!([bob_id]), "{page}");
    assert_eq!(counts(&bob, "design").await, (json!(1), json!(1)));
    assert_eq!(counts(&dave, "design").await, (json!(1), json!(0)), "named nobody else");

    // `@here` calls the members online; `@room` all of them. Dave leaves
    // first, so only `@room` counts for him.
    let dave_token = token(&dave_ack);
    dave.close().await;
    until_offline(&alice, "design", dave_id).await;
    let here =
        alice.emit_ack("message", json!({ "room": "design", "text": "@here standup", "everyone": "here" })).await;
    assert_eq!(here["ok"], true, "{here}");
    let live = bob.event_where("message", |m| m["room"] == "design" && m["everyone"] == "here").await;
    assert_eq!(live.get("mentions"), None, "{live}");
    let all = alice.emit_ack("message", json!({ "room": "design", "text": "@room news", "everyone": "room" })).await;
    assert_eq!(all["ok"], true, "{all}");
    assert_eq!(counts(&bob, "design").await, (json!(3), json!(3)));
    let dave = TestClient::connect(server.addr, Some(json!({ "token": dave_token }))).await.unwrap();
    assert_eq!(counts(&dave, "design").await, (json!(3), json!(1)), "called by @room only");
    assert_eq!(read_line(&carol, "design").await, Value::Null, "not a room of hers");

    // A deleted message calls nobody any more; reading clears the rest.
    let named = json!({ "room": "design", "text": "@bob again", "mentions": [bob_id] });
    let again = alice.emit_ack("message", named).await;
    assert_eq!(counts(&bob, "design").await, (json!(4), json!(4)));
    assert_eq!(alice.emit_ack("delete", json!({ "id": again["id"] })).await["ok"], true);
    assert_eq!(counts(&bob, "design").await.1, json!(3));
    let page = bob.emit_ack("history", json!({ "room": "design" })).await;
    let tombstone = page["messages"].as_array().unwrap().iter().find(|m| m["id"] == again["id"]).cloned();
    assert_eq!(tombstone.as_ref().and_then(|m| m.get("mentions")), None, "{tombstone:?}: whom it called went with it");
    assert_eq!(bob.emit_ack("read", json!({ "room": "design", "seq": here["seq"] })).await["ok"], true);
    assert_eq!(counts(&bob, "design").await.1, json!(1), "the @room after what bob read");

    // In a private conversation, only the other party can be named.
    let secret = json!({ "to": bob_id, "text": "@bob @carol", "mentions": [carol_id, bob_id] });
    assert_eq!(alice.emit_ack("secret", secret).await["ok"], true);
    let live = bob.event("secret").await;
    assert_eq!(live["mentions"], json!([bob_id]), "{live}");

    // Bob's mentions, newest first, a page at a time: the deleted one is
    // gone; each says where it is.
    let mine = bob.emit_ack("mentions", json!(null)).await;
    let texts = |page: &Value| -> Vec<String> {
        page["hits"].as_array().unwrap().iter().map(|h| h["snippet"][0]["text"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(texts(&mine), ["@bob @carol", "@room news", "@here standup", "@bob @carol have a look"], "{mine}");
    assert_eq!(
        (mine["hits"][0]["with"]["id"].clone(), mine["hits"][1]["room"].clone()),
        (json!(alice_id), json!("design"))
    );
    let older = bob.emit_ack("mentions", json!({ "before": mine["hits"][1]["id"] })).await;
    assert_eq!(texts(&older), ["@here standup", "@bob @carol have a look"]);
    // Carol was named in a room she is not in: nothing; a visitor is refused.
    assert_eq!(carol.emit_ack("mentions", json!({})).await["hits"], json!([]));
    assert_eq!(server.client().await.emit_ack("mentions", json!(null)).await["error"]["code"], "not_online");
    // The same without JavaScript: a page of links to each.
    let http = Http::new(&server);
    let (status, _, page) = http.get(Some(&token(&bob_ack)), "/mentions", None).await;
    let page = String::from_utf8(page).unwrap();
    assert_eq!(status, 200);
    assert!(page.contains("have a look") && page.contains(&format!("/dm/{alice_id}?around=")), "{page}");
    let (status, _, _) = http.get(None, "/mentions", None).await;
    assert_eq!(status, 401);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calling_everyone_is_bounded() {
    let (_dir, db) = temp_db();
    let server = TestServer::start(db).await;
    let (alice, _) = server.online("alice").await;
    let (bob, bob_ack) = server.online("bob").await;
    assert_eq!(alice.emit_ack("create_room", json!({ "name": "ops" })).await["ok"], true);
    assert_eq!(bob.emit_ack("join_room", json!({ "room": "ops" })).await["ok"], true);

    // Never in the lobby (everyone on the server) or a private conversation.
    for (event, body) in [
        ("message", json!({ "text": "@here", "everyone": "here" })),
        ("secret", json!({ "to": id(&bob_ack), "text": "@room", "everyone": "room" })),
    ] {
        let ack = alice.emit_ack(event, body.clone()).await;
        assert_eq!(ack["error"]["code"], "cannot_call_everyone", "{body}: {ack}");
    }
    // A few at once, then the sender's budget is spent; nothing else is.
    // A retry of one stored (the same cid) costs nothing more.
    let first = json!({ "room": "ops", "text": "@room first", "everyone": "room", "cid": "first-call" });
    let stored = alice.emit_ack("message", first.clone()).await;
    assert_eq!(stored["ok"], true, "{stored}");
    for _ in 0..3 {
        assert_eq!(alice.emit_ack("message", first.clone()).await["id"], stored["id"], "a retry");
    }
    for n in 1..3 {
        let ack =
            alice.emit_ack("message", json!({ "room": "ops", "text": format!("@room {n}"), "everyone": "room" })).await;
        assert_eq!(ack["ok"], true, "{ack}");
    }
    let spent = alice.emit_ack("message", json!({ "room": "ops", "text": "@room again", "everyone": "room" })).await;
    assert_eq!(spent["error"]["code"], "rate_limited", "{spent}");
    assert_eq!(alice.emit_ack("message", json!({ "room": "ops", "text": "plain" })).await["ok"], true);
    assert_eq!(
        bob.emit_ack("message", json!({ "room": "ops", "text": "@room", "everyone": "room" })).await["ok"],
        true
    );

    // Too many names, or a name that is no id, are refused outright.
    let many: Vec<i64> = (1..=21).collect();
    let ack = alice.emit_ack("message", json!({ "room": "ops", "text": "hi", "mentions": many })).await;
    assert_eq!(ack["error"]["code"], "invalid_payload", "{ack}");
    let ack = alice.emit_ack("message", json!({ "room": "ops", "text": "hi", "everyone": "all" })).await;
    assert_eq!(ack["ok"], false, "{ack}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_private_room_tells_outsiders_nothing_and_its_mentions_leave_with_you() {
    let (_dir, db) = temp_db();
    let server = TestServer::start(db).await;
    let (alice, _) = server.online("alice").await;
    let (bob, bob_ack) = server.online("bob").await;
    let (carol, _) = server.online("carol").await;
    let bob_id = id(&bob_ack);
    let created = alice.emit_ack("create_room", json!({ "name": "plans", "private": true })).await;
    assert_eq!(created["ok"], true, "{created}");
    assert_eq!(alice.emit_ack("invite", json!({ "room": "plans", "user": bob_id })).await["ok"], true);
    let named = json!({ "room": "plans", "text": "@bob the plan", "mentions": [bob_id] });
    assert_eq!(alice.emit_ack("message", named).await["ok"], true);

    // An outsider calling everyone there, or naming someone, learns no
    // more than any post of theirs would: the room does not exist.
    for body in [
        json!({ "room": "plans", "text": "@room", "everyone": "room" }),
        json!({ "room": "plans", "text": "@bob", "mentions": [bob_id] }),
    ] {
        let ack = carol.emit_ack("message", body.clone()).await;
        assert_eq!(ack["error"]["code"], "no_such_room", "{body}: {ack}");
    }
    assert_eq!(alice.emit_ack("create_room", json!({ "name": "open" })).await["ok"], true);
    let ack = carol.emit_ack("message", json!({ "room": "open", "text": "@room", "everyone": "room" })).await;
    assert_eq!(ack["error"]["code"], "not_a_member", "{ack}");

    // Bob sees the mention while he is in the room, on every path, and
    // not once he has left it.
    let listed = |page: &Value| page["hits"].as_array().unwrap().len();
    let http = Http::new(&server);
    let bob_token = token(&bob_ack);
    let api = || async {
        let (status, _, body) = http.get(Some(&bob_token), "/api/mentions", None).await;
        assert_eq!(status, 200);
        serde_json::from_slice::<Value>(&body).unwrap()
    };
    let page = || async {
        let (_, _, body) = http.get(Some(&bob_token), "/mentions", None).await;
        String::from_utf8(body).unwrap()
    };
    assert_eq!(listed(&bob.emit_ack("mentions", json!(null)).await), 1);
    assert_eq!(listed(&api().await), 1);
    assert!(page().await.contains("the plan"));
    assert_eq!(bob.emit_ack("leave_room", json!({ "room": "plans" })).await["ok"], true);
    assert_eq!(listed(&bob.emit_ack("mentions", json!(null)).await), 0);
    assert_eq!(listed(&api().await), 0);
    assert!(!page().await.contains("the plan"));
    server.stop().await;
}
