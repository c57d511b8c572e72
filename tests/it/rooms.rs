//! Rooms against the real server: public rooms created, listed, joined and
//! left; private rooms that do not exist for anyone outside them, on every
//! read path; names and caps.

use std::time::Duration;

use crate::common::{temp_db, TestClient, TestServer};
use serde_json::{json, Value};

fn names(list: &Value) -> Vec<String> {
    list["rooms"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap().to_owned()).collect()
}

/// Whether `client` hears a `message` with `text` within a short while.
async fn hears(client: &TestClient, text: &str) -> bool {
    client.drain(Duration::from_millis(300)).await.iter().any(|(name, m)| name == "message" && m["text"] == text)
}

#[tokio::test]
async fn public_rooms_are_created_listed_joined_and_left() {
    let (_dir, db) = temp_db();
    let server = TestServer::start(db).await;
    let (alice, _) = server.online("alice").await;
    let (bob, _) = server.online("bob").await;
    let (carol, _) = server.online("carol").await;

    let created = alice.emit_ack("create_room", json!({ "name": "general" })).await;
    assert_eq!(created["ok"], true, "{created}");
    assert_eq!(
        (created["members"].clone(), created["online"].clone(), created["joined"].clone()),
        (json!(1), json!(1), json!(true))
    );
    let announced = bob.event("room_created").await;
    assert_eq!(
        (announced["name"].clone(), announced["joined"].clone()),
        (json!("general"), json!(false)),
        "as bob sees it"
    );
    let listed = bob.emit_ack("rooms", json!(null)).await;
    // The lobby first, then (not joined) the others.
    assert_eq!(names(&listed), ["lobby", "general"]);
    assert_eq!(listed["rooms"][1]["joined"], false);

    let early = bob.emit_ack("message", json!({ "room": "general", "text": "may I?" })).await;
    assert_eq!(early["error"]["code"], "not_a_member");
    let joined = bob.emit_ack("join_room", json!({ "room": "general" })).await;
    assert_eq!((joined["members"].clone(), joined["joined"].clone()), (json!(2), json!(true)));

    let ack = alice.emit_ack("message", json!({ "room": "general", "text": "welcome, bob" })).await;
    assert_eq!((ack["ok"].clone(), ack["seq"].clone()), (json!(true), json!(1)), "rooms number their own messages");
    let heard = bob.event_where("message", |m| m["text"] == "welcome, bob").await;
    assert_eq!(heard["room"], "general");
    assert!(!hears(&carol, "welcome, bob").await, "a non-member heard a room message");
    // A public room's history is open to all, like the lobby's.
    let page = carol.emit_ack("history", json!({ "room": "general" })).await;
    assert_eq!(page["messages"][0]["text"], "welcome, bob");

    let left = bob.emit_ack("leave_room", json!({ "room": "general" })).await;
    assert_eq!((left["members"].clone(), left["joined"].clone()), (json!(1), json!(false)));
    alice.emit_ack("message", json!({ "room": "general", "text": "bob has gone" })).await;
    assert!(!hears(&bob, "bob has gone").await, "a member who left still hears the room");
    assert_eq!(bob.emit_ack("leave_room", json!({ "room": "lobby" })).await["error"]["code"], "invalid_payload");
    assert_eq!(bob.emit_ack("join_room", json!({ "room": "lobby" })).await["error"]["code"], "invalid_payload");
    // Invitations are for private rooms: nobody is pulled into a public one.
    let carol_id = carol.emit_ack("online", json!({ "name": "carol" })).await["user"]["id"].clone();
    for room in ["general", "lobby"] {
        let ack = alice.emit_ack("invite", json!({ "room": room, "user": carol_id })).await;
        assert_eq!(ack["error"]["code"], "invalid_payload", "{room}: {ack}");
    }
    // The list carries each room's newest seq, for resuming.
    let listed = alice.emit_ack("rooms", json!(null)).await;
    assert_eq!(
        (listed["rooms"][1]["name"].clone(), listed["rooms"][1]["last_seq"].clone()),
        (json!("general"), json!(2))
    );
    server.stop().await;
}

