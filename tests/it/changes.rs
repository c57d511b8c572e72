//! Messages that change after they are sent, against the real server:
//! edits, deletions and reactions go out live to the conversation and to
//! nobody else, are refused to whoever may not make them, leave nothing of
//! a deleted message behind, and are caught up with exactly by `changes`.

use serde_json::{json, Value};

use crate::common::{temp_db, token, Http, TestClient, TestServer};
use crate::media::png;

/// Sends `text` to the lobby and returns the stored message's id.
async fn say(client: &TestClient, text: &str) -> i64 {
    let ack = client.emit_ack("message", json!({ "text": text })).await;
    assert_eq!(ack["ok"], true, "{ack}");
    ack["id"].as_i64().unwrap()
}

fn code(ack: &Value) -> &str {
    ack["error"]["code"].as_str().unwrap_or("(accepted)")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edits_reactions_and_deletions_reach_the_conversation_live() {
    let (_dir, db) = temp_db();
    let server = TestServer::start(db.clone()).await;
    let (alice, alice_ack) = server.online("alice").await;
    let (bob, bob_ack) = server.online("bob").await;
    let bob_id = bob_ack["user"]["id"].as_i64().unwrap();
    let id = say(&alice, "helo").await;

    let edited = alice.emit_ack("edit", json!({ "id": id, "text": " hello " })).await;
    assert_eq!(
        (edited["ok"].clone(), edited["id"].clone(), edited["change"].clone()),
        (json!(true), json!(id), json!(1))
    );
    let seen = bob.event_where("message_changed", |m| m["id"] == id).await;
    assert_eq!((seen["text"].clone(), seen["change"].clone()), (json!("hello"), json!(1)));
    assert!(seen["edited_at"].as_i64().unwrap() >= seen["at"].as_i64().unwrap(), "{seen}");
    assert_eq!(seen["seq"], 1, "an edit keeps the message's place");

    // A reaction is toggled: on, then off.
    let on = bob.emit_ack("react", json!({ "id": id, "emoji": "👍" })).await;
    assert_eq!(on["change"], 2, "{on}");
    let seen = alice.event_where("message_changed", |m| m["change"] == 2).await;
    assert_eq!(seen["reactions"], json!([{ "emoji": "👍", "users": [bob_id], "count": 1 }]));
    alice.emit_ack("react", json!({ "id": id, "emoji": "🎉" })).await;
    bob.emit_ack("react", json!({ "id": id, "emoji": "👍" })).await;
    let seen = alice.event_where("message_changed", |m| m["change"] == 4).await;
    let alice_id = alice_ack["user"]["id"].as_i64().unwrap();
    assert_eq!(seen["reactions"], json!([{ "emoji": "🎉", "users": [alice_id], "count": 1 }]));
    // Who reacted are listed first first, not by id.
    bob.emit_ack("react", json!({ "id": id, "emoji": "👍" })).await;
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    alice.emit_ack("react", json!({ "id": id, "emoji": "👍" })).await;
    let seen = bob.event_where("message_changed", |m| m["change"] == 6).await;
    assert_eq!(seen["reactions"][1], json!({ "emoji": "👍", "users": [bob_id, alice_id], "count": 2 }));

    // Deleting leaves a tombstone, and nothing of what it said.
    let deleted = alice.emit_ack("delete", json!({ "id": id })).await;
    assert_eq!(deleted["change"], 7, "{deleted}");
    let seen = bob.event_where("message_changed", |m| m["change"] == 7).await;
    assert_eq!((seen["deleted"].clone(), seen["text"].clone()), (json!(true), json!("")));
    assert!(seen.get("reactions").is_none() && seen.get("edited_at").is_none(), "{seen}");
    let page = bob.emit_ack("history", json!({})).await;
    assert_eq!((page["messages"][0]["deleted"].clone(), page["changes"].clone()), (json!(true), json!(7)));
    let stored = crate::common::stored_messages(&db).await;
    assert_eq!(stored[0].2, "", "the text is gone from the database");
    // Deleting again changes nothing, and says so with the same change.
    let again = alice.emit_ack("delete", json!({ "id": id })).await;
    assert_eq!((again["ok"].clone(), again["change"].clone()), (json!(true), json!(7)));
    assert_eq!(code(&alice.emit_ack("edit", json!({ "id": id, "text": "back" })).await), "message_deleted");
    assert_eq!(code(&bob.emit_ack("react", json!({ "id": id, "emoji": "👍" })).await), "message_deleted");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_are_refused_to_whoever_may_not_make_them() {
    let (_dir, db) = temp_db();
    let server = TestServer::start(db).await;
    let (alice, _) = server.online("alice").await;
    let (bob, _) = server.online("bob").await;
    let id = say(&alice, "mine").await;
    for (who, event, data, expected) in [
        (&bob, "edit", json!({ "id": id, "text": "yours now" }), "not_your_message"),
        (&bob, "delete", json!({ "id": id }), "not_your_message"),
        (&alice, "edit", json!({ "id": 999_999, "text": "x" }), "no_such_message"),
        (&alice, "react", json!({ "id": 0, "emoji": "👍" }), "no_such_message"),
        (&alice, "edit", json!({ "id": id, "text": "  " }), "empty_text"),
        (&alice, "edit", json!({ "id": id, "text": "x".repeat(4001) }), "text_too_long"),
        (&alice, "edit", json!({ "id": id }), "invalid_payload"),
        (&bob, "react", json!({ "id": id, "emoji": "<b>" }), "invalid_payload"),
        (&bob, "react", json!({ "id": id, "emoji": "two words" }), "invalid_payload"),
        (&bob, "changes", json!({ "room": "lobby" }), "invalid_payload"),
    ] {
        assert_eq!(code(&who.emit_ack(event, data.clone()).await), expected, "{event} {data}");
    }
    let visitor = server.client().await;
    assert_eq!(code(&visitor.emit_ack("react", json!({ "id": id, "emoji": "👍" })).await), "not_online");
    // Changes are rate limited as messages are: a burst is cut short.
    let burst = futures::future::join_all(
        (0..40).map(|n| alice.emit_ack("edit", json!({ "id": id, "text": format!("burst {n}") }))),
    )
    .await;
    assert!(burst.iter().any(|ack| code(ack) == "rate_limited"), "40 edits at once all passed");
    // Reactions are bounded per message.
    for n in 0..20 {
        let ack = bob.emit_ack_patiently("react", json!({ "id": id, "emoji": format!(":r{n}:") })).await;
        assert_eq!(ack["ok"], true, "{ack}");
    }
    let new_one = alice.emit_ack_patiently("react", json!({ "id": id, "emoji": "🆕" })).await;
    assert_eq!(code(&new_one), "too_many_reactions");
    let known = alice.emit_ack_patiently("react", json!({ "id": id, "emoji": ":r3:" })).await;
    assert_eq!(known["ok"], true, "an emoji the message has already: {known}");
    // Nothing refused was stored: the text is the last edit that passed.
    let text = alice.emit_ack("history", json!({})).await["messages"][0]["text"].clone();
    assert!(text.as_str().unwrap().starts_with("burst "), "{text}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_changes_stay_between_their_two_and_rooms_ask_membership() {
    let (_dir, db) = temp_db();
    let server = TestServer::start(db).await;
    let (alice, _) = server.online("alice").await;
    let (bob, bob_ack) = server.online("bob").await;
    let (carol, _) = server.online("carol").await;
    let sent = alice.emit_ack("secret", json!({ "to": bob_ack["user"]["id"], "text": "just us" })).await;
    let secret = sent["id"].as_i64().unwrap();
    for (event, data) in [
        ("edit", json!({ "id": secret, "text": "mine now" })),
        ("delete", json!({ "id": secret })),
        ("react", json!({ "id": secret, "emoji": "👀" })),
    ] {
        assert_eq!(code(&carol.emit_ack(event, data).await), "no_such_message", "{event}");
    }
    assert_eq!(bob.emit_ack("react", json!({ "id": secret, "emoji": "❤️" })).await["ok"], true);
    let seen = alice.event_where("secret_changed", |m| m["id"] == secret).await;
    assert_eq!(seen["reactions"][0]["emoji"], "❤️");
    // Carol may ask for the pair's changes only as her own conversation.
    let hers = carol.emit_ack("changes", json!({ "with": bob_ack["user"]["id"], "after": 0 })).await;
    assert_eq!(hers["secrets"], json!([]), "{hers}");

    // A private room hides its messages; a public one takes joining to react.
    alice.emit_ack("create_room", json!({ "name": "inner", "private": true })).await;
    alice.emit_ack("create_room", json!({ "name": "open" })).await;
    let inner = alice.emit_ack("message", json!({ "room": "inner", "text": "secret plans" })).await["id"].clone();
    let open = alice.emit_ack("message", json!({ "room": "open", "text": "hello all" })).await["id"].clone();
    assert_eq!(code(&carol.emit_ack("react", json!({ "id": inner, "emoji": "👍" })).await), "no_such_message");
    assert_eq!(code(&carol.emit_ack("react", json!({ "id": open, "emoji": "👍" })).await), "not_a_member");
    assert_eq!(code(&carol.emit_ack("changes", json!({ "room": "inner", "after": 0 })).await), "no_such_room");
    carol.emit_ack("join_room", json!({ "room": "open" })).await;
    assert_eq!(carol.emit_ack("react", json!({ "id": open, "emoji": "👍" })).await["ok"], true);
    // Nobody outside heard any of it.
    let outside: Vec<_> = carol.drain(std::time::Duration::from_millis(300)).await;
    assert!(!outside.iter().any(|(name, data)| name == "secret_changed" || data["id"] == inner), "{outside:?}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_was_away_catches_up_with_every_change_exactly() {
    let (_dir, db) = temp_db();
    let server = TestServer::start(db).await;
    let (alice, _) = server.online("alice").await;
    let (bob, bob_ack) = server.online("bob").await;
    let ids: Vec<i64> = futures::future::join_all((1..=5).map(|_| say(&alice, "m"))).await;
    alice.emit_ack("edit", json!({ "id": ids[0], "text": "seen before" })).await;
    let page = bob.emit_ack("history", json!({})).await;
    let seen = page["changes"].as_i64().unwrap();
    assert_eq!(seen, 1);
    bob.close().await;

    // While bob is away: an edit, a deletion, reactions (one taken back).
    alice.emit_ack("edit", json!({ "id": ids[1], "text": "edited" })).await;
    alice.emit_ack("delete", json!({ "id": ids[2] })).await;
    alice.emit_ack("react", json!({ "id": ids[3], "emoji": "🎉" })).await;
    alice.emit_ack("react", json!({ "id": ids[4], "emoji": "👍" })).await;
    alice.emit_ack("react", json!({ "id": ids[4], "emoji": "👍" })).await;

    let bob = TestClient::connect(server.addr, Some(json!({ "token": token(&bob_ack) }))).await.unwrap();
    let lobby = bob.emit_ack("rooms", json!({})).await["rooms"][0].clone();
    assert_eq!((lobby["name"].clone(), lobby["last_change"].clone()), (json!("lobby"), json!(6)));
    let caught = bob.emit_ack("changes", json!({ "room": "lobby", "after": seen })).await;
    assert_eq!(caught["more"], false);
    let changed: Vec<(i64, i64)> = caught["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["id"].as_i64().unwrap(), m["change"].as_i64().unwrap()))
        .collect();
    assert_eq!(changed, [(ids[1], 2), (ids[2], 3), (ids[3], 4), (ids[4], 6)], "each once, in change order");
    // What bob now has is exactly what the server has.
    let now = bob.emit_ack("history", json!({})).await["messages"].clone();
    for message in caught["messages"].as_array().unwrap() {
        let current = now.as_array().unwrap().iter().find(|m| m["id"] == message["id"]).unwrap();
        assert_eq!(current, message);
    }
    assert_eq!(bob.emit_ack("changes", json!({ "after": 6 })).await["messages"], json!([]));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_message_takes_its_file_with_it() {
    let (_dir, db) = temp_db();
    let server = TestServer::start(db).await;
    let http = Http::new(&server);
    let (alice, alice_ack) = server.online("alice").await;
    let (_bob, bob_ack) = server.online("bob").await;
    let (status, media) = http.upload(&token(&alice_ack), "plan.png", "image/png", png(40, 30)).await;
    assert_eq!(status, reqwest::StatusCode::CREATED, "{media}");
    let file = format!("/media/{}", media["id"].as_str().unwrap());
    let sent = alice.emit_ack("message", json!({ "text": "", "media": media["id"] })).await;
    assert_eq!(http.get(Some(&token(&bob_ack)), &file, None).await.0, reqwest::StatusCode::OK);
    // A caption can be added to a file, and taken away again.
    assert_eq!(alice.emit_ack("edit", json!({ "id": sent["id"], "text": "the plan" })).await["ok"], true);
    assert_eq!(alice.emit_ack("edit", json!({ "id": sent["id"], "text": "" })).await["ok"], true);
    alice.emit_ack("delete", json!({ "id": sent["id"] })).await;
    for reader in [&alice_ack, &bob_ack] {
        assert_eq!(http.get(Some(&token(reader)), &file, None).await.0, reqwest::StatusCode::NOT_FOUND);
    }
    let page = alice.emit_ack("history", json!({})).await;
    assert!(page["messages"][0].get("media").is_none(), "{page}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_quotes_its_original_in_the_same_conversation_even_once_deleted() {
    let (_dir, db) = temp_db();
    let server = TestServer::start(db).await;
    let (alice, alice_ack) = server.online("alice").await;
    let (bob, bob_ack) = server.online("bob").await;
    let question = say(&alice, &format!("what time is it? {}", "…".repeat(300))).await;
    let reply = bob.emit_ack("message", json!({ "text": "noon", "reply_to": question })).await;
    assert_eq!(reply["ok"], true, "{reply}");
    let heard = alice.event_where("message", |m| m["text"] == "noon").await;
    let quote = &heard["reply_to"];
    assert_eq!(
        (quote["id"].clone(), quote["seq"].clone(), quote["from"]["id"].clone()),
        (json!(question), json!(1), alice_ack["user"]["id"].clone())
    );
    assert_eq!(quote["text"].as_str().unwrap().chars().count(), 200, "a quote is bounded");

    // Only a message of the same conversation can be answered.
    let secret = alice.emit_ack("secret", json!({ "to": bob_ack["user"]["id"], "text": "psst" })).await["id"].clone();
    for bad in [secret.clone(), json!(999_999)] {
        let refused = bob.emit_ack("message", json!({ "text": "hm", "reply_to": bad })).await;
        assert_eq!(code(&refused), "no_such_message", "{bad}");
    }
    let private =
        bob.emit_ack("secret", json!({ "to": alice_ack["user"]["id"], "text": "ok", "reply_to": secret })).await;
    assert_eq!(private["ok"], true, "{private}");
    assert_eq!(alice.event_where("secret", |m| m["text"] == "ok").await["reply_to"]["text"], "psst");

    // The original deleted, the reply stays and says so.
    alice.emit_ack("delete", json!({ "id": question })).await;
    let page = bob.emit_ack("history", json!({})).await;
    let answer = page["messages"].as_array().unwrap().iter().find(|m| m["text"] == "noon").unwrap().clone();
    assert_eq!((answer["reply_to"]["deleted"].clone(), answer["reply_to"]["text"].clone()), (json!(true), json!("")));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thread_replies_count_on_their_root_and_read_back_as_a_thread() {
    let (_dir, db) = temp_db();
    let server = TestServer::start(db).await;
    let (alice, _) = server.online("alice").await;
    let (bob, bob_ack) = server.online("bob").await;
    let root = say(&alice, "shall we ship on friday?").await;
    let seen = alice.emit_ack("history", json!({})).await["changes"].as_i64().unwrap();

    let first = bob.emit_ack("message", json!({ "text": "yes", "thread": root })).await;
    assert_eq!(first["ok"], true, "{first}");
    let reply = alice.event_where("message", |m| m["text"] == "yes").await;
    assert_eq!((reply["thread"].clone(), reply.get("in_conversation")), (json!(root), None));
    let summary = alice.event_where("message_changed", |m| m["id"] == root).await;
    assert_eq!(summary["thread_summary"], json!({ "replies": 1, "last_at": first["at"] }));
    let second =
        bob.emit_ack("message", json!({ "text": "agreed", "thread": root, "also_to_conversation": true })).await;
    let reply = alice.event_where("message", |m| m["text"] == "agreed").await;
    assert_eq!(reply["in_conversation"], true);
    let summary =
        alice.event_where("message_changed", |m| m["id"] == root && m["thread_summary"]["replies"] == 2).await;
    assert_eq!(summary["thread_summary"]["last_at"], second["at"]);

    let thread = alice.emit_ack("history", json!({ "thread": root })).await;
    let texts: Vec<_> = thread["messages"].as_array().unwrap().iter().map(|m| m["text"].clone()).collect();
    assert_eq!(texts, [json!("yes"), json!("agreed")]);
    assert_eq!(
        alice.emit_ack("history", json!({ "thread": root, "after": first["seq"] })).await["messages"][0]["text"],
        "agreed"
    );
    // One level only, and in the same conversation only.
    let secret = alice.emit_ack("secret", json!({ "to": bob_ack["user"]["id"], "text": "psst" })).await["id"].clone();
    for bad in [first["id"].clone(), secret, json!(999_999)] {
        assert_eq!(
            code(&bob.emit_ack("message", json!({ "text": "x", "thread": bad })).await),
            "no_such_message",
            "{bad}"
        );
    }
    // Someone who was away learns the root's summary as a change.
    let caught = alice.emit_ack("changes", json!({ "after": seen })).await;
    let root_now = caught["messages"].as_array().unwrap().iter().find(|m| m["id"] == root).unwrap().clone();
    assert_eq!(root_now["thread_summary"]["replies"], 2);
    server.stop().await;
}
