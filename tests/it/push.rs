//! Web Push against the real server and a push service of the test's own:
//! a device subscribes over the socket; while its person has no tab open,
//! what notifies them (private messages and mentions, as they chose) is
//! sent to it, encrypted for it alone (RFC 8291: the fake service decrypts
//! it with the device's private key) and signed with the server's VAPID key
//! (the fake service checks the signature against the key the server
//! publishes). A device its service answers 404 or 410 for is forgotten;
//! endpoints inside the server's own network are refused.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use base64ct::{Base64UrlUnpadded, Encoding};
use serde_json::{json, Value};
use web_push_native::jwt_simple::prelude::{
    ECDSAP256PublicKeyLike, ES256PublicKey, NoCustomClaims, VerificationOptions,
};
use web_push_native::p256::elliptic_curve::sec1::ToEncodedPoint;
use web_push_native::p256::SecretKey;

use crate::common::{temp_db, TestClient, TestServer};

/// One push as the fake service received it.
#[derive(Clone, Debug)]
struct Received {
    device: String,
    authorization: String,
    ttl: String,
    encoding: String,
    body: Vec<u8>,
}

type Inbox = Arc<Mutex<Vec<Received>>>;

/// A push service on 127.0.0.1: `POST /{status}/{device}` records the push
/// and answers `status` (201, 404, 410).
async fn push_service() -> (SocketAddr, Inbox) {
    async fn receive(
        State(inbox): State<Inbox>,
        Path((status, device)): Path<(u16, String)>,
        headers: HeaderMap,
        body: axum::body::Bytes,
    ) -> StatusCode {
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        inbox.lock().unwrap().push(Received {
            device,
            authorization: header("authorization"),
            ttl: header("ttl"),
            encoding: header("content-encoding"),
            body: body.to_vec(),
        });
        StatusCode::from_u16(status).unwrap()
    }
    let inbox = Inbox::default();
    let app = axum::Router::new().route("/{status}/{device}", axum::routing::post(receive)).with_state(inbox.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, inbox)
}

/// A browser's side of a subscription: its key pair and auth secret.
struct Device {
    secret: SecretKey,
    auth: [u8; 16],
    endpoint: String,
}

impl Device {
    fn new(seed: u8, endpoint: String) -> Device {
        Device { secret: SecretKey::from_slice(&[seed; 32]).unwrap(), auth: [seed ^ 0x5a; 16], endpoint }
    }

    fn subscription(&self) -> Value {
        let public = self.secret.public_key().to_encoded_point(false);
        json!({
            "endpoint": self.endpoint,
            "keys": {
                "p256dh": Base64UrlUnpadded::encode_string(public.as_bytes()),
                "auth": Base64UrlUnpadded::encode_string(&self.auth),
            },
        })
    }

    /// What a push to it says, decrypted as the browser would.
    fn read(&self, push: &Received) -> Value {
        assert_eq!(push.encoding, "aes128gcm");
        let auth = web_push_native::Auth::clone_from_slice(&self.auth);
        let plain = web_push_native::decrypt(push.body.clone(), &self.secret, &auth).expect("decrypts for this device");
        serde_json::from_slice(&plain).unwrap()
    }
}

/// What a chat page starts from (`/api/chat`, the lobby), as JSON.
async fn snapshot(server: &TestServer) -> Value {
    let response = reqwest::Client::new()
        .post(format!("http://{}/api/chat", server.addr))
        .header("accept", "application/json")
        .form(&[("room", "lobby")])
        .send()
        .await
        .unwrap();
    response.json().await.unwrap()
}

/// The server's VAPID public key, as its pages publish it.
async fn published_key(server: &TestServer) -> String {
    snapshot(server).await["push_key"].as_str().expect("push is on").to_owned()
}

