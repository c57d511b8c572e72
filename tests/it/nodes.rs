//! Several nodes: two on one PostgreSQL database and one media directory
//! share accounts, sessions, rooms, one gapless numbering and files; joined
//! by Redis, each delivers the other's messages live and in order, counts
//! the other's people online, and applies its invitations and sign-outs,
//! healing from the database what Redis missed; and `deploy/haproxy.cfg`
//! keeps long-polling sessions on their node in front of two nodes.

use std::collections::BTreeSet;

use reqwest::StatusCode;
use serde_json::json;

use crate::common::{postgres, temp_db, token, Http, TestClient, TestServer};
use crate::media::png;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_share_accounts_history_and_files() {
    let (dir, db) = temp_db();
    let url = postgres::new_database().await;
    let shared_media = dir.path().join("media");
    let node = |db_file: &'static str| joined_node(dir.path(), db_file, &url, None, |_| {});
    let (a, b) = (node("a.db").await, node("b.db").await);
    drop(db);

    // Signed up through A; the account and its session are B's too.
    let (alice, alice_ack) = a.online("alice").await;
    let alice_on_b = TestClient::connect(b.addr, Some(json!({ "token": token(&alice_ack) }))).await.unwrap();
    let again = alice_on_b.emit_ack("online", json!({ "name": "alice" })).await;
    assert_eq!(again["user"]["id"], alice_ack["user"]["id"], "one user on both nodes: {again}");
    let (bob, bob_ack) = b.online("bob").await;

    // A room made on A is joined on B.
    assert_eq!(alice.emit_ack("create_room", json!({ "name": "team" })).await["ok"], true);
    assert_eq!(bob.emit_ack("join_room", json!({ "room": "team" })).await["ok"], true, "B sees A's room");

    // Both write into the lobby at once: one numbering, no gap.
    let mut sends = Vec::new();
    for n in 0..20 {
        let (client, text) = if n % 2 == 0 { (&alice, format!("a{n}")) } else { (&bob, format!("b{n}")) };
        sends.push(client.emit_ack("message", json!({ "text": text, "cid": format!("c{n}") })));
    }
    let mut seqs = BTreeSet::new();
    for ack in futures::future::join_all(sends).await {
        assert_eq!(ack["ok"], true, "{ack}");
        assert!(seqs.insert(ack["seq"].as_i64().unwrap()), "a seq given twice: {ack}");
    }
    let page = bob.emit_ack("history", json!({ "limit": 50 })).await;
    let history: Vec<i64> = page["messages"].as_array().unwrap().iter().map(|m| m["seq"].as_i64().unwrap()).collect();
    assert_eq!(history, (1..=20).collect::<Vec<_>>(), "B's history holds both nodes' messages: {page}");
    assert_eq!(history.iter().copied().collect::<BTreeSet<_>>(), seqs);

    // A file uploaded through A and sent there is served by B, preview too.
    let picture = png(640, 480);
    let (status, media) = Http::new(&a).upload(&token(&alice_ack), "map.png", "image/png", picture.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{media}");
    let sent = alice.emit_ack("message", json!({ "room": "team", "text": "", "media": media["id"] })).await;
    assert_eq!(sent["ok"], true, "{sent}");
    let id = media["id"].as_str().unwrap();
    let http_b = Http::new(&b);
    let (status, _, bytes) = http_b.get(Some(&token(&bob_ack)), &format!("/media/{id}"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(bytes == picture, "B served other bytes");
    let (status, _, _) = http_b.get(Some(&token(&bob_ack)), &format!("/media/{id}/thumb"), None).await;
    assert_eq!(status, StatusCode::OK);
    // Another node starting on the directory keeps what the others are
    // uploading, and clears only what a crash left long ago.
    let staging = shared_media.join("staging");
    let (in_progress, crashed) = (staging.join("in-progress"), staging.join("left-by-a-crash"));
    std::fs::write(&in_progress, b"half an upload").unwrap();
    std::fs::write(&crashed, b"half an upload").unwrap();
    let aged = std::process::Command::new("touch").args(["-d", "2 hours ago"]).arg(&crashed).status().unwrap();
    assert!(aged.success());
    let c = node("c.db").await;
    assert_eq!(Http::new(&c).get(None, "/healthz", None).await.0, StatusCode::OK, "C is up");
    assert!(in_progress.exists(), "a node starting removed another's upload in progress");
    assert!(!crashed.exists(), "a crash's leftovers were kept");
    let (status, _) = http_b.upload(&token(&bob_ack), "after.png", "image/png", png(20, 20)).await;
    assert_eq!(status, StatusCode::CREATED);

    for server in [a, b, c] {
        server.stop().await;
    }
}

/// The `seq`s of the next `count` new lobby messages `client` hears, in
/// the order heard (fewer if they stop coming for `quiet`).
async fn lobby_seqs(client: &TestClient, count: usize, quiet: std::time::Duration) -> Vec<i64> {
    let mut seqs = Vec::new();
    while seqs.len() < count {
        let Some((event, data)) = client.next_event_within(quiet).await else { break };
        if event == "message" && data["room"] == "lobby" {
            seqs.push(data["seq"].as_i64().unwrap());
        }
    }
    seqs
}

/// Two nodes joined by Redis: what one commits, the other's sockets hear
/// live, every conversation in `seq` order across both nodes; private
/// messages and changes cross too; an invitation and a sign-out reach the
/// other node's sockets; and a message whose publish was lost (Redis down)
/// reaches the other node anyway, from the store, once Redis is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_joined_by_redis_deliver_each_others_messages_in_order() {
    use std::time::Duration;

    let (dir, _db) = temp_db();
    let url = postgres::new_database().await;
    let mut redis = crate::common::redis::Redis::start();
    // Two writers send 30 messages each at once.
    let node = |db_file: &'static str| joined_node(dir.path(), db_file, &url, Some(redis.url()), unlimited_sends);
    let (a, b) = (node("a.db").await, node("b.db").await);
    let (alice, _) = a.online("alice").await;
    let (carol, _) = a.online("carol").await;
    let (bob, bob_ack) = b.online("bob").await;
    let (dave, _) = b.online("dave").await;
    // Each node subscribes to what its sockets hear within a reconcile.
    tokio::time::sleep(Duration::from_millis(600)).await;
    for client in [&alice, &carol, &bob, &dave] {
        client.drain(Duration::from_millis(50)).await;
    }

    // Both nodes write into the lobby at once; everyone hears every
    // message once, in seq order, whichever node they are on.
    let mut sends = Vec::new();
    for n in 0..60 {
        let (client, text) = if n % 2 == 0 { (&alice, format!("from A {n}")) } else { (&bob, format!("from B {n}")) };
        sends.push(client.emit_ack("message", json!({ "text": text })));
    }
    let observed = async {
        let (on_a, on_b) =
            tokio::join!(lobby_seqs(&carol, 60, Duration::from_secs(5)), lobby_seqs(&dave, 60, Duration::from_secs(5)));
        (on_a, on_b)
    };
    let (acks, (on_a, on_b)) = tokio::join!(futures::future::join_all(sends), observed);
    assert!(acks.iter().all(|ack| ack["ok"] == true), "{acks:?}");
    let all: Vec<i64> = (1..=60).collect();
    assert_eq!(on_a, all, "node A's listener heard the lobby out of order or lost some");
    assert_eq!(on_b, all, "node B's listener heard the lobby out of order or lost some");

    // A private message crosses, and so does a change to it.
    let bob_id = bob_ack["user"]["id"].clone();
    let sent = alice.emit_ack("secret", json!({ "to": bob_id, "text": "psst", "cid": "s1" })).await;
    assert_eq!(sent["ok"], true, "{sent}");
    assert_eq!(bob.event_where("secret", |m| m["cid"] == "s1").await["text"], "psst");
    let edited = alice.emit_ack("edit", json!({ "id": sent["id"], "text": "psst, edited" })).await;
    assert_eq!(edited["ok"], true, "{edited}");
    assert_eq!(bob.event_where("secret_changed", |m| m["id"] == sent["id"]).await["text"], "psst, edited");

    // An invitation made on A moves the invitee's sockets on B into the
    // room, so they hear it live.
    let dave_id = dave.emit_ack("online", json!({ "name": "dave" })).await["user"]["id"].clone();
    assert_eq!(alice.emit_ack("create_room", json!({ "name": "hideout", "private": true })).await["ok"], true);
    let invited = alice.emit_ack("invite", json!({ "room": "hideout", "user": dave_id })).await;
    assert_eq!(invited["ok"], true, "{invited}");
    tokio::time::sleep(Duration::from_millis(600)).await;
    let posted = alice.emit_ack("message", json!({ "room": "hideout", "text": "welcome, dave" })).await;
    assert_eq!(posted["ok"], true, "{posted}");
    assert_eq!(dave.event_where("message", |m| m["room"] == "hideout").await["text"], "welcome, dave");

    // Presence counts every node: a newcomer on B lists A's people, and
    // bob, with a tab on each node, once.
    let bob_on_a = TestClient::connect(a.addr, Some(json!({ "token": token(&bob_ack) }))).await.unwrap();
    assert_eq!(bob_on_a.emit_ack("online", json!({ "name": "bob" })).await["ok"], true);
    let (newcomer, _) = b.online("erin").await;
    let everyone = ["alice", "bob", "carol", "dave", "erin"];
    let list = newcomer
        .event_where("presence", |list| list["users"].as_array().is_some_and(|users| users.len() >= everyone.len()))
        .await;
    let mut names: Vec<&str> = list["users"].as_array().unwrap().iter().map(|u| u["name"].as_str().unwrap()).collect();
    names.sort_unstable();
    assert_eq!(names, everyone, "{list}");
    // carol leaves A: B's people hear she is offline.
    carol.close().await;
    let gone = dave.event_where("offline", |change| change["user"]["name"] == "carol").await;
    assert_eq!(gone["user"]["name"], "carol");

    // Signing out through B closes the session's sockets on A too.
    let signed_out = reqwest::Client::new()
        .post(format!("http://{}/api/logout", b.addr))
        .header("accept", "application/json")
        .header("cookie", format!("rtca_session={}", token(&bob_ack)))
        .send()
        .await
        .unwrap();
    assert!(signed_out.status().is_success(), "{}", signed_out.status());
    assert!(bob_on_a.closed_by_server().await, "a signed-out session kept its socket on the other node");

    // Redis goes down: a message committed meanwhile is published to
    // nobody. Node B finds it in the store (its tail check runs whether
    // or not Redis answers), and is ready again once subscribed again.
    let ready = |server: &TestServer| {
        let http = Http::new(server);
        async move { http.get(None, "/readyz", None).await.0 }
    };
    assert_eq!(ready(&b).await, StatusCode::OK);
    redis.stop();
    let lost = alice.emit_ack("message", json!({ "text": "while Redis was down" })).await;
    assert_eq!(lost["ok"], true, "committing needs no Redis: {lost}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(ready(&b).await, StatusCode::SERVICE_UNAVAILABLE, "a node that hears no other is not ready");
    redis.resume();
    let heard = tokio::time::timeout(Duration::from_secs(5), dave.event_where("message", |m| m["seq"] == lost["seq"]))
        .await
        .expect("node B never delivered the message Redis missed");
    assert_eq!(heard["text"], "while Redis was down");
    // Ready again once it has subscribed again (within a second or so).
    let back = std::time::Instant::now();
    while ready(&b).await != StatusCode::OK {
        assert!(back.elapsed() < Duration::from_secs(5), "not ready 5 s after Redis came back");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // And what follows flows live again, in order.
    let after = dave.emit_ack("message", json!({ "text": "Redis is back" })).await;
    assert_eq!(alice.event_where("message", |m| m["text"] == "Redis is back").await["seq"], after["seq"]);

    a.stop().await;
    b.stop().await;
}

/// Passing news crosses nodes joined by Redis (and a name taken on one
/// node is taken on the other): who is typing (kept alive
/// past its expiry while it is said again, and ended by the message), a
/// user's read state between their tabs on two nodes, "seen", an
/// invitation, and a new public room; and a private conversation's typing
/// reaches nobody else on either node.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passing_news_crosses_nodes() {
    use std::time::{Duration, Instant};

    let (dir, _db) = temp_db();
    let url = postgres::new_database().await;
    let redis = crate::common::redis::Redis::start();
    let node = |db_file: &'static str| joined_node(dir.path(), db_file, &url, Some(redis.url()), |_| {});
    let (a, b) = (node("a.db").await, node("b.db").await);
    let (alice, alice_ack) = a.online("alice").await;
    let (carol, _) = a.online("carol").await;
    let (bob, bob_ack) = b.online("bob").await;
    let (dave, dave_ack) = b.online("dave").await;
    let bob_on_a = TestClient::connect(a.addr, Some(json!({ "token": token(&bob_ack) }))).await.unwrap();
    assert_eq!(bob_on_a.emit_ack("online", json!({ "name": "bob" })).await["ok"], true);
    let (alice_id, bob_id) = (alice_ack["user"]["id"].as_i64().unwrap(), bob_ack["user"]["id"].as_i64().unwrap());
    // A name taken on A is taken on B.
    let impostor = b.client().await;
    let taken = impostor.emit_ack("online", json!({ "name": "alice" })).await;
    assert_eq!(taken["error"]["code"], "name_taken", "{taken}");
    tokio::time::sleep(Duration::from_millis(600)).await;
    for client in [&alice, &carol, &bob, &dave, &bob_on_a] {
        client.drain(Duration::from_millis(50)).await;
    }

    // alice types in the lobby on A, saying so again every 3 s: bob on B
    // sees her typing the whole time, past the 6 s one saying lasts.
    assert_eq!(alice.emit_ack("typing", json!({})).await["ok"], true);
    let seen = bob.event_where("typing", |t| t["room"] == "lobby" && t["count"] == 1).await;
    assert_eq!(seen["users"], json!([{ "id": alice_id, "name": "alice" }]));
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(8) {
        tokio::time::sleep(Duration::from_secs(3)).await;
        assert_eq!(alice.emit_ack("typing", json!({})).await["ok"], true);
        let heard = bob.drain(Duration::from_millis(100)).await;
        assert!(
            !heard.iter().any(|(name, t)| name == "typing" && t["room"] == "lobby" && t["count"] == 0),
            "node B let alice's typing expire while she kept typing: {heard:?}"
        );
    }
    // Her message ends it on B at once, not when it would expire.
    let posted = Instant::now();
    assert_eq!(alice.emit_ack("message", json!({ "text": "done" })).await["ok"], true);
    bob.event_where("typing", |t| t["room"] == "lobby" && t["count"] == 0).await;
    assert!(posted.elapsed() < Duration::from_secs(3), "typing ended on B only by expiring");

    // Private typing from A reaches bob on B, and nobody else on either node.
    carol.drain(Duration::from_millis(50)).await;
    dave.drain(Duration::from_millis(50)).await;
    assert_eq!(alice.emit_ack("typing", json!({ "with": bob_id })).await["ok"], true);
    let private = bob.event_where("typing", |t| t.get("pair").is_some() && t["count"] == 1).await;
    assert_eq!(private["users"][0]["name"], "alice");
    for outsider in [&carol, &dave] {
        let heard = outsider.drain(Duration::from_millis(1500)).await;
        assert!(!heard.iter().any(|(name, t)| name == "typing" && t.get("pair").is_some()), "{heard:?}");
    }

    // bob reads on B: his tab on A hears it. He reads alice's private
    // message on B: alice, on A, sees it seen.
    let secret = alice.emit_ack("secret", json!({ "to": bob_id, "text": "psst" })).await;
    assert_eq!(secret["ok"], true, "{secret}");
    bob.event("secret").await;
    let read = bob.emit_ack("read", json!({ "seq": 1 })).await;
    assert_eq!(read["ok"], true, "{read}");
    let elsewhere = bob_on_a.event_where("read", |r| r["room"] == "lobby").await;
    assert_eq!(elsewhere["seq"], read["seq"]);
    assert_eq!(bob.emit_ack("read", json!({ "with": alice_id, "seq": secret["seq"] })).await["ok"], true);
    let seen = alice.event("seen").await;
    assert_eq!((seen["user"].as_i64(), seen["seq"].clone()), (Some(bob_id), secret["seq"].clone()), "{seen}");

    // An invitation made on A is told to dave on B; a public room made on
    // A is announced on B.
    assert_eq!(alice.emit_ack("create_room", json!({ "name": "hideout", "private": true })).await["ok"], true);
    let invited = alice.emit_ack("invite", json!({ "room": "hideout", "user": dave_ack["user"]["id"] })).await;
    assert_eq!(invited["ok"], true, "{invited}");
    assert_eq!(dave.event("invited").await["name"], "hideout");
    assert_eq!(alice.emit_ack("create_room", json!({ "name": "plaza" })).await["ok"], true);
    assert_eq!(bob.event_where("room_created", |r| r["name"] == "plaza").await["name"], "plaza");
    let heard = carol.drain(Duration::from_millis(300)).await;
    assert!(!heard.iter().any(|(name, _)| name == "invited"), "an invitation reached someone else: {heard:?}");

    a.stop().await;
    b.stop().await;
}

/// Per-user budgets and connection caps hold across nodes joined by
/// Redis, approximately: what a user spends on one node is charged on the
/// other within about a second, and connections held on one count toward
/// the cap on the other (each node alone would allow both).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_hold_across_nodes() {
    use std::time::Duration;

    use crate::common::ConnectError;

    let (dir, _db) = temp_db();
    let url = postgres::new_database().await;
    let redis = crate::common::redis::Redis::start();
    let node = |db_file: &'static str| {
        joined_node(dir.path(), db_file, &url, Some(redis.url()), |config| {
            // Five messages, then one a hundred seconds.
            config.limits.send_per_user = rtca::server::config::Rate::new(0.01, 5);
            config.limits.connections_per_user = 4;
        })
    };
    let (a, b) = (node("a.db").await, node("b.db").await);
    let (alice, alice_ack) = a.online("alice").await;
    let auth = json!({ "token": token(&alice_ack) });
    for n in 0..5 {
        let ack = alice.emit_ack("message", json!({ "text": format!("on A {n}") })).await;
        assert_eq!(ack["ok"], true, "{ack}");
    }
    assert_eq!(alice.emit_ack("message", json!({ "text": "one too many" })).await["error"]["code"], "rate_limited");
    // Told within a second or so, node B charges alice's budget too.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let alice_on_b = TestClient::connect(b.addr, Some(auth.clone())).await.unwrap();
    let refused = alice_on_b.emit_ack("message", json!({ "text": "on B, after spending on A" })).await;
    assert_eq!(refused["error"]["code"], "rate_limited", "node B did not count what alice spent on A: {refused}");

    // Two more of alice's connections on A: with the one on B, she holds
    // four, her cap, so B refuses a fifth.
    let mut more = Vec::new();
    for _ in 0..2 {
        more.push(TestClient::connect(a.addr, Some(auth.clone())).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    match TestClient::connect(b.addr, Some(auth.clone())).await {
        Err(ConnectError::Refused(data)) => {
            assert!(data["message"].as_str().unwrap().contains("too many connections"), "{data}")
        }
        other => panic!("node B let alice past her cap: {:?}", other.map(|_| "connected")),
    }
    // Closing on A gives the slot back on B, once A has said so.
    more.pop().unwrap().close().await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let again = TestClient::connect(b.addr, Some(auth)).await;
    assert!(again.is_ok(), "a slot given back on A stayed taken on B");

    a.stop().await;
    b.stop().await;
}

/// One Engine.IO long-polling session through `proxy`: a handshake, the
/// Socket.IO CONNECT, a `history` request, and its ack, each its own HTTP
/// request. Returns the status of the first request that failed, if any,
/// and the node the proxy's cookie named.
async fn poll_through(http: &reqwest::Client, proxy: &str) -> (Result<(), u16>, Option<String>) {
    let base = format!("http://{proxy}/socket.io/?EIO=4&transport=polling");
    let handshake = http.get(&base).send().await.unwrap();
    let node = handshake
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find_map(|cookie| cookie.strip_prefix("rtca_node=")?.split(';').next().map(str::to_owned));
    let open = handshake.text().await.unwrap();
    let sid = open.split("\"sid\":\"").nth(1).and_then(|rest| rest.split('"').next()).unwrap().to_owned();
    let session = format!("{base}&sid={sid}");
    let steps = [("POST", "40"), ("GET", ""), ("POST", r#"421["history",{}]"#), ("GET", "")];
    for (method, body) in steps {
        let request = if method == "POST" { http.post(&session).body(body) } else { http.get(&session) };
        let status = request.send().await.unwrap().status();
        if !status.is_success() {
            return (Err(status.as_u16()), node);
        }
    }
    (Ok(()), node)
}

/// A node on the shared PostgreSQL database at `url`, joined to the others
/// by Redis at `redis_url` (`None`: not joined), with its files in the
/// shared `dir/media`, and the test's own settings (`adjust`) on top.
pub(crate) async fn joined_node(
    dir: &std::path::Path,
    db_file: &str,
    url: &str,
    redis_url: Option<String>,
    adjust: impl FnOnce(&mut rtca::server::config::Config),
) -> TestServer {
    let (url, media) = (url.to_owned(), dir.join("media"));
    TestServer::start_with(dir.join(db_file), move |config| {
        config.database_url = url;
        config.redis_url = redis_url;
        config.media_dir = media;
        adjust(config);
    })
    .await
}

/// Settings for tests that send in bursts: no rate limit on sending.
pub(crate) fn unlimited_sends(config: &mut rtca::server::config::Config) {
    config.limits.send_per_connection = rtca::server::config::Rate::new(1000.0, 1000);
    config.limits.send_per_user = rtca::server::config::Rate::new(1000.0, 1000);
}

/// Waits until the node at `addr` is ready (subscribed to Redis).
pub(crate) async fn wait_until_ready(addr: std::net::SocketAddr) {
    let started = std::time::Instant::now();
    let url = format!("http://{addr}/readyz");
    while reqwest::get(&url).await.map(|r| r.status() == StatusCode::OK).ok() != Some(true) {
        assert!(started.elapsed() < std::time::Duration::from_secs(10), "the node at {addr} never got ready");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// HAProxy with deploy/haproxy.cfg, as shipped, in front of two nodes, on
/// a free port: the running proxy (stopped when dropped) and its address,
/// once it answers.
pub(crate) async fn haproxy_in_front(
    a: std::net::SocketAddr,
    b: std::net::SocketAddr,
) -> (tokio::process::Child, String) {
    let proxy =
        format!("127.0.0.1:{}", std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port());
    let config = concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/haproxy.cfg");
    let haproxy = ["/usr/sbin/haproxy", "/usr/local/sbin/haproxy"]
        .into_iter()
        .find(|path| std::path::Path::new(path).exists())
        .unwrap_or_else(|| panic!("HAProxy is not installed: run scripts/install-tools.sh"));
    let child = tokio::process::Command::new(haproxy)
        .args(["-db", "-f", config])
        .env("RTCA_PROXY_BIND", &proxy)
        .env("RTCA_NODE1", a.to_string())
        .env("RTCA_NODE2", b.to_string())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while reqwest::get(format!("http://{proxy}/readyz")).await.map(|r| r.status().is_success()).ok() != Some(true) {
        assert!(started.elapsed() < std::time::Duration::from_secs(10), "HAProxy did not start");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    (child, proxy)
}

/// deploy/haproxy.cfg, as shipped, in front of two nodes: clients are
/// spread over both, and a long-polling session works because its cookie
/// keeps it on its node (without the cookie, the next poll reaches the
/// other node and is refused); a WebSocket client chats through it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shipped_haproxy_config_keeps_polling_sessions_on_their_node() {
    let (dir, _db) = temp_db();
    let url = postgres::new_database().await;
    let redis = crate::common::redis::Redis::start();
    let node = |db_file: &'static str| joined_node(dir.path(), db_file, &url, Some(redis.url()), |_| {});
    let (a, b) = (node("a.db").await, node("b.db").await);
    // Both nodes ready (subscribed to Redis) before HAProxy first checks.
    wait_until_ready(a.addr).await;
    wait_until_ready(b.addr).await;
    let (_proxy, proxy) = haproxy_in_front(a.addr, b.addr).await;

    // Two browsers, each with its cookie jar: each keeps its session, and
    // they land on different nodes.
    let mut nodes = BTreeSet::new();
    for _ in 0..2 {
        let browser = reqwest::Client::builder().cookie_store(true).build().unwrap();
        let (session, node) = poll_through(&browser, &proxy).await;
        assert_eq!(session, Ok(()), "a polling session through the proxy failed");
        nodes.insert(node.expect("the proxy set no node cookie"));
    }
    assert_eq!(nodes.len(), 2, "both browsers went to one node: {nodes:?}");
    // Without its cookie a client's polls are spread too, and the next
    // one reaches a node that never heard of its session.
    let (session, _) = poll_through(&reqwest::Client::new(), &proxy).await;
    assert_eq!(session, Err(400), "without stickiness a poll should be refused");

    // WebSocket clients need no stickiness: they chat through the proxy.
    let proxied: std::net::SocketAddr = proxy.parse().unwrap();
    let alice = TestClient::connect(proxied, None).await.unwrap();
    assert_eq!(alice.emit_ack("online", json!({ "name": "alice" })).await["ok"], true);
    let bob = TestClient::connect(proxied, None).await.unwrap();
    assert_eq!(bob.emit_ack("online", json!({ "name": "bob" })).await["ok"], true);
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    assert_eq!(alice.emit_ack("message", json!({ "text": "through the proxy" })).await["ok"], true);
    assert_eq!(bob.event_where("message", |m| m["text"] == "through the proxy").await["from"]["name"], "alice");

    a.stop().await;
    b.stop().await;
}
