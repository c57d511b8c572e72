//! Registered accounts against the real server: sign-up, sign-in, sign-out
//! through the same server functions the web forms post to, the socket
//! handshake with the resulting session, names that cannot be taken twice,
//! throttled guessing, and a server without guests.

use std::net::SocketAddr;

use crate::common::{temp_db, ConnectError, TestClient, TestServer};
use serde_json::{json, Value};

/// Posts a form to a server function as a script would (asking for JSON);
/// returns the status, the body and the session token it set, if any.
async fn post(
    addr: SocketAddr,
    endpoint: &str,
    form: &[(&str, &str)],
    cookie: Option<&str>,
) -> (u16, String, Option<String>) {
    let mut request = reqwest::Client::new()
        .post(format!("http://{addr}/api/{endpoint}"))
        .header("accept", "application/json")
        .form(form);
    if let Some(token) = cookie {
        request = request.header("cookie", format!("rtca_session={token}"));
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let token = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find_map(|cookie| cookie.strip_prefix("rtca_session=")?.split(';').next().map(str::to_owned));
    (status, response.text().await.unwrap(), token)
}

async fn session_user(addr: SocketAddr, token: &str) -> Result<Value, ConnectError> {
    let client = TestClient::connect(addr, Some(json!({ "token": token }))).await?;
    Ok(client.event("session").await["user"].clone())
}

#[tokio::test]
async fn register_sign_in_and_sign_out() {
    let (_dir, db) = temp_db();
    let server = TestServer::start(db).await;
    let addr = server.addr;

    let (status, body, first) = post(addr, "register", &[("name", "Alice"), ("password", "correct horse")], None).await;
    assert_eq!(status, 200, "{body}");
    let first = first.expect("registering signs in");
    assert_eq!(session_user(addr, &first).await.unwrap()["name"], "Alice");

    for (name, password) in [("Alice", "wrong horse"), ("nobody", "correct horse")] {
        let (status, body, token) = post(addr, "login", &[("name", name), ("password", password)], None).await;
        assert!(status == 401 && body.contains("bad_credentials"), "{name}: {status} {body}");
        assert!(token.is_none());
    }
    // Names compare case-insensitively after normalisation.
    let (status, body, second) =
        post(addr, "login", &[("name", "ＡＬＩＣＥ"), ("password", "correct horse")], None).await;
    assert_eq!(status, 200, "{body}");
    let second = second.unwrap();
    assert_ne!(first, second, "each sign-in is its own session");

    // Signing out revokes that session, closes its sockets and clears the
    // cookie; the other session stays, sockets and all.
    let open_second = TestClient::connect(addr, Some(json!({ "token": second }))).await.unwrap();
    let open_first = TestClient::connect(addr, Some(json!({ "token": first }))).await.unwrap();
    let (status, body, cleared) = post(addr, "logout", &[], Some(&second)).await;
    assert!(open_second.closed_by_server().await, "a signed-out socket stayed open");
    assert_eq!(open_first.emit_ack("message", json!({ "text": "still here" })).await["ok"], true);
    assert_eq!(status, 200, "{body}");
    assert_eq!(cleared.as_deref(), Some(""), "the cookie is cleared");
    assert!(
        matches!(session_user(addr, &second).await, Err(ConnectError::Refused(_))),
        "a signed-out token still works"
    );
    assert_eq!(session_user(addr, &first).await.unwrap()["name"], "Alice");

    // The database holds an argon2id hash, never the password.
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", server.db_path.display())).await.unwrap();
    let hash: String =
        sqlx::query_scalar("SELECT password_hash FROM users WHERE name = 'Alice'").fetch_one(&pool).await.unwrap();
    assert!(hash.starts_with("$argon2id$") && !hash.contains("correct horse"), "{hash}");
    pool.close().await;
    server.stop().await;
}

#[tokio::test]
async fn registered_names_belong_to_their_account() {
    let (_dir, db) = temp_db();
    let server = TestServer::start(db).await;
    let addr = server.addr;
    let (status, body, _) = post(addr, "register", &[("name", "Zoë"), ("password", "long enough")], None).await;
    assert_eq!(status, 200, "{body}");

    // Each refusal with the status that fits it (server_fn's own is 500).
    for (name, password, code, fits) in [
        ("zoë", "long enough", "name_registered", 409),
        ("Zoe\u{308}", "long enough", "name_registered", 409),
        ("bob", "short", "weak_password", 400),
        ("", "long enough", "invalid_name", 400),
    ] {
        let (status, body, _) = post(addr, "register", &[("name", name), ("password", password)], None).await;
        assert!(status == fits && body.contains(code), "{name:?}: {status} {body}");
    }
    // No guest may take it, in any spelling, by joining or by renaming.
    let guest = server.client().await;
    for name in ["ZOË", "Ｚｏë", "Zoe\u{308}"] {
        let ack = guest.emit_ack("online", json!({ "name": name })).await;
        assert_eq!(ack["error"]["code"], "name_registered", "{name}: {ack}");
    }
    let (renamer, _) = server.online("carol").await;
    assert_eq!(renamer.emit_ack("online", json!({ "name": "zoë" })).await["error"]["code"], "name_registered");
    // A name an online guest holds cannot be registered from under them.
    let (status, body, _) = post(addr, "register", &[("name", "Carol"), ("password", "long enough")], None).await;
    assert!(status == 409 && body.contains("name_taken"), "{status} {body}");
    // Members keep their name.
    let (_, _, token) = post(addr, "login", &[("name", "zoe\u{308}"), ("password", "long enough")], None).await;
    let member = TestClient::connect(addr, Some(json!({ "token": token.unwrap() }))).await.unwrap();
    assert_eq!(member.emit_ack("online", json!({ "name": "Zoë" })).await["ok"], true, "the same name renews");
    assert_eq!(member.emit_ack("online", json!({ "name": "Zed" })).await["error"]["code"], "member_rename");
    server.stop().await;
}

#[tokio::test]
async fn guessing_a_password_is_throttled_per_account() {
    let (_dir, db) = temp_db();
    let server = TestServer::start(db).await;
    let addr = server.addr;
    post(addr, "register", &[("name", "dave"), ("password", "the real one")], None).await;
    let mut codes = Vec::new();
    for _ in 0..6 {
        let (status, body, _) = post(addr, "login", &[("name", "dave"), ("password", "a guess!")], None).await;
        codes.push(if body.contains("rate_limited") { ("rate_limited", status) } else { ("bad_credentials", status) });
    }
    let expected = [("bad_credentials", 401); 5].iter().chain(&[("rate_limited", 429)]).copied().collect::<Vec<_>>();
    assert_eq!(codes, expected);
    // Even the right password waits now: the guesser learns nothing.
    let (status, body, token) = post(addr, "login", &[("name", "DAVE"), ("password", "the real one")], None).await;
    assert!(status == 429 && body.contains("rate_limited") && token.is_none(), "{status} {body}");
    server.stop().await;
}

#[tokio::test]
async fn a_server_can_refuse_guests() {
    let (_dir, db) = temp_db();
    let server = TestServer::start_with(db, |config| config.allow_guests = false).await;
    let addr = server.addr;
    let visitor = server.client().await;
    assert_eq!(visitor.emit_ack("online", json!({ "name": "guest" })).await["error"]["code"], "guests_disabled");
    let (status, body, _) = post(addr, "join", &[("name", "guest")], None).await;
    assert!(status == 403 && body.contains("guests_disabled"), "{status} {body}");
    let page = reqwest::get(format!("http://{addr}/")).await.unwrap().text().await.unwrap();
    assert!(!page.contains("Pick a name to join the chat") && page.contains("Create account"));

    let (status, body, token) = post(addr, "register", &[("name", "erin"), ("password", "members only")], None).await;
    assert_eq!(status, 200, "{body}");
    let erin = TestClient::connect(addr, Some(json!({ "token": token.unwrap() }))).await.unwrap();
    assert_eq!(erin.emit_ack("message", json!({ "text": "members only" })).await["ok"], true);
    server.stop().await;
}

/// `online` again on an identified socket renews its session rather than
/// minting another: the token stays, and the sessions table does not grow.
#[tokio::test]
async fn online_again_renews_the_session_it_has() {
    let (_dir, db) = temp_db();
    let server = TestServer::start(db.clone()).await;
    let (alice, ack) = server.online("alice").await;
    let token = ack["token"].as_str().unwrap().to_owned();
    for _ in 0..5 {
        let again = alice.emit_ack_patiently("online", json!({ "name": "alice" })).await;
        assert_eq!(again["token"], token.as_str(), "a new session for the same socket: {again}");
    }
    // A socket identified by its token does the same.
    let restored = TestClient::connect(server.addr, Some(json!({ "token": token }))).await.unwrap();
    let again = restored.emit_ack("online", json!({ "name": "alice" })).await;
    assert_eq!(again["token"], token.as_str());
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", db.display())).await.unwrap();
    let sessions: i64 = sqlx::query_scalar("SELECT count(*) FROM sessions").fetch_one(&pool).await.unwrap();
    pool.close().await;
    assert_eq!(sessions, 1, "repeated `online`s left {sessions} sessions");
    server.stop().await;
}

/// A form refused without JavaScript comes back to its page with the
/// server's words; an address that merely claims a refusal shows nothing.
#[tokio::test]
async fn only_refusals_the_server_made_are_shown() {
    let (_dir, db) = temp_db();
    let server = TestServer::start(db).await;
    let base = format!("http://{}", server.addr);
    let no_redirects = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    // As a browser without JavaScript posts the join form, with a name
    // nobody may take.
    let refused = no_redirects
        .post(format!("{base}/api/join"))
        .header("referer", format!("{base}/"))
        .header("accept", "text/html")
        .form(&[("name", "a\u{7}b")])
        .send()
        .await
        .unwrap();
    assert!(refused.status().is_redirection(), "{}", refused.status());
    let location = refused.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.contains("__err=") && location.contains("__sig="), "{location}");
    let target = if location.starts_with("http") { location.clone() } else { format!("{base}{location}") };
    // What the join form says under it.
    let said = |page: &str| {
        let at = page.find("data-testid=\"join-error\"").expect("the page has no join form");
        let rest = &page[at..];
        rest[rest.find('>').unwrap() + 1..].split('<').next().unwrap_or_default().trim().to_owned()
    };
    let page = reqwest::get(&target).await.unwrap().text().await.unwrap();
    assert!(!said(&page).is_empty(), "the server's own refusal is not shown");

    // The same address with other words in it, or with its signature gone.
    let forged_error = "eyJjb2RlIjoieCIsIm1lc3NhZ2UiOiJzZXNzaW9uIGV4cGlyZWQ6IGdvIHRvIGV2aWwuZXhhbXBsZSJ9";
    let sig = location.rsplit("__sig=").next().unwrap();
    for forged in [
        format!("{base}/?__err={forged_error}&__path=%2Fapi%2Fjoin"),
        format!("{base}/?__err={forged_error}&__path=%2Fapi%2Fjoin&__sig={sig}"),
    ] {
        let page = reqwest::get(&forged).await.unwrap().text().await.unwrap();
        assert!(!page.contains("evil.example"), "a forged refusal was shown: {forged}");
        assert_eq!(said(&page), "", "{forged}");
    }
    server.stop().await;
}
