//! The chat pages as a browser gets them: the snapshot they carry for
//! hydration, their security headers, and the public address.

use serde_json::{json, Value};

use crate::common::{temp_db, TestClient, TestServer};

/// The snapshot a page carries for hydration.
fn snapshot_in(page: &str) -> Value {
    let tag = page.find(r#"id="rtca-snapshot""#).expect("the page carries no snapshot");
    let start = tag + page[tag..].find('>').unwrap() + 1;
    // As a browser does: the first closing tag ends the element.
    let end = start + page[start..].to_ascii_lowercase().find("</script").unwrap();
    let json = &page[start..end];
    assert!(!json.contains('<'), "markup inside the snapshot: {json}");
    serde_json::from_str(json).unwrap()
}

/// A page's notice (why it shows the lobby instead of what was asked for)
/// is in the reader's language, as the rest of the page is.
#[tokio::test]
async fn a_pages_notice_is_in_the_readers_language() {
    let (_dir, db) = temp_db();
    let server = TestServer::start(db).await;
    let (_alice, ack) = server.online("alice").await;
    let session = format!("rtca_session={}", ack["token"].as_str().unwrap());
    let notice = |path: &str, language: &str, cookie: Option<&str>| {
        let mut request =
            reqwest::Client::new().get(format!("http://{}{path}", server.addr)).header("accept-language", language);
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie.to_owned());
        }
        async move { snapshot_in(&request.send().await.unwrap().text().await.unwrap())["notice"].clone() }
    };
    assert_eq!(notice("/dm/1", "zh-CN,zh;q=0.9", None).await, "登录后才能查看你的私聊。");
    assert_eq!(notice("/dm/1", "en", None).await, "Sign in to see your private conversations.");
    let chinese: Value = serde_json::from_str(include_str!("../../locales/zh-CN.json")).unwrap();
    let no_such_user = notice("/dm/999999", "zh-CN", Some(&session)).await;
    assert_eq!(no_such_user, chinese["error_no_such_user"], "a refusal's words too");
    assert_eq!(notice("/", "zh-CN", Some(&session)).await, Value::Null, "nothing to say");
    server.stop().await;
}

/// The page hydrates from the snapshot it carries as JSON in a script
/// element: it must be the signed-in user's, and no message text may end
/// that element early.
#[tokio::test]
async fn the_page_carries_its_snapshot_and_no_text_can_end_it_early() {
    let (_dir, db) = temp_db();
    let server = TestServer::start(db).await;
    let (alice, ack) = server.online("alice").await;
    let hostile = "</script><script>window.__pwned=1</script><!-- & </SCRIPT >";
    assert_eq!(alice.emit_ack("message", json!({ "text": hostile })).await["ok"], true);

    let page = reqwest::get(format!("http://{}/", server.addr)).await.unwrap().text().await.unwrap();
    let snapshot = snapshot_in(&page);
    assert_eq!(snapshot["messages"].as_array().unwrap().last().unwrap()["text"], hostile);
    assert_eq!(snapshot["me"], Value::Null, "a visitor without a session is no one");

    let cookie = format!("rtca_session={}", ack["token"].as_str().unwrap());
    let page = reqwest::Client::new()
        .get(format!("http://{}/r/lobby", server.addr))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(snapshot_in(&page)["me"]["name"], "alice");
    server.stop().await;
}

/// Every page forbids framing and foreign scripts: its one inline script
/// carries the nonce its Content-Security-Policy names, fresh each time.
#[tokio::test]
async fn pages_carry_a_content_security_policy_with_a_fresh_nonce() {
    let (_dir, db) = temp_db();
    let server = TestServer::start(db).await;
    let mut nonces = Vec::new();
    for _ in 0..2 {
        let response = reqwest::get(format!("http://{}/r/lobby", server.addr)).await.unwrap();
        let header = |name: &str| response.headers().get(name).map(|v| v.to_str().unwrap().to_owned());
        let policy = header("content-security-policy").expect("a page without a Content-Security-Policy");
        assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
        assert!(!policy.contains("unsafe-inline"), "{policy}");
        assert_eq!(header("referrer-policy").as_deref(), Some("same-origin"));
        assert_eq!(header("x-frame-options").as_deref(), Some("DENY"));
        let nonce = policy.split("'nonce-").nth(1).and_then(|rest| rest.split('\'').next()).unwrap().to_owned();
        let page = response.text().await.unwrap();
        let scripts: Vec<&str> = page.split("<script").skip(1).collect();
        for script in &scripts {
            let tag = &script[..script.find('>').unwrap()];
            let data = tag.contains("application/json");
            assert!(
                data || tag.contains(&format!("nonce=\"{nonce}\"")),
                "a script the policy would block: <script{tag}>"
            );
        }
        assert!(scripts.len() >= 2, "the page should carry its loader and its snapshot");
        nonces.push(nonce);
    }
    assert_ne!(nonces[0], nonces[1], "a nonce used twice");
    let css = reqwest::get(format!("http://{}/health", server.addr)).await.unwrap();
    assert!(css.headers().get("content-security-policy").is_none(), "only pages need a policy");
    server.stop().await;
}

/// With a public address, the site's own origin is that one: a page whose
/// origin names the server's `Host` (a rebound DNS name) is foreign, and
/// over https the session cookie is `Secure` and `__Host-` prefixed.
#[tokio::test]
async fn a_public_address_is_the_only_own_origin_and_makes_cookies_host_only() {
    let (_dir, db) = temp_db();
    let public = "https://chat.example.com";
    let server = TestServer::start_with(db, |config| config.public_url = Some(public.to_owned())).await;
    let rebound = TestClient::connect_with(server.addr, None, Some(&format!("http://{}", server.addr))).await;
    assert!(matches!(rebound, Err(crate::common::ConnectError::Http(_))), "a rebound name opened a socket");
    assert!(TestClient::connect_with(server.addr, None, Some(public)).await.is_ok());

    let join = reqwest::Client::new()
        .post(format!("http://{}/api/join", server.addr))
        .header("origin", public)
        .header("accept", "application/json")
        .form(&[("name", "carol")])
        .send()
        .await
        .unwrap();
    assert!(join.status().is_success(), "{}", join.status());
    let cookie = join.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("__Host-rtca_session=") && cookie.contains("; Secure"), "{cookie}");
    assert!(cookie.contains("Path=/") && !cookie.contains("Domain"), "{cookie}");
    let token = cookie.split(';').next().unwrap().split_once('=').unwrap().1.to_owned();
    let page_as = |cookie: String| {
        let url = format!("http://{}/", server.addr);
        async move { reqwest::Client::new().get(url).header("cookie", cookie).send().await.unwrap().text().await.unwrap() }
    };
    assert!(page_as(format!("__Host-rtca_session={token}")).await.contains("carol"));
    // A plain cookie of the same value (planted over http, say) is no one.
    assert!(!page_as(format!("rtca_session={token}")).await.contains("carol"));

    // A rebound name reads nothing, not even the lobby anyone may read;
    // the public name, an address and localhost do.
    let page_for = |host: &'static str| {
        let url = format!("http://{}/", server.addr);
        async move { reqwest::Client::new().get(url).header("host", host).send().await.unwrap() }
    };
    let rebound = page_for("rebound.example:3000").await;
    assert_eq!(rebound.status(), reqwest::StatusCode::MISDIRECTED_REQUEST);
    assert!(!rebound.text().await.unwrap().contains("lobby"));
    for host in ["chat.example.com", "127.0.0.1:3000", "localhost"] {
        assert_eq!(page_for(host).await.status(), reqwest::StatusCode::OK, "{host}");
    }
    server.stop().await;
}
