//! Search: only what the asker may read, on every path (the socket event,
//! the HTTP API, the server-rendered page); Chinese found inside longer
//! runs, Latin whatever its case and accents; filters; pages; edits and
//! deletions keeping the index true; messages older than the index found
//! once the store opens.

use serde_json::{json, Value};

use crate::common::{temp_db, token, Http, TestClient, TestServer};

async fn search(client: &TestClient, q: &str) -> Value {
    client.emit_ack("search", json!({ "q": q })).await
}

/// The texts a search ack or page found, by their snippets.
fn found(page: &Value) -> Vec<String> {
    let hits = page["hits"].as_array().unwrap_or_else(|| panic!("no hits in {page}"));
    hits.iter()
        .map(|hit| hit["snippet"].as_array().unwrap().iter().map(|f| f["text"].as_str().unwrap()).collect())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_finds_only_what_each_may_read_on_every_path() {
    let (_dir, db) = temp_db();
    let server = TestServer::start(db).await;
    let (alice, alice_ack) = server.online("alice").await;
    let (bob, bob_ack) = server.online("bob").await;
    let (carol, carol_ack) = server.online("carol").await;
    let carol_id = carol_ack["user"]["id"].as_i64().unwrap();
    assert_eq!(alice.emit_ack("create_room", json!({ "name": "club", "private": true })).await["ok"], true);
    assert_eq!(alice.emit_ack("message", json!({ "room": "club", "text": "needle in the club" })).await["ok"], true);
    assert_eq!(alice.emit_ack("secret", json!({ "to": carol_id, "text": "needle between us" })).await["ok"], true);
    let lobby = "needle in the lobby: 你好世界, Café <script>alert(1)</script>";
    assert_eq!(bob.emit_ack("message", json!({ "text": lobby })).await["ok"], true);
    let anonymous = server.client().await;

    let lobby_only = vec![lobby.to_owned()];
    assert_eq!(found(&search(&bob, "needle").await), lobby_only, "bob: neither the club nor their secret");
    assert_eq!(found(&search(&anonymous, "needle").await), lobby_only, "not signed in: public rooms only");
    let for_carol = found(&search(&carol, "needle").await);
    assert_eq!(for_carol, [lobby, "needle between us"], "carol: hers, newest first");
    assert_eq!(found(&search(&alice, "NEEDLE").await).len(), 3, "alice reads all three");
    let page = search(&alice, "between").await;
    assert_eq!(page["hits"][0]["with"]["name"], "carol", "a private hit names the other party: {page}");
    assert!(page["hits"][0].get("room").is_none(), "{page}");

    // Chinese inside a longer run, and Latin whatever its case and accents.
    for q in ["你好", "好世", "界", "世界", "cafe", "CAFÉ", "caf"] {
        assert_eq!(found(&search(&bob, q).await), lobby_only, "{q}");
    }
    assert!(found(&search(&bob, "好你").await).is_empty(), "not in that order");
    // Runs next to digits or punctuation, as copied from a message.
    let tokyo = "see you in 东京2024年, 再见，朋友";
    assert_eq!(carol.emit_ack("message", json!({ "text": tokyo })).await["ok"], true);
    for q in ["东京2024", "2024年", "再见，朋友", "东京2024年,"] {
        assert_eq!(found(&search(&bob, q).await), [tokyo], "{q}");
    }
    let marked: Vec<Value> = search(&bob, "你好").await["hits"][0]["snippet"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["hit"] == true)
        .cloned()
        .collect();
    assert_eq!(marked, [json!({ "text": "你好", "hit": true })]);

    // Filters.
    assert_eq!(found(&search(&alice, "needle in:#club").await), ["needle in the club"]);
    assert_eq!(found(&search(&alice, "needle from:@bob").await), lobby_only);
    assert!(found(&search(&alice, "needle has:file").await).is_empty());
    assert_eq!(found(&search(&bob, "in:#club").await), Vec::<String>::new(), "a filter does not open a room");

    // Bad input: a clear error.
    for q in ["", "   ", &"x".repeat(201)] {
        assert_eq!(search(&bob, q).await["error"]["code"], "invalid_payload", "{q:?}");
    }

    // Over HTTP: the API by token, and the page, the same for each.
    let http = Http::new(&server);
    let api = |token: Option<String>| {
        let http = &http;
        async move {
            let (status, _, body) = http.get(token.as_deref(), "/api/search?q=needle", None).await;
            assert_eq!(status, 200);
            found(&serde_json::from_slice(&body).unwrap())
        }
    };
    assert_eq!(api(Some(token(&bob_ack))).await, lobby_only);
    assert_eq!(api(None).await, lobby_only);
    assert_eq!(api(Some(token(&alice_ack))).await.len(), 3);
    let (status, _, body) = http.get(None, "/api/search?q=", None).await;
    assert_eq!(status, 400);
    assert_eq!(serde_json::from_slice::<Value>(&body).unwrap()["code"], "invalid_payload");
    let page = |token: Option<String>| {
        let http = &http;
        async move {
            let (status, _, body) = http.get(token.as_deref(), "/search?q=needle", None).await;
            assert_eq!(status, 200);
            // Without the views' empty markers (`<!>`) between texts.
            String::from_utf8(body).unwrap().replace("<!>", "")
        }
    };
    let bobs = page(Some(token(&bob_ack))).await;
    assert!(
        bobs.contains("needle</mark> in the lobby") && !bobs.contains("club") && !bobs.contains("between"),
        "{bobs}"
    );
    assert!(bobs.contains("&lt;script&gt;alert(1)&lt;/script&gt;") && !bobs.contains("<script>"), "text stays text");
    assert!(bobs.contains("href=\"/r/lobby?around=1#m-"), "a hit leads to its place: {bobs}");
    let alices = page(Some(token(&alice_ack))).await;
    assert!(alices.contains("in the club") && alices.contains("between us") && alices.contains("with carol"));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edits_deletions_and_pages_keep_search_true() {
    let (_dir, db) = temp_db();
    let server = TestServer::start(db.clone()).await;
    let (bob, _) = server.online("bob").await;
    let id = bob.emit_ack("message", json!({ "text": "a needle here" })).await["id"].as_i64().unwrap();
    bob.emit_ack("edit", json!({ "id": id, "text": "only hay now" })).await;
    assert!(found(&search(&bob, "needle").await).is_empty(), "found by its new words only");
    assert_eq!(found(&search(&bob, "hay").await), ["only hay now"]);
    bob.emit_ack("delete", json!({ "id": id })).await;
    assert!(found(&search(&bob, "hay").await).is_empty(), "a deleted message is never found");

    // Pages of 20, newest first, `before` the last one's id. Several
    // writers, so no one's send limit is in the way.
    let mut writers = Vec::new();
    for n in 0..5 {
        writers.push(server.online(&format!("writer{n}")).await.0);
    }
    for n in 0..25 {
        let ack = writers[n % 5].emit_ack("message", json!({ "text": format!("paged word {n}") })).await;
        assert_eq!(ack["ok"], true, "{ack}");
    }
    let first = search(&bob, "paged").await;
    assert_eq!((found(&first).len(), first["more"].clone()), (20, json!(true)));
    assert_eq!(found(&first)[0], "paged word 24");
    let last_id = first["hits"][19]["id"].as_i64().unwrap();
    let second = bob.emit_ack("search", json!({ "q": "paged", "before": last_id })).await;
    assert_eq!((found(&second).len(), second["more"].clone()), (5, json!(false)));
    assert_eq!(found(&second)[4], "paged word 0");
    server.stop().await;

    // Messages stored before the index existed are indexed when the store
    // opens: emptied here as an older database would have it.
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", db.display())).await.unwrap();
    sqlx::query("INSERT INTO messages_search (messages_search) VALUES ('delete-all')").execute(&pool).await.unwrap();
    sqlx::query("INSERT INTO meta (key, value) VALUES ('search_indexed_upto', '0')").execute(&pool).await.unwrap();
    pool.close().await;
    let server = TestServer::start(db).await;
    let (bob, _) = server.online("bob").await;
    assert_eq!(search(&bob, "paged").await["hits"].as_array().unwrap().len(), 20);
    assert!(found(&search(&bob, "hay").await).is_empty(), "still never a deleted one");
    server.stop().await;
}