#[tokio::test]
async fn a_private_room_does_not_exist_for_outsiders() {
    let (_dir, db) = temp_db();
    let server = TestServer::start(db).await;
    let (alice, _) = server.online("alice").await;
    let (bob, bob_ack) = server.online("bob").await;
    let (carol, _) = server.online("carol").await;

    let created = alice.emit_ack("create_room", json!({ "name": "inner-circle", "private": true })).await;
    assert_eq!((created["ok"].clone(), created["private"].clone()), (json!(true), json!(true)));
    alice.emit_ack("message", json!({ "room": "inner-circle", "text": "between us" })).await;

    // Every way in, for an outsider: nothing, and no hint that it exists.
    assert_eq!(names(&carol.emit_ack("rooms", json!(null)).await), ["lobby"]);
    for (event, data) in [
        ("join_room", json!({ "room": "inner-circle" })),
        ("history", json!({ "room": "inner-circle" })),
        ("message", json!({ "room": "inner-circle", "text": "let me in" })),
        ("leave_room", json!({ "room": "inner-circle" })),
        ("invite", json!({ "room": "inner-circle", "user": 3 })),
    ] {
        let ack = carol.emit_ack(event, data.clone()).await;
        assert_eq!(ack["error"]["code"], "no_such_room", "{event} {data}: {ack}");
        assert!(!ack.to_string().contains("between us"));
    }
    let visitor = server.client().await;
    assert_eq!(visitor.emit_ack("history", json!({ "room": "inner-circle" })).await["error"]["code"], "no_such_room");
    let page = reqwest::get(format!("http://{}/", server.addr)).await.unwrap().text().await.unwrap();
    assert!(!page.contains("between us") && !page.contains("inner-circle"));

    // A member invites bob: his sockets join at once, and he is told.
    let invited = alice.emit_ack("invite", json!({ "room": "inner-circle", "user": bob_ack["user"]["id"] })).await;
    assert_eq!(invited["ok"], true, "{invited}");
    assert_eq!(bob.event("invited").await["name"], "inner-circle");
    alice.emit_ack("message", json!({ "room": "inner-circle", "text": "welcome in" })).await;
    bob.event_where("message", |m| m["text"] == "welcome in").await;
    assert!(!hears(&carol, "welcome in").await, "an outsider heard a private room");
    let history = bob.emit_ack("history", json!({ "room": "inner-circle" })).await;
    assert_eq!(history["messages"].as_array().map(Vec::len), Some(2));

    // Membership outlives the connection.
    bob.close().await;
    let bob = TestClient::connect(server.addr, Some(json!({ "token": bob_ack["token"] }))).await.unwrap();
    alice.emit_ack("message", json!({ "room": "inner-circle", "text": "still here?" })).await;
    bob.event_where("message", |m| m["text"] == "still here?").await;
    assert_eq!(names(&bob.emit_ack("rooms", json!(null)).await), ["lobby", "inner-circle"]);
    server.stop().await;
}

