//! Two nodes on one PostgreSQL database and one media directory, as
//! several RTCA processes behind one address share them
//! (docs/deployment.md): an account, a session, a room, history and files
//! made through one node are there through the other, and both number one
//! conversation's messages without a gap. (Live delivery between nodes is
//! the Redis backplane's, #18's next step.)

use std::collections::BTreeSet;

use reqwest::StatusCode;
use serde_json::json;

use crate::common::{postgres, temp_db, token, Http, TestClient, TestServer};
use crate::media::png;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_share_accounts_history_and_files() {
    let (dir, db) = temp_db();
    let url = postgres::new_database().await;
    let shared_media = dir.path().join("shared-media");
    let node = |path: &str| {
        let (url, media) = (url.clone(), shared_media.clone());
        TestServer::start_with(dir.path().join(path), move |config| {
            config.database_url = url;
            config.media_dir = media;
        })
    };
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
    assert!(!crashed.exists(), "a crash's leftovers stay");
    let (status, _) = http_b.upload(&token(&bob_ack), "after.png", "image/png", png(20, 20)).await;
    assert_eq!(status, StatusCode::CREATED);

    for server in [a, b, c] {
        server.stop().await;
    }
}