/// Checks the push's VAPID signature: made with the published key, for the
/// push service's origin, not expired, naming who runs the server.
fn check_signature(push: &Received, published: &str, audience: &str) {
    let rest = push.authorization.strip_prefix("vapid ").expect("a VAPID authorization");
    let field = |name: &str| {
        rest.split(',').map(str::trim).find_map(|part| part.strip_prefix(name)).unwrap_or_default().to_owned()
    };
    let (token, key) = (field("t="), field("k="));
    assert_eq!(key, published, "signed with the key the server publishes");
    let key = ES256PublicKey::from_bytes(&Base64UrlUnpadded::decode_vec(&key).unwrap()).unwrap();
    let options = VerificationOptions {
        allowed_audiences: Some([audience.to_owned()].into_iter().collect()),
        ..VerificationOptions::default()
    };
    let claims = key.verify_token::<NoCustomClaims>(&token, Some(options)).expect("a valid signature");
    assert_eq!(claims.subject.as_deref(), Some("mailto:rtca@localhost"));
    let ttl: u64 = push.ttl.parse().unwrap();
    assert!(ttl > 0 && ttl <= 24 * 3600, "TTL {ttl}");
}

/// Waits for `count` pushes in all.
async fn until_pushed(inbox: &Inbox, count: usize) -> Vec<Received> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let got = inbox.lock().unwrap().clone();
        if got.len() >= count {
            return got;
        }
        assert!(Instant::now() < deadline, "{} pushes of {count}: {got:?}", got.len());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// What was pushed after a short wait (to see that nothing more came).
async fn settled(inbox: &Inbox) -> usize {
    tokio::time::sleep(Duration::from_millis(400)).await;
    inbox.lock().unwrap().len()
}