/// A room has a title in any script beside its name (the key): made from
/// the title when a client gives only that, kept apart when taken, the
/// title found by a search, shown on the server's page; a client that
/// gives only a name (the prototype's way) gets it as the title.
#[tokio::test]
async fn rooms_have_titles_in_any_script() {
    let (_dir, db) = temp_db();
    let server = TestServer::start(db).await;
    let (alice, _) = server.online("alice").await;
    let (bob, _) = server.online("bob").await;
    let design = alice.emit_ack("create_room", json!({ "title": "  Design Team " })).await;
    assert_eq!((design["name"].clone(), design["title"].clone()), (json!("design-team"), json!("Design Team")));
    let announced = bob.event("room_created").await;
    assert_eq!(announced["title"], "Design Team", "{announced}");
    let again = alice.emit_ack("create_room", json!({ "title": "design team!" })).await;
    assert_eq!((again["name"].clone(), again["title"].clone()), (json!("design-team-2"), json!("design team!")));
    let chinese = alice.emit_ack("create_room", json!({ "title": "中文" })).await;
    assert_eq!(chinese["title"], "中文", "{chinese}");
    let key = chinese["name"].as_str().unwrap().to_owned();
    assert!(key.starts_with("room"), "{key}");
    let plain = alice.emit_ack("create_room", json!({ "name": "general" })).await;
    assert_eq!(plain["title"], "general", "a name alone is the title too");
    let both = alice.emit_ack("create_room", json!({ "name": "ops", "title": "Ops 运维" })).await;
    assert_eq!((both["name"].clone(), both["title"].clone()), (json!("ops"), json!("Ops 运维")));

    for bad in [json!({ "title": " " }), json!({ "title": "two\nlines" }), json!({ "title": "x".repeat(65) })] {
        let ack = alice.emit_ack("create_room", bad.clone()).await;
        assert_eq!(ack["error"]["code"], "invalid_room_title", "{bad}: {ack}");
    }
    assert_eq!(alice.emit_ack("create_room", json!({})).await["error"]["code"], "invalid_payload");
    let mixed = alice.emit_ack("create_room", json!({ "name": "Not A Key", "title": "fine" })).await;
    assert_eq!(mixed["error"]["code"], "invalid_room_name", "a name given is still a key");

    // A search matches titles too, in any script.
    assert_eq!(names(&bob.emit_ack("rooms", json!({ "query": "中" })).await), [key.as_str()]);
    assert_eq!(names(&bob.emit_ack("rooms", json!({ "query": "运维" })).await), ["ops"]);
    assert_eq!(names(&bob.emit_ack("rooms", json!({ "query": "TEAM" })).await), ["design-team", "design-team-2"]);

    // The page of the room, rendered by the server, reads its title.
    let page = reqwest::get(format!("http://{}/r/{key}", server.addr)).await.unwrap().text().await.unwrap();
    assert!(page.contains("# 中文"), "the title on the server's page");
    server.stop().await;
}

