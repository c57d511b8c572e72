//! Clients that lie, flood, stall or pry, one socket at a time.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::common::{ConnectError, TestClient, WAIT};
use futures::{SinkExt, StreamExt};
use rtca::engine_io::encode_event;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

use super::{closed_within, quick_heartbeat, raw_socket, Arena, Polling};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_clients_cannot_break_the_server_or_its_users() {
    static PANICS: AtomicUsize = AtomicUsize::new(0);
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        PANICS.fetch_add(1, Ordering::SeqCst);
        previous(info);
    }));

    let (_dir, mut arena) = Arena::start(|_| {}).await;
    let (_, mallory_ack) = arena.server.online("mallory").await;
    let mallory_token = json!({ "token": mallory_ack["token"] });
    let addr = arena.addr();
    let mallory = || TestClient::connect(addr, Some(mallory_token.clone()));

    // Frames that are not Engine.IO or not Socket.IO.
    let attacker = mallory().await.unwrap();
    for frame in ["", "4", "42", "42[", "42{}", "4x", "9", "0", "5", "6", "40/nope,", "43[1]", "451-[\"x\",{}]"] {
        attacker.send_raw(frame);
    }
    arena.survived("malformed WebSocket frames").await;

    // Every event with the wrong types: a clear error each time.
    let attacker = mallory().await.unwrap();
    let wrong = [
        ("online", json!({ "name": 5 })),
        ("online", json!([])),
        ("message", json!({ "text": 5 })),
        ("message", json!({ "text": "x", "cid": { "a": 1 } })),
        ("message", json!("not an object")),
        ("secret", json!({ "to": "alice", "text": "x" })),
        ("secret", json!({ "to": -1, "text": "x" })),
        ("history", json!({ "limit": -1 })),
        ("history", json!({ "before": "x" })),
        ("history", json!({ "with": "everyone" })),
    ];
    for (event, data) in wrong {
        let ack = attacker.emit_ack(event, data.clone()).await;
        assert_eq!(ack["ok"], false, "{event} {data} was accepted: {ack}");
        assert!(ack["error"]["code"].is_string() && ack["error"]["message"].is_string(), "{ack}");
    }
    arena.survived("wrong payload types").await;

    let attacker = mallory().await.unwrap();
    for n in 0..10 {
        let ack = attacker.emit_ack(&format!("nope{n}"), json!({})).await;
        assert_eq!(ack["error"]["code"], "unknown_event");
    }
    arena.survived("unknown events").await;

    // 20 MB in one WebSocket frame: the connection is closed, nothing kept.
    let mut ws = raw_socket(arena.addr(), mallory_token.clone(), None).await;
    let huge = format!("42[\"message\",{{\"text\":\"{}\"}}]", "x".repeat(20 << 20));
    let _ = ws.send(Message::text(huge)).await;
    assert!(closed_within(&mut ws, WAIT).await, "a 20 MB frame did not close the connection");
    arena.survived("a 20 MB WebSocket frame").await;

    // 20 MB in one polling POST.
    let polling = Polling::open(arena.addr()).await;
    // Refused with a 4xx, or cut off while still sending: either way early.
    let status = polling.post("4".repeat(20 << 20)).await;
    assert!(status.is_none_or(|status| status.is_client_error()), "a 20 MB polling body got {status:?}");
    arena.survived("a 20 MB polling body").await;

    let polling = Polling::open(arena.addr()).await;
    for body in ["", "\u{1e}\u{1e}", "99", "4", "40{", "42[\"message\"", "\u{0}\u{ff}"] {
        let _ = polling.post(body).await;
    }
    arena.survived("malformed polling bodies").await;

    let http = reqwest::Client::new();
    let unknown = http
        .get(format!("http://{}/socket.io/?EIO=4&transport=polling&sid=AAAAAAAAAAAAAAAA", arena.addr()))
        .send()
        .await
        .unwrap();
    assert!(unknown.status().is_client_error(), "an unknown sid got {}", unknown.status());
    arena.survived("an unknown polling session id").await;

    let polling = Polling::open(arena.addr()).await;
    let _ = tokio::join!(polling.get(), polling.get(), polling.get());
    arena.survived("three polls at once on one session").await;

    // Floods: past the burst, `rate_limited`, and nothing over the limit is
    // stored.
    let attacker = mallory().await.unwrap();
    let started = Instant::now();
    let acks = futures::future::join_all(
        (0..200).map(|n| attacker.emit_ack("message", json!({ "text": format!("flood {n}"), "cid": format!("f{n}") }))),
    )
    .await;
    let accepted = acks.iter().filter(|ack| ack["ok"] == true).count();
    let limited = acks.iter().filter(|ack| ack["error"]["code"] == "rate_limited").count();
    assert_eq!(accepted + limited, 200, "every flooded message gets an answer");
    let allowed = 20.0 + 5.0 * started.elapsed().as_secs_f64() + 1.0;
    assert!(limited > 0 && (accepted as f64) <= allowed, "{accepted} accepted, {limited} limited");
    let stored = arena.alice.emit_ack("history", json!({ "limit": 500 })).await;
    let flooded = stored["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["text"].as_str().unwrap().starts_with("flood "))
        .count();
    assert_eq!(flooded, accepted, "only accepted messages are stored");
    arena.survived("a message flood").await;

    // The per-user limit holds across connections: two connections of one
    // user, each within its own burst, together exceed the user's.
    let (_, hydra) = arena.server.online("hydra").await;
    let heads = [
        TestClient::connect(addr, Some(json!({ "token": hydra["token"] }))).await.unwrap(),
        TestClient::connect(addr, Some(json!({ "token": hydra["token"] }))).await.unwrap(),
    ];
    let started = Instant::now();
    let sends = heads.iter().enumerate().flat_map(|(h, head)| {
        (0..20).map(move |n| {
            head.emit_ack("message", json!({ "text": format!("head {h} #{n}"), "cid": format!("h{h}-{n}") }))
        })
    });
    let acks = futures::future::join_all(sends).await;
    let accepted = acks.iter().filter(|ack| ack["ok"] == true).count();
    let allowed = 30.0 + 8.0 * started.elapsed().as_secs_f64() + 1.0;
    assert!((accepted as f64) <= allowed, "{accepted} of 40 accepted; the user's limit allows {allowed:.0}");
    assert!(acks.iter().all(|ack| ack["ok"] == true || ack["error"]["code"] == "rate_limited"));
    for head in heads {
        head.close().await;
    }
    arena.survived("one user flooding over two connections").await;

    // `online` (renames here) is limited per connection.
    let attacker = mallory().await.unwrap();
    let acks = futures::future::join_all(
        (0..10).map(|n| attacker.emit_ack("online", json!({ "name": format!("mallory{n}") }))),
    )
    .await;
    assert!(acks.iter().any(|ack| ack["error"]["code"] == "rate_limited"), "ten renames at once were never limited");
    arena.survived("a rename flood").await;

    let attacker = mallory().await.unwrap();
    let names: Vec<String> = (0..200).map(|n| format!("junk{n}")).collect();
    let acks = futures::future::join_all(names.iter().map(|name| attacker.emit_ack(name, json!(1)))).await;
    assert!(acks.iter().any(|ack| ack["error"]["code"] == "rate_limited"), "an unknown-event flood was never limited");
    arena.survived("an unknown-event flood").await;

    let attacker = mallory().await.unwrap();
    let acks = futures::future::join_all((0..200).map(|_| attacker.emit_ack("history", json!({ "limit": 500 })))).await;
    assert!(acks.iter().any(|ack| ack["error"]["code"] == "rate_limited"), "a history flood was never limited");
    arena.survived("a history flood").await;

    // Each `presence` request costs the whole list: limited like history.
    let attacker = mallory().await.unwrap();
    let acks = futures::future::join_all((0..200).map(|_| attacker.emit_ack("presence", Value::Null))).await;
    assert!(acks.iter().any(|ack| ack["error"]["code"] == "rate_limited"), "a presence flood was never limited");
    arena.survived("a presence flood").await;

    // Identity: a cross-site page, a forged token, an expired one.
    let foreign = TestClient::connect_with(arena.addr(), None, Some("https://evil.example")).await;
    assert!(matches!(foreign, Err(ConnectError::Http(_))), "a cross-site page opened a socket");
    let foreign_poll = http
        .get(format!("http://{}/socket.io/?EIO=4&transport=polling", arena.addr()))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(foreign_poll.status(), 403);
    arena.survived("cross-origin handshakes on both transports").await;

    let forged = TestClient::connect(arena.addr(), Some(json!({ "token": "A".repeat(43) }))).await;
    assert!(matches!(forged, Err(ConnectError::Refused(_))), "a forged token connected");
    let expired_token = "an-expired-session-token";
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", arena.server.db_path.display())).await.unwrap();
    sqlx::query("INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (?, ?, 0, 1)")
        .bind(rtca::server::hash_token(expired_token).to_vec())
        .bind(arena.alice_id.as_i64().unwrap())
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let expired = TestClient::connect(arena.addr(), Some(json!({ "token": expired_token }))).await;
    assert!(matches!(expired, Err(ConnectError::Refused(_))), "an expired token connected");
    arena.survived("a forged token and an expired one").await;

    // Prying: alice and bob talk privately; mallory tries every read path.
    let private = "alice and bob only";
    arena.alice.emit_ack_patiently("secret", json!({ "to": arena.bob_id, "text": private })).await;
    let attacker = mallory().await.unwrap();
    for with in [&arena.alice_id, &arena.bob_id] {
        let page = attacker.emit_ack("history", json!({ "with": with, "limit": 500 })).await;
        assert!(!page.to_string().contains(private), "history with {with} leaked: {page}");
    }
    let (alice_id, bob_id) = (arena.alice_id.as_i64().unwrap(), arena.bob_id.as_i64().unwrap());
    let dm = format!("dm:{}:{}", alice_id.min(bob_id), alice_id.max(bob_id));
    assert_eq!(attacker.emit_ack("history", json!({ "room": dm })).await["error"]["code"], "no_such_room");
    let list = attacker.emit_ack("conversations", json!(null)).await;
    assert_eq!(list["conversations"], json!([]), "{list}");
    let cookie = format!("rtca_session={}", mallory_ack["token"].as_str().unwrap());
    for path in ["/".to_owned(), format!("/dm/{alice_id}"), format!("/dm/{bob_id}")] {
        let page = http.get(format!("http://{}{path}", arena.addr())).header("cookie", &cookie).send().await.unwrap();
        assert!(!page.text().await.unwrap().contains(private), "the rendered page {path} leaked");
    }
    let snapshot =
        http.post(format!("http://{}/api/chat", arena.addr())).header("cookie", &cookie).send().await.unwrap();
    assert!(snapshot.status().is_success(), "{}", snapshot.status());
    assert!(!snapshot.text().await.unwrap().contains(private), "the chat snapshot leaked");
    arena.survived("reading someone else's private conversation, every way").await;

    assert_eq!(PANICS.load(Ordering::SeqCst), 0, "the server panicked on input");
    arena.finish("protocol").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_client_is_dropped() {
    let (_dir, mut arena) = Arena::start(quick_heartbeat).await;
    // Half-open: a client that joined and then went silent (no pongs) is
    // dropped, and everyone sees it go offline.
    let (ghost_client, ghost_ack) = arena.server.online("ghost").await;
    ghost_client.close().await;
    let ghost = raw_socket(arena.addr(), json!({ "token": ghost_ack["token"] }), None).await;
    let ghost_id = ghost_ack["user"]["id"].clone();
    arena.bob.event_where("online", |c| c["user"]["id"] == ghost_id).await;
    arena.bob.event_where("offline", |c| c["user"]["id"] == ghost_id).await;
    drop(ghost);
    arena.survived("a half-open connection").await;

    arena.finish("half-open").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_is_dropped_and_slows_nobody() {
    let (_dir, mut arena) = Arena::start(|config| {
        quick_heartbeat(config);
        config.socket_buffer = 64;
        // The writer below floods on purpose.
        config.limits.send_per_connection = rtca::server::config::Rate::new(100_000.0, 100_000);
        config.limits.send_per_user = rtca::server::config::Rate::new(100_000.0, 100_000);
    })
    .await;
    let (sloth_client, sloth_ack) = arena.server.online("sloth").await;
    sloth_client.close().await;
    // A tiny receive window, and never a read: the server's queue for it
    // fills almost at once.
    let mut sloth = raw_socket(arena.addr(), json!({ "token": sloth_ack["token"] }), Some(4096)).await;
    let sloth_id = sloth_ack["user"]["id"].clone();
    arena.bob.event_where("online", |c| c["user"]["id"] == sloth_id).await;

    let (writer, _) = arena.server.online("writer").await;
    let newest = arena.bob.emit_ack("history", json!({ "limit": 1 })).await;
    let seq_before_flood = newest["messages"][0]["seq"].as_i64().unwrap_or(0);
    let total = 300;
    for n in 0..total {
        writer.send_raw(
            encode_event("message", &json!({ "text": format!("{n:04} {}", "w".repeat(3000)) }), None).unwrap(),
        );
    }
    // The bystander hears the flood live, in seq order, while the sloth's
    // queue is full. (Events sent without waiting for acks may be stored in
    // any order; seq is the order.) Its own queue is as small as the
    // sloth's, so on a starved CPU it can overflow too: a packet is then
    // dropped, anywhere in the flood, its tail included. So it listens until
    // it has heard everything or the flood has been quiet for a while, then
    // reads what it missed from history, as the browser does (`Gap` in
    // chat_state). A stalled broadcast or a lost message still fails.
    let mut live = std::collections::BTreeMap::new();
    let mut last_live = seq_before_flood;
    while live.len() < total {
        let Some((name, m)) = arena.bob.next_event_within(WAIT).await else { break };
        if name == "message" {
            let seq = m["seq"].as_i64().unwrap();
            assert!(seq > last_live, "seq {seq} live after {last_live}");
            last_live = seq;
            live.insert(seq, m["text"].as_str().unwrap()[..4].to_owned());
        }
    }
    assert!(!live.is_empty(), "the bystander heard none of the flood live");
    let mut stored = std::collections::BTreeMap::new();
    loop {
        let after = stored.keys().next_back().copied().unwrap_or(seq_before_flood);
        let page = arena.bob.emit_ack("history", json!({ "after": after, "limit": 100 })).await;
        for m in page["messages"].as_array().unwrap() {
            stored.insert(m["seq"].as_i64().unwrap(), m["text"].as_str().unwrap()[..4].to_owned());
        }
        if page["more"] != true {
            break;
        }
    }
    let seqs: Vec<i64> = stored.keys().copied().collect();
    let expected: Vec<i64> = (seq_before_flood + 1..=seq_before_flood + total as i64).collect();
    assert_eq!(seqs, expected, "the flood's messages are not all stored, in one run of seqs");
    let texts: std::collections::BTreeSet<&String> = stored.values().collect();
    assert_eq!(texts.len(), total, "a message was stored twice");
    for (seq, text) in &live {
        assert_eq!(stored.get(seq), Some(text), "seq {seq} was heard live as something else");
    }
    println!("slow-consumer: the bystander heard {} of {total} messages live, the rest from history", live.len());

    // The server dropped the sloth, and it is offline for everyone.
    assert!(closed_within(&mut sloth, WAIT).await, "the server kept a client that never reads");
    // (The connection closes before the disconnect is counted: ask again
    // until the list has caught up.)
    let offline = tokio::time::timeout(WAIT, async {
        loop {
            arena.bob.emit_ack("presence", json!(null)).await;
            let list = arena.bob.event("presence").await;
            if !list["users"].as_array().unwrap().iter().any(|u| u["id"] == sloth_id) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    assert!(offline.is_ok(), "the sloth is still online for the others");
    drop(sloth);
    arena.survived("a client that stops reading during a flood").await;
    arena.finish("slow-consumer").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_and_sign_ups_are_capped() {
    let (_dir, mut arena) = Arena::start(|config| {
        config.limits.connections_per_user = 3;
        config.limits.connections_per_address = 8;
    })
    .await;
    let started = Instant::now();
    // carol's first connection and two more fit; a fourth does not.
    let (carol, carol_ack) = arena.server.online("carol").await;
    let token = json!({ "token": carol_ack["token"] });
    let mut more = Vec::new();
    for _ in 0..2 {
        more.push(TestClient::connect(arena.addr(), Some(token.clone())).await.unwrap());
    }
    match TestClient::connect(arena.addr(), Some(token.clone())).await {
        Err(ConnectError::Refused(data)) => {
            assert!(data["message"].as_str().unwrap().contains("too many connections"), "{data}")
        }
        other => panic!("a fourth connection for one user: {:?}", other.map(|_| "connected")),
    }
    for client in more {
        client.close().await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let again = TestClient::connect(arena.addr(), Some(token.clone())).await.expect("closing gives the slots back");
    again.close().await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    arena.survived("too many connections for one user").await;

    // Per address: alice, bob and carol hold three of the eight.
    let mut visitors = Vec::new();
    let refused = loop {
        match TestClient::connect(arena.addr(), None).await {
            Ok(client) => visitors.push(client),
            Err(ConnectError::Refused(data)) => break data,
            Err(other) => panic!("{other:?}"),
        }
        assert!(visitors.len() <= 5, "the address cap never applied");
    };
    assert_eq!(visitors.len(), 5);
    assert!(refused["message"].as_str().unwrap().contains("too many connections"));
    for client in visitors {
        client.close().await;
    }
    carol.close().await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    arena.survived("too many connections from one address").await;

    // New guest identities from one address are rate limited: a burst of
    // 50, then one a second.
    let mut created = 3; // alice, bob, carol
    let limited = loop {
        let client = TestClient::connect(arena.addr(), None).await.unwrap();
        let ack = client.emit_ack("online", json!({ "name": format!("sybil{created}") })).await;
        client.close().await;
        if ack["ok"] == true {
            created += 1;
            let allowed = 50.0 + 1.0 * started.elapsed().as_secs_f64() + 1.0;
            assert!(f64::from(created) <= allowed, "sign-ups from one address were never limited");
        } else {
            break ack;
        }
    };
    assert_eq!(limited["error"]["code"], "rate_limited", "{limited}");
    arena.survived("a sign-up flood from one address").await;
    arena.finish("caps").await;
}

/// A restored guest who renames right after CONNECT (before the server has
/// counted the socket online) must not take an online guest's name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rename_right_after_connect_cannot_take_an_online_name() {
    let (_dir, mut arena) = Arena::start(|config| {
        config.limits.join_per_connection = rtca::server::config::Rate::new(1000.0, 1000);
        config.limits.connections_per_user = 100;
    })
    .await;
    let (_alicia, _) = arena.server.online("alicia").await;
    let (mallory, ack) = arena.server.online("mallory").await;
    mallory.close().await;
    let token = ack["token"].as_str().unwrap().to_owned();
    let url = format!("ws://{}/socket.io/?EIO=4&transport=websocket", arena.addr());
    for attempt in 0..20 {
        let (mut ws, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
        ws.next().await.unwrap().unwrap();
        // The rename the moment CONNECT is acknowledged, before the server
        // has said who the socket is (sent earlier, it closes the socket:
        // an event for a namespace not joined yet).
        ws.send(Message::text(format!("40{}", json!({ "token": token })))).await.unwrap();
        loop {
            let frame = ws.next().await.expect("closed before CONNECT").unwrap();
            if frame.to_text().unwrap().starts_with("40") {
                break;
            }
        }
        ws.send(Message::text(r#"421["online",{"name":"alicia"}]"#)).await.unwrap();
        let ack = loop {
            let frame = ws.next().await.expect("closed before the ack").unwrap();
            let text = frame.to_text().unwrap();
            assert!(!text.starts_with("44"), "attempt {attempt}: CONNECT refused: {text}");
            if let Some(body) = text.strip_prefix("431") {
                break serde_json::from_str::<Value>(body).unwrap()[0].clone();
            }
        };
        assert_eq!(
            ack["error"]["code"], "name_taken",
            "attempt {attempt}: a restored guest took an online name: {ack}"
        );
        drop(ws);
    }
    // A newcomer's first list is the list now.
    let newcomer = arena.server.client().await;
    let list = newcomer.event("presence").await;
    let alicias = list["users"].as_array().unwrap().iter().filter(|u| u["name"] == "alicia").count();
    assert_eq!(alicias, 1, "{list}");
    arena.survived("a rename right after CONNECT").await;
    arena.finish("rename-race").await;
}