/// Waits until `watcher` no longer sees `user` online.
async fn until_away(watcher: &TestClient, user: i64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        assert_eq!(watcher.emit_ack("presence", json!(null)).await["ok"], true);
        let list = watcher.event("presence").await;
        if !list["users"].as_array().unwrap().iter().any(|u| u["id"] == user) {
            return;
        }
        assert!(Instant::now() < deadline, "{user} still online: {list}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn id(ack: &Value) -> i64 {
    ack["user"]["id"].as_i64().unwrap()
}

fn token(ack: &Value) -> String {
    crate::common::token(ack)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_notifies_someone_away_is_pushed_to_their_devices_encrypted_and_signed() {
    let (service, inbox) = push_service().await;
    let (_dir, db) = temp_db();
    let server = TestServer::start_with(db, |config| config.push_private_endpoints = true).await;
    let published = published_key(&server).await;
    let (alice, alice_ack) = server.online("alice").await;
    let (bob, bob_ack) = server.online("bob").await;
    let (alice_id, bob_id) = (id(&alice_ack), id(&bob_ack));
    let phone = Device::new(7, format!("http://{service}/201/phone"));
    let ack = alice.emit_ack("push_subscribe", phone.subscription()).await;
    assert_eq!(ack["ok"], true, "{ack}");

    // While a tab of alice's is open, her tab notifies her: no push.
    assert_eq!(bob.emit_ack("secret", json!({ "to": alice_id, "text": "are you there?" })).await["ok"], true);
    assert_eq!(settled(&inbox).await, 0);

    // Away, a private message and a mention reach her phone; a plain room
    // message does not (rooms notify of mentions unless she chooses).
    alice.close().await;
    until_away(&bob, alice_id).await;
    assert_eq!(bob.emit_ack("message", json!({ "text": "lunch anyone?" })).await["ok"], true);
    let sent = bob.emit_ack("secret", json!({ "to": alice_id, "text": "call me" })).await;
    let named = json!({ "text": "@alice the release", "mentions": [alice_id] });
    let mention = bob.emit_ack("message", named).await;
    let pushes = until_pushed(&inbox, 2).await;
    assert_eq!(settled(&inbox).await, 2, "the plain room message pushed nothing");
    // Each push goes out on its own: in whatever order they arrive.
    let mut read: Vec<Value> = pushes.iter().map(|push| phone.read(push)).collect();
    read.sort_by_key(|notice| notice["title"] != "bob");
    let (first, second) = (read[0].clone(), read[1].clone());
    assert_eq!(
        first,
        json!({
            "title": "bob",
            "body": "call me",
            "tag": format!("rtca-pair-{}-{}", alice_id.min(bob_id), alice_id.max(bob_id)),
            "url": format!("/dm/{bob_id}?around={}#m-{}", sent["seq"], sent["id"]),
        })
    );
    assert_eq!((second["title"].clone(), second["body"].clone()), (json!("bob · #lobby"), json!("@alice the release")));
    assert_eq!(second["url"], format!("/r/lobby?around={}#m-{}", mention["seq"], mention["id"]));
    for push in &pushes {
        check_signature(push, &published, "http://127.0.0.1");
        assert_eq!(push.device, "phone");
    }
    // Nobody else can read it: another device's keys do not open it.
    let stranger = Device::new(9, String::new());
    let auth = web_push_native::Auth::clone_from_slice(&stranger.auth);
    assert!(web_push_native::decrypt(pushes[0].body.clone(), &stranger.secret, &auth).is_err());

    // Muted, the conversation pushes nothing; a choice of "mentions" in a
    // private conversation lets only mentions through.
    let alice = TestClient::connect(server.addr, Some(json!({ "token": token(&alice_ack) }))).await.unwrap();
    alice.event("session").await;
    assert_eq!(alice.emit_ack("notify", json!({ "with": bob_id, "level": "mute" })).await["ok"], true);
    alice.close().await;
    until_away(&bob, alice_id).await;
    assert_eq!(bob.emit_ack("secret", json!({ "to": alice_id, "text": "muted" })).await["ok"], true);
    assert_eq!(settled(&inbox).await, 2, "a muted conversation pushes nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_its_service_forgot_is_forgotten_and_signing_out_forgets_the_device() {
    let (service, inbox) = push_service().await;
    let (_dir, db) = temp_db();
    let server = TestServer::start_with(db, |config| config.push_private_endpoints = true).await;
    let (alice, alice_ack) = server.online("alice").await;
    let (bob, _) = server.online("bob").await;
    let alice_id = id(&alice_ack);
    let gone = Device::new(3, format!("http://{service}/410/gone"));
    let missing = Device::new(4, format!("http://{service}/404/missing"));
    let kept = Device::new(5, format!("http://{service}/201/kept"));
    for device in [&gone, &missing, &kept] {
        assert_eq!(alice.emit_ack("push_subscribe", device.subscription()).await["ok"], true);
    }
    alice.close().await;
    until_away(&bob, alice_id).await;
    assert_eq!(bob.emit_ack("secret", json!({ "to": alice_id, "text": "one" })).await["ok"], true);
    until_pushed(&inbox, 3).await;
    assert_eq!(settled(&inbox).await, 3);
    assert_eq!(bob.emit_ack("secret", json!({ "to": alice_id, "text": "two" })).await["ok"], true);
    let pushes = until_pushed(&inbox, 4).await;
    assert_eq!(settled(&inbox).await, 4, "only the device still known is pushed to: {pushes:?}");
    assert_eq!(pushes[3].device, "kept");
    assert_eq!(kept.read(&pushes[3])["body"], "two");

    // Signing out (the session goes) forgets the device.
    let response = reqwest::Client::new()
        .post(format!("http://{}/api/logout", server.addr))
        .header("accept", "application/json")
        .header("cookie", format!("rtca_session={}", token(&alice_ack)))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    assert_eq!(bob.emit_ack("secret", json!({ "to": alice_id, "text": "three" })).await["ok"], true);
    assert_eq!(settled(&inbox).await, 4, "a signed-out device gets nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpoints_inside_the_servers_network_are_refused() {
    let (_dir, db) = temp_db();
    // A real server's settings: private endpoints refused.
    let server = TestServer::start(db).await;
    let (alice, _) = server.online("alice").await;
    let code = |ack: &Value| ack["error"]["code"].as_str().unwrap_or_default().to_owned();
    for endpoint in [
        "http://push.example.com/x",
        "https://127.0.0.1/x",
        "https://127.1/x",
        "https://0x7f.0.0.1/x",
        "https://2130706433./x",
        "https://10.0.0.1/x",
        "https://169.254.169.254/latest",
        "https://[::1]/x",
        "https://localhost/x",
        "file:///etc/passwd",
    ] {
        let ack = alice.emit_ack("push_subscribe", Device::new(6, endpoint.into()).subscription()).await;
        assert_eq!(code(&ack), "push_endpoint_refused", "{endpoint}: {ack}");
    }
    let mut bad_keys = Device::new(6, "https://push.example.com/x".into()).subscription();
    bad_keys["keys"]["auth"] = json!("short");
    assert_eq!(code(&alice.emit_ack("push_subscribe", bad_keys).await), "push_endpoint_refused");
    let stranger = server.client().await;
    let device = Device::new(6, "https://push.example.com/x".into()).subscription();
    assert_eq!(code(&stranger.emit_ack("push_subscribe", device.clone()).await), "not_online");
    assert_eq!(alice.emit_ack("push_subscribe", device).await["ok"], true, "a public https endpoint is kept");

    // A server with pushes off keeps no device and publishes no key.
    let (_dir, db) = temp_db();
    let off = TestServer::start_with(db, |config| config.push = false).await;
    let (carol, _) = off.online("carol").await;
    let device = Device::new(6, "https://push.example.com/x".into()).subscription();
    assert_eq!(code(&carol.emit_ack("push_subscribe", device).await), "push_off");
    let snapshot = snapshot(&off).await;
    assert_eq!(snapshot.get("push_key"), None, "{snapshot}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_room_pushes_its_mentions_to_its_members_only() {
    let (service, inbox) = push_service().await;
    let (_dir, db) = temp_db();
    let server = TestServer::start_with(db, |config| config.push_private_endpoints = true).await;
    let (alice, alice_ack) = server.online("alice").await;
    let (bob, _) = server.online("bob").await;
    let alice_id = id(&alice_ack);
    assert_eq!(bob.emit_ack("create_room", json!({ "name": "team", "private": true })).await["ok"], true);
    assert_eq!(bob.emit_ack("invite", json!({ "room": "team", "user": alice_id })).await["ok"], true);
    let phone = Device::new(8, format!("http://{service}/201/phone"));
    assert_eq!(alice.emit_ack("push_subscribe", phone.subscription()).await["ok"], true);
    // "All" notifies an open tab of everything; a push only of mentions.
    assert_eq!(alice.emit_ack("notify", json!({ "room": "team", "level": "all" })).await["ok"], true);
    alice.close().await;
    until_away(&bob, alice_id).await;

    let say = |payload: Value| bob.emit_ack("message", payload);
    assert_eq!(say(json!({ "room": "team", "text": "plain news" })).await["ok"], true);
    let called = say(json!({ "room": "team", "text": "@room standup", "everyone": "room" })).await;
    assert_eq!(called["ok"], true, "{called}");
    let pushes = until_pushed(&inbox, 1).await;
    assert_eq!(settled(&inbox).await, 1, "the plain message pushed nothing: {pushes:?}");
    assert_eq!(phone.read(&pushes[0])["body"], "@room standup");
    assert_eq!(phone.read(&pushes[0])["title"], "bob · #team");

    // Once she has left the private room, nothing of it reaches her.
    let alice = TestClient::connect(server.addr, Some(json!({ "token": token(&alice_ack) }))).await.unwrap();
    alice.event("session").await;
    assert_eq!(alice.emit_ack("leave_room", json!({ "room": "team" })).await["ok"], true);
    alice.close().await;
    until_away(&bob, alice_id).await;
    assert_eq!(say(json!({ "room": "team", "text": "@room again", "everyone": "room" })).await["ok"], true);
    let named = json!({ "room": "team", "text": "@alice?", "mentions": [alice_id] });
    assert_eq!(say(named).await["ok"], true);
    assert_eq!(settled(&inbox).await, 1, "a former member gets nothing");
}