/// A room's members, online first, the others with when they were last
/// seen; a private room's only for its members.
#[tokio::test]
async fn room_members_show_who_is_online_and_when_others_were_last_seen() {
    let (_dir, db) = temp_db();
    let server = TestServer::start(db).await;
    let (alice, _) = server.online("alice").await;
    let (bob, _) = server.online("Bob").await;
    let (carol, _) = server.online("carol").await;
    alice.emit_ack("create_room", json!({ "name": "team" })).await;
    bob.emit_ack("join_room", json!({ "room": "team" })).await;
    carol.emit_ack("join_room", json!({ "room": "team" })).await;
    alice.emit_ack("create_room", json!({ "name": "hideout", "private": true })).await;
    let before = rtca_now();
    carol.close().await;
    // carol's going is noted once her last connection has closed.
    let mut listed = Value::Null;
    for _ in 0..50 {
        listed = alice.emit_ack("room_members", json!({ "room": "team" })).await;
        if listed["members"][2]["last_seen"].is_i64() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let members = listed["members"].as_array().unwrap();
    let shown: Vec<(&str, bool)> =
        members.iter().map(|m| (m["name"].as_str().unwrap(), m["online"].as_bool().unwrap())).collect();
    assert_eq!(shown, [("alice", true), ("Bob", true), ("carol", false)], "{listed}");
    assert!(members[0].get("last_seen").is_none(), "online people have no last seen: {listed}");
    assert!(members[2]["last_seen"].as_i64().unwrap() >= before, "{listed}");
    assert_eq!(listed["more"], false);

    let outsider = server.client().await;
    let anonymous = outsider.emit_ack("room_members", json!({ "room": "team" })).await;
    assert_eq!(anonymous["error"]["code"], "not_online", "not for visitors: {anonymous}");
    let hidden = bob.emit_ack("room_members", json!({ "room": "hideout" })).await;
    assert_eq!(hidden["error"]["code"], "no_such_room", "{hidden}");
    let inside = alice.emit_ack("room_members", json!({ "room": "hideout" })).await;
    assert_eq!(inside["members"][0]["name"], "alice", "{inside}");
    let lobby = bob.emit_ack("room_members", json!({ "room": "lobby" })).await;
    assert_eq!(lobby["members"].as_array().map(Vec::len), Some(2), "the lobby's are everyone online: {lobby}");
    server.stop().await;
}

fn rtca_now() -> i64 {
    i64::try_from(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis()).unwrap()
}

#[tokio::test]
async fn room_names_and_memberships_are_bounded() {
    let (_dir, db) = temp_db();
    let server = TestServer::start_with(db, |config| config.max_rooms_per_user = 2).await;
    let (alice, _) = server.online("alice").await;
    for bad in ["", "General", "two words", "dm:1:2", "user:1", &"x".repeat(33), "ümlaut"] {
        let ack = alice.emit_ack("create_room", json!({ "name": bad })).await;
        assert_eq!(ack["error"]["code"], "invalid_room_name", "{bad:?}: {ack}");
    }
    assert_eq!(alice.emit_ack("create_room", json!({ "name": "one" })).await["ok"], true);
    assert_eq!(alice.emit_ack("create_room", json!({ "name": "one" })).await["error"]["code"], "room_exists");
    assert_eq!(alice.emit_ack("create_room", json!({ "name": "lobby" })).await["error"]["code"], "room_exists");
    assert_eq!(alice.emit_ack("create_room", json!({ "name": "two" })).await["ok"], true);
    let third = alice.emit_ack("create_room", json!({ "name": "three" })).await;
    assert_eq!(third["error"]["code"], "too_many_rooms", "{third}");
    // Leaving does not make room for more creating: rooms outlive members.
    alice.emit_ack("leave_room", json!({ "room": "one" })).await;
    alice.emit_ack("leave_room", json!({ "room": "two" })).await;
    let again = alice.emit_ack("create_room", json!({ "name": "three" })).await;
    assert_eq!(again["error"]["code"], "too_many_rooms", "{again}");
    let visitor = server.client().await;
    assert_eq!(visitor.emit_ack("create_room", json!({ "name": "mine" })).await["error"]["code"], "not_online");
    assert_eq!(visitor.emit_ack("rooms", json!(null)).await["rooms"].as_array().map(Vec::len), Some(3));
    server.stop().await;
}

/// Guests from one address creating public rooms are limited, and however
/// many public rooms there are, a viewer's own rooms (and the lobby) are
/// always in their list.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nobody_can_bury_the_room_list() {
    let (_dir, db) = temp_db();
    let server = TestServer::start(db.clone()).await;
    // One address, default limits: ten public rooms, then `rate_limited`.
    let (flooder, _) = server.online("flooder").await;
    for n in 0..10 {
        let ack = flooder.emit_ack("create_room", json!({ "name": format!("0000-{n}") })).await;
        assert_eq!(ack["ok"], true, "{ack}");
    }
    let refused = flooder.emit_ack("create_room", json!({ "name": "0000-more" })).await;
    assert_eq!(refused["error"]["code"], "rate_limited", "{refused}");
    let (second, _) = server.online("second-guest").await;
    let refused = second.emit_ack("create_room", json!({ "name": "0000-other" })).await;
    assert_eq!(refused["error"]["code"], "rate_limited", "another guest at the same address: {refused}");
    // A private room is no one else's list.
    assert_eq!(second.emit_ack("create_room", json!({ "name": "0000-ours", "private": true })).await["ok"], true);
    server.stop().await;

    // Past the list's length: the viewer's own rooms are still in it.
    let server = TestServer::start_with(db, |config| {
        config.limits.public_rooms = rtca::server::config::Rate::new(100_000.0, 100_000);
        config.limits.other_per_connection = rtca::server::config::Rate::new(100_000.0, 100_000);
    })
    .await;
    let (viewer, _) = server.online("viewer").await;
    assert_eq!(viewer.emit_ack("create_room", json!({ "name": "zzz-mine", "private": true })).await["ok"], true);
    assert_eq!(viewer.emit_ack("create_room", json!({ "name": "zzz-public" })).await["ok"], true);
    let listed = rtca::protocol::MAX_LISTED_ROOMS;
    for guest in 0..listed / 90 + 1 {
        let (flooder, _) = server.online(&format!("flooder{guest}")).await;
        for n in 0..90 {
            let ack = flooder.emit_ack("create_room", json!({ "name": format!("0000-{guest}-{n}") })).await;
            assert_eq!(ack["ok"], true, "{ack}");
        }
    }
    let list = viewer.emit_ack("rooms", json!(null)).await;
    let names = |list: &Value| -> Vec<String> {
        list["rooms"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap().to_owned()).collect()
    };
    let first = names(&list);
    assert_eq!(first.len(), listed + 3, "the lobby, my two rooms, then a page of public ones");
    assert_eq!(first[..3], ["lobby", "zzz-mine", "zzz-public"], "{list}");
    assert_eq!(list["more"], true);
    // The rest pages on from the last public room, and one query finds a
    // room anywhere in the list.
    let mut seen = first.len() - 3;
    let mut after = first.last().cloned();
    while let Some(last) = after.take() {
        let page = viewer.emit_ack("rooms", json!({ "after": last })).await;
        let more = names(&page);
        assert!(more.iter().all(|name| name.as_str() > last.as_str() && name.starts_with("0000-")), "{page}");
        seen += more.len();
        if page["more"] == true {
            after = more.last().cloned();
        }
    }
    assert_eq!(seen, 10 + (listed / 90 + 1) * 90, "every public room, once (the first flooder's ten too)");
    let last_guest = listed / 90;
    let found = viewer.emit_ack("rooms", json!({ "query": format!(" 0000-{last_guest}-89 ") })).await;
    assert_eq!(names(&found), [format!("0000-{last_guest}-89")], "{found}");
    // A search is for a name or a title: no longer than a title.
    let refused = viewer.emit_ack("rooms", json!({ "query": "x".repeat(65) })).await;
    assert_eq!(refused["error"]["code"], "invalid_room_title", "{refused}");
    server.stop().await;
}

