//! Faults with several nodes and PostgreSQL: a node killed mid-burst
//! behind the shipped proxy, and PostgreSQL out of reach for a while.
//! Nothing acked is lost, online clients get everything once and in
//! order, and a send that cannot be stored says so at once.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::cut::Cuttable;
use crate::common::{postgres, spawn_binary, temp_db, token, Http, TestClient, TestServer};
use crate::nodes::{haproxy_in_front, joined_node, unlimited_sends, wait_until_ready};
use crate::operators::{get, metrics_address, samples};

/// PostgreSQL out of reach (the network to it cut): a send is answered
/// `unavailable` within seconds, not left hanging, and so are a read, a
/// search over HTTP, the search and mentions pages and a server function
/// (503, with `Retry-After`) and a page's
/// readiness; once it is back, the same message (same cid) goes through,
/// once, and everyone hears it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgresql_out_of_reach_fails_clearly_and_work_resumes() {
    let (dir, _db) = temp_db();
    let url = postgres::new_database().await;
    let (database_addr, name) = url.trim_start_matches("postgres://postgres@").split_once('/').unwrap();
    let mut network = Cuttable::start(database_addr.parse().unwrap()).await;
    let through = format!("postgres://postgres@{}/{name}", network.addr());
    let server = TestServer::start_with(dir.path().join("a.db"), move |config| config.database_url = through).await;
    let (alice, alice_ack) = server.online("alice").await;
    let (bob, _) = server.online("bob").await;
    let first = alice.emit_ack("message", json!({ "text": "before", "cid": "c1" })).await;
    assert_eq!(first["ok"], true, "{first}");
    let http = Http::new(&server);
    assert_eq!(http.get(None, "/readyz", None).await.0, StatusCode::OK);

    network.cut();
    let asked = Instant::now();
    let refused = alice
        .try_emit_ack("message", json!({ "text": "while out", "cid": "c2" }), Duration::from_secs(15))
        .await
        .expect("a send hung while the database was out of reach");
    assert_eq!(refused["ok"], false, "{refused}");
    assert_eq!(refused["error"]["code"], "unavailable", "{refused}");
    assert!(asked.elapsed() < Duration::from_secs(12), "answered only after {:?}", asked.elapsed());
    let read = bob.try_emit_ack("history", json!({}), Duration::from_secs(15)).await.expect("a read hung");
    assert_eq!(read["error"]["code"], "unavailable", "{read}");
    // Over HTTP: 503, saying when to try again.
    let (status, headers, body) = http.get(Some(token(&alice_ack).as_str()), "/api/search?q=before", None).await;
    let body = String::from_utf8_lossy(&body);
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(headers.get("retry-after").and_then(|value| value.to_str().ok()), Some("5"), "{body}");
    assert!(body.contains(r#""code":"unavailable""#), "{body}");
    // The search and mentions pages without JavaScript say the same.
    for page in ["/search?q=before", "/mentions"] {
        let (status, headers, _) = http.get(Some(token(&alice_ack).as_str()), page, None).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{page}");
        assert_eq!(headers.get("retry-after").and_then(|value| value.to_str().ok()), Some("5"), "{page}");
    }
    // So does a server function, called as the browser's script calls it.
    let sent = reqwest::Client::new()
        .post(format!("http://{}/api/send_message", server.addr))
        .header("accept", "application/json")
        .header("cookie", format!("rtca_session={}", token(&alice_ack)))
        .form(&[("text", "by form while out"), ("cid", "c3")])
        .send()
        .await
        .unwrap();
    let (status, retry) = (sent.status(), sent.headers().get("retry-after").cloned());
    let body = sent.text().await.unwrap();
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(retry.as_ref().and_then(|value| value.to_str().ok()), Some("5"), "{body}");
    assert!(body.contains(r#""code":"unavailable""#), "{body}");
    assert_eq!(http.get(None, "/readyz", None).await.0, StatusCode::SERVICE_UNAVAILABLE);

    network.mend().await;
    let back = Instant::now();
    let sent = loop {
        let ack = alice.emit_ack_patiently("message", json!({ "text": "while out", "cid": "c2" })).await;
        if ack["ok"] == true || back.elapsed() > Duration::from_secs(15) {
            break ack;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(sent["ok"], true, "work did not resume: {sent}");
    assert_eq!(sent["seq"].as_i64(), first["seq"].as_i64().map(|seq| seq + 1), "{sent}");
    assert_eq!(bob.event_where("message", |m| m["cid"] == "c2").await["seq"], sent["seq"]);
    let again = alice.emit_ack("message", json!({ "text": "while out", "cid": "c2" })).await;
    assert_eq!(again["id"], sent["id"], "stored once");
    assert_eq!(http.get(None, "/readyz", None).await.0, StatusCode::OK);
    server.stop().await;
}

/// Lobby messages one client heard, by `seq`, as a real client keeps
/// them: a repeat (seq not past the newest) ignored.
#[derive(Default)]
struct Heard {
    seqs: Vec<i64>,
    repeats: usize,
}

impl Heard {
    fn take(&mut self, message: &Value) {
        let Some(seq) = message["seq"].as_i64() else { return };
        if self.seqs.last().is_some_and(|last| seq <= *last) {
            self.repeats += 1;
        } else {
            self.seqs.push(seq);
        }
    }

    fn newest(&self) -> i64 {
        self.seqs.last().copied().unwrap_or(0)
    }
}

/// Sends `count` lobby messages, a few milliseconds apart, and returns the
/// `seq`s acked; stops at the first send with no ack (its node died).
async fn burst(client: &TestClient, who: &str, count: usize) -> Vec<i64> {
    let mut acked = Vec::new();
    for n in 0..count {
        let data = json!({ "text": format!("{who} {n}"), "cid": format!("{who}-{n}") });
        match client.try_emit_ack("message", data, Duration::from_secs(3)).await {
            Some(ack) if ack["ok"] == true => acked.push(ack["seq"].as_i64().unwrap()),
            Some(ack) => panic!("{who}'s send was refused: {ack}"),
            None => break,
        }
        tokio::time::sleep(Duration::from_millis(8)).await;
    }
    acked
}

/// One node SIGKILLed mid-burst, behind deploy/haproxy.cfg. A client of
/// the dead node reconnects through the proxy, lands on the other node and
/// resumes (`history {after}`); a client of the other node hears every
/// message live, once, in order, including those the dead node committed
/// and may never have published; every acked message is in both; and the
/// dead node's users go offline on the other within the documented bound.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_killed_mid_burst_loses_nothing_acked() {
    let (dir, _db) = temp_db();
    let url = postgres::new_database().await;
    let redis = crate::common::redis::Redis::start();
    let redis_url = redis.url();
    let media = dir.path().join("media");
    let media = media.to_str().unwrap();
    let env = [
        ("RTCA_DATABASE_URL", url.as_str()),
        ("RTCA_REDIS_URL", redis_url.as_str()),
        ("RTCA_MEDIA_DIR", media),
        ("RTCA_RATE_SEND_CONNECTION", "1000:1000"),
        ("RTCA_RATE_SEND_USER", "1000:1000"),
        ("RTCA_RATE_READ", "1000:1000"),
        ("RTCA_METRICS_ADDR", "127.0.0.1:0"),
    ];
    let (mut node_a, a, _out_a) = spawn_binary(&dir.path().join("a.db"), "info", &env).await;
    let (_node_b, b, mut out_b) = spawn_binary(&dir.path().join("b.db"), "info", &env).await;
    let metrics_b = metrics_address(&mut out_b, |_| {}).await;
    wait_until_ready(a).await;
    wait_until_ready(b).await;
    let (_proxy, proxy) = haproxy_in_front(a, b).await;

    let join = |addr, name: &'static str| async move {
        let client = TestClient::connect(addr, None).await.unwrap();
        let ack = client.emit_ack("online", json!({ "name": name })).await;
        assert_eq!(ack["ok"], true, "{ack}");
        (client, ack)
    };
    let (alice, _) = join(a, "alice").await;
    let (lena, lena_ack) = join(a, "lena").await;
    let (bob, _) = join(b, "bob").await;
    let (ben, _) = join(b, "ben").await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    for client in [&alice, &lena, &bob, &ben] {
        client.drain(Duration::from_millis(50)).await;
    }

    // Both write; A dies a moment in.
    let killed = async {
        tokio::time::sleep(Duration::from_millis(700)).await;
        node_a.start_kill().unwrap();
        Instant::now()
    };
    let (from_a, from_b, killed_at) = tokio::join!(burst(&alice, "alice", 400), burst(&bob, "bob", 150), killed);
    assert!(from_a.len() >= 10 && from_a.len() < 400, "the kill should fall mid-burst: {} acked", from_a.len());
    assert_eq!(from_b.len(), 150, "node B's writer was cut off");

    // lena, on A, heard some live; her socket is gone. She reconnects
    // through the proxy (to B, the one alive) and resumes from her newest.
    let mut lena_heard = Heard::default();
    for (event, message) in lena.drain(Duration::from_millis(100)).await {
        if event == "message" {
            lena_heard.take(&message);
        }
    }
    let proxied: std::net::SocketAddr = proxy.parse().unwrap();
    let started = Instant::now();
    let lena = loop {
        let auth = json!({ "token": token(&lena_ack) });
        if let Ok(client) = TestClient::connect(proxied, Some(auth)).await {
            if let Some(ack) = client.try_emit_ack("online", json!({ "name": "lena" }), Duration::from_secs(2)).await {
                if ack["ok"] == true {
                    break client;
                }
            }
        }
        assert!(started.elapsed() < Duration::from_secs(15), "lena could not reconnect through the proxy");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    loop {
        let page = lena.emit_ack("history", json!({ "after": lena_heard.newest(), "limit": 500 })).await;
        assert_eq!(page["ok"], true, "{page}");
        for message in page["messages"].as_array().unwrap() {
            lena_heard.take(message);
        }
        if page["more"] != true {
            break;
        }
    }

    // The truth: what the database holds.
    let mut truth: Vec<i64> = Vec::new();
    loop {
        let after = truth.last().copied().unwrap_or(0);
        let page = lena.emit_ack("history", json!({ "after": after, "limit": 500 })).await;
        truth.extend(page["messages"].as_array().unwrap().iter().map(|m| m["seq"].as_i64().unwrap()));
        if page["more"] != true {
            break;
        }
    }
    assert_eq!(truth, (1..=truth.len() as i64).collect::<Vec<_>>(), "the database's numbering has a gap");
    let acked: BTreeSet<i64> = from_a.iter().chain(&from_b).copied().collect();
    assert!(acked.iter().all(|seq| truth.contains(seq)), "an acked message is not in the database");
    assert_eq!(lena_heard.seqs, truth, "the resumed client is missing messages or has them out of order");

    // ben, on B throughout, heard every one live, once, in order; and
    // alice, who was only on A, went offline on B within 20 s of the kill
    // (her node's presence expires 15 s after its last heartbeat, read
    // every 5 s), plus a little slack for a loaded machine.
    let (mut ben_heard, mut alice_gone) = (Heard::default(), None);
    let newest = *truth.last().unwrap();
    while ben_heard.newest() < newest || alice_gone.is_none() {
        let Some((event, data)) = ben.next_event_within(Duration::from_secs(30)).await else { break };
        match event.as_str() {
            "message" if data["room"] == "lobby" => ben_heard.take(&data),
            "offline" if data["user"]["name"] == "alice" => alice_gone = Some(killed_at.elapsed()),
            _ => {}
        }
    }
    assert_eq!(ben_heard.repeats, 0, "node B delivered a message twice");
    assert_eq!(ben_heard.seqs, truth, "node B's client missed messages live, or heard them out of order");
    let alice_gone = alice_gone.expect("the dead node's user never went offline on the other");
    assert!(alice_gone < Duration::from_secs(25), "the dead node's user went offline only after {alice_gone:?}");

    // B's relay counted what crossed: its own commits out, and each of A's
    // either in through Redis or healed from the database.
    let counted = samples(&get(format!("http://{metrics_b}/metrics")).await.1);
    let count = |series: &str| counted.get(series).copied().unwrap_or_default();
    assert!(count(r#"rtca_relayed_total{direction="out"}"#) >= 150.0, "B published fewer than its 150: {counted:?}");
    let from_a_in_store = (truth.len() - from_b.len()) as f64;
    let reached_b = count(r#"rtca_relayed_total{direction="in"}"#) + count("rtca_relay_healed_total");
    assert!(reached_b >= from_a_in_store, "B counted fewer than A's {from_a_in_store}: {counted:?}");
    assert!(count("rtca_relay_lag_seconds_count") >= 1.0, "B measured no lag through Redis: {counted:?}");
}

/// Redis restarted in the middle of a burst: every message is acked (a
/// commit needs no Redis), and a client online on the other node still
/// hears every one, once, in order: what Redis dropped is read from the
/// database, and live delivery resumes once the nodes subscribe again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_restarted_mid_burst_loses_nothing_for_online_clients() {
    let (dir, _db) = temp_db();
    let url = postgres::new_database().await;
    let mut redis = crate::common::redis::Redis::start();
    let node = |db_file: &'static str| joined_node(dir.path(), db_file, &url, Some(redis.url()), unlimited_sends);
    let (a, b) = (node("a.db").await, node("b.db").await);
    let (alice, _) = a.online("alice").await;
    let (ben, _) = b.online("ben").await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    ben.drain(Duration::from_millis(50)).await;

    let restart = async {
        tokio::time::sleep(Duration::from_millis(400)).await;
        redis.stop();
        tokio::time::sleep(Duration::from_millis(700)).await;
        redis.resume();
    };
    let (acked, ()) = tokio::join!(burst(&alice, "alice", 150), restart);
    assert_eq!(acked.len(), 150, "a send failed while Redis restarted");
    let newest = *acked.iter().max().unwrap();
    let mut heard = Heard::default();
    while heard.newest() < newest {
        let Some((event, data)) = ben.next_event_within(Duration::from_secs(10)).await else { break };
        if event == "message" && data["room"] == "lobby" {
            heard.take(&data);
        }
    }
    assert_eq!(heard.repeats, 0, "a message was delivered twice");
    assert_eq!(
        heard.seqs,
        (1..=newest).collect::<Vec<_>>(),
        "node B's client missed messages or heard them out of order"
    );
    // And live again afterwards.
    let after = alice.emit_ack("message", json!({ "text": "after the restart" })).await;
    assert_eq!(ben.event_where("message", |m| m["text"] == "after the restart").await["seq"], after["seq"]);
    a.stop().await;
    b.stop().await;
}