/// New public rooms are announced at once after a quiet spell, and a flood
/// of them costs everyone else at most one frame a second, which names
/// them all or says that more were made.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_new_rooms_is_announced_a_flush_at_a_time() {
    let (_dir, db) = temp_db();
    let server = TestServer::start_with(db, |config| {
        config.limits.public_rooms = rtca::server::config::Rate::new(100_000.0, 100_000);
        config.limits.other_per_connection = rtca::server::config::Rate::new(100_000.0, 100_000);
    })
    .await;
    let (bystander, _) = server.online("bystander").await;
    // Three makers: each may be in at most `RTCA_MAX_ROOMS_PER_USER` rooms.
    let mut makers = Vec::new();
    for n in 0..3 {
        makers.push(server.online(&format!("maker{n}")).await.0);
    }
    assert_eq!(makers[0].emit_ack("create_room", json!({ "name": "first" })).await["ok"], true);
    let first = bystander.event("room_created").await;
    assert_eq!((first["name"].as_str(), first["joined"].as_bool()), (Some("first"), Some(false)), "{first}");

    let started = std::time::Instant::now();
    let made: Vec<String> = (0..120).map(|n| format!("flood-{n:03}")).collect();
    for (n, name) in made.iter().enumerate() {
        let ack = makers[n % 3].emit_ack("create_room", json!({ "name": name })).await;
        assert_eq!(ack["ok"], true, "{ack}");
    }
    let frames: Vec<(String, Value)> = bystander
        .drain(Duration::from_millis(2_500))
        .await
        .into_iter()
        .filter(|(event, _)| event.starts_with("room"))
        .collect();
    let seconds = started.elapsed().as_secs_f64();
    assert!(
        (frames.len() as f64) <= seconds.ceil() + 1.0,
        "{} announcements in {seconds:.1} s: {frames:?}",
        frames.len()
    );
    let mut announced = Vec::new();
    let mut more = false;
    for (event, data) in &frames {
        match event.as_str() {
            "room_created" => announced.push(data["name"].as_str().unwrap_or_default().to_owned()),
            "rooms_created" => {
                more |= data["more"] == true;
                let rooms = data["rooms"].as_array().unwrap();
                assert!(rooms.len() <= 50, "{data}");
                announced.extend(rooms.iter().map(|r| r["name"].as_str().unwrap_or_default().to_owned()));
            }
            other => panic!("unexpected `{other}`"),
        }
    }
    assert!(announced.iter().all(|name| made.contains(name)), "{announced:?}");
    assert!(more || announced.len() == made.len(), "{} of {} announced, and no `more`", announced.len(), made.len());
    server.stop().await;
}
