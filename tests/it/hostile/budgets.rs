//! What one address can make the server hold or do for it: unsent bytes
//! on a connection that never reads, the size of one `history` reply, and
//! how much history an address, and everyone together, may read.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use futures::SinkExt;
use rtca::engine_io::encode_event;
use rtca::server::config::Rate;
use rtca::server::Config;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

use super::{closed_within, raw_socket_from, Arena, Polling};
use crate::common::{TestClient, WAIT};

/// Another address on loopback: the attacker's, apart from the
/// bystanders' 127.0.0.1.
const ELSEWHERE: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));

/// A message whose JSON is six times its length: 4 000 control characters.
fn heavy_text(n: usize) -> String {
    format!("{n:04}{}", "\u{1}".repeat(3996))
}

/// Lets the seeding below post quickly.
fn quick_posting(config: &mut Config) {
    config.limits.send_per_connection = Rate::new(100_000.0, 100_000);
    config.limits.send_per_user = Rate::new(100_000.0, 100_000);
}

/// `count` heavy messages in the lobby, from `writer`.
async fn seed(writer: &TestClient, count: usize) {
    for n in 0..count {
        let ack = writer.emit_ack("message", json!({ "text": heavy_text(n) })).await;
        assert_eq!(ack["ok"], true, "{ack}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_history_reply_is_capped_in_bytes_and_says_there_is_more() {
    let (_dir, mut arena) = Arena::start(quick_posting).await;
    let cap = Config::default().history_reply_bytes;
    let (writer, _) = arena.server.online("writer").await;
    let total = 120;
    seed(&writer, total).await;

    // 120 messages of 24 KB of JSON each would be 2.9 MB; a page is cut at
    // the cap, nearest the cursor, and says so.
    let reader = arena.server.client().await;
    let page = reader.emit_ack("history", json!({ "limit": 500 })).await;
    let size = serde_json::to_string(&page).unwrap().len();
    let got = page["messages"].as_array().unwrap();
    assert!(size <= cap, "a reply of {size} bytes, over the cap of {cap}");
    assert!(!got.is_empty() && got.len() < total, "{} messages in one page", got.len());
    assert_eq!(page["more"], true, "a page cut short must say so");
    assert_eq!(got.last().unwrap()["text"], heavy_text(total - 1), "the newest page ends at the newest message");

    // Paging back by `before` reaches every message, each once, in order.
    let mut texts: Vec<String> = got.iter().map(|m| m["text"].as_str().unwrap().to_owned()).collect();
    let mut oldest = got[0]["seq"].as_i64().unwrap();
    let mut more = true;
    while more {
        let page = reader.emit_ack_patiently("history", json!({ "before": oldest, "limit": 500 })).await;
        assert!(serde_json::to_string(&page).unwrap().len() <= cap);
        let got = page["messages"].as_array().unwrap();
        let Some(first) = got.first() else { break };
        oldest = first["seq"].as_i64().unwrap();
        let earlier = got.iter().map(|m| m["text"].as_str().unwrap().to_owned());
        texts.splice(0..0, earlier);
        more = page["more"] == true;
    }
    let heavy: Vec<&String> = texts.iter().filter(|t| t.contains('\u{1}')).collect();
    assert_eq!(heavy.len(), total);
    for (n, text) in heavy.iter().enumerate() {
        assert_eq!(**text, heavy_text(n), "paging lost or repeated a message");
    }
    arena.survived("history read back in capped pages").await;
    arena.finish("history-cap").await;
}

/// An arena whose connections may have 512 KiB unsent, and a lobby of 60
/// heavy messages: two pages of 256 KiB fill the budget.
async fn heavy_arena() -> (tempfile::TempDir, Arena) {
    let (dir, arena) = Arena::start(|config| {
        quick_posting(config);
        config.outbound_bytes = 512 * 1024;
    })
    .await;
    let (writer, _) = arena.server.online("writer").await;
    seed(&writer, 60).await;
    (dir, arena)
}

/// A socket that never reads a byte but answers every ping (a bare `3`
/// keeps any heartbeat happy) asks for page after page of heavy history.
/// Without a budget the server would queue all of it; with one, the
/// connection is closed as soon as it is over, long before any pong
/// timeout, and the others chat on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_socket_that_never_reads_is_closed_at_its_byte_budget() {
    let (_dir, mut arena) = heavy_arena().await;

    let mut sloth = raw_socket_from(arena.addr(), Some(ELSEWHERE), json!({}), Some(4096)).await;
    let sent = ask_for_heavy_pages(&mut sloth).await;
    // The default pong timeout is 20 s: closing within 5 is the budget's.
    assert!(closed_within(&mut sloth, WAIT).await, "a socket that never reads was kept ({sent} requests sent)");
    arena.survived("a socket that never reads, asking for heavy history").await;
    arena.finish("outbound-budget").await;
}

/// The same over long-polling, where socketioxide's queue carries
/// everything: a session that asks for heavy history but never collects
/// it is ended at its budget (its requests refused, so its client
/// reconnects and resumes), where the queue would otherwise hold twenty
/// pages until the heartbeat dropped it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_polling_session_that_never_collects_is_ended_at_its_byte_budget() {
    let (_dir, mut arena) = heavy_arena().await;

    let sloth = Polling::open(arena.addr()).await;
    sloth.connect().await;
    let mut refused = None;
    for n in 0..20u64 {
        let ask = encode_event("history", &json!({ "limit": 500 }), Some(n)).unwrap();
        match sloth.post(ask).await {
            Some(status) if status.is_success() => tokio::time::sleep(Duration::from_millis(50)).await,
            other => {
                refused = Some((n, other));
                break;
            }
        }
    }
    // Pages of 256 KiB: the budget holds two, and the third ends it.
    let (asked, status) = refused.expect("a polling session that never collects was kept");
    assert_eq!(status, Some(reqwest::StatusCode::BAD_REQUEST));
    assert!(asked >= 2, "ended after only {asked} requests");
    assert_eq!(sloth.get().await.0, reqwest::StatusCode::BAD_REQUEST, "an ended session still polls");
    arena.survived("a polling session that never collects heavy history").await;
    arena.finish("polling-budget").await;
}

/// And a session that upgraded from long-polling, whose events socketioxide
/// writes to its WebSocket: one that never reads is ended at its budget,
/// long before any pong timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upgraded_session_that_never_reads_is_ended_at_its_byte_budget() {
    let (_dir, mut arena) = heavy_arena().await;

    let polling = Polling::open_from(arena.addr(), Some(ELSEWHERE)).await;
    polling.connect().await;
    let mut sloth = polling.upgrade(4096).await;
    let sent = ask_for_heavy_pages(&mut sloth).await;
    assert!(closed_within(&mut sloth, WAIT).await, "an upgraded session that never reads was kept ({sent} sent)");
    arena.survived("an upgraded session that never reads, asking for heavy history").await;
    arena.finish("upgraded-budget").await;
}

/// Asks for 60 pages of 256 KiB (15 MiB, far more than the kernel's
/// buffers and any budget hold), answering pings all along and reading
/// nothing; how many requests went out before the connection ended.
async fn ask_for_heavy_pages(sloth: &mut super::RawSocket) -> usize {
    let mut sent = 0;
    for n in 0..60u64 {
        let ask = encode_event("history", &json!({ "limit": 500 }), Some(n)).unwrap();
        if sloth.send(Message::text(ask)).await.is_err() || sloth.send(Message::text("3")).await.is_err() {
            break;
        }
        sent += 1;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    sent
}

/// A binary packet announcing attachments: socketioxide would keep up to
/// 10 MB of them per socket for a minute, before any handler saw them.
/// RTCA uses none, and closes the connection at the announcement.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_attachments_are_refused_before_they_are_buffered() {
    let (_dir, mut arena) = Arena::start(|_| {}).await;
    let mut socket = raw_socket_from(arena.addr(), Some(ELSEWHERE), json!({}), None).await;
    let announce = r#"451-["message",{"text":"hi","file":{"_placeholder":true,"num":0}}]"#;
    socket.send(Message::text(announce)).await.unwrap();
    // Whatever follows would be kept: the connection must end first.
    let _ = socket.send(Message::binary(vec![0u8; 1 << 20])).await;
    assert!(closed_within(&mut socket, WAIT).await, "a binary packet's attachments were waited for");
    arena.survived("a binary packet with attachments").await;
    arena.finish("binary").await;
}

/// Page renders and `history` from one address draw on one budget of
/// bytes; once it is spent, that address is refused (429, or
/// `rate_limited`) while other addresses read on. Everyone together has a
/// budget too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_have_a_budget_per_address_and_for_everyone() {
    let (_dir, mut arena) = Arena::start(|config| {
        quick_posting(config);
        // About 40 pages of these messages, then 10 KB a second.
        config.limits.read_bytes_per_address = Rate::new(10_000.0, 2_000_000);
    })
    .await;
    let (writer, _) = arena.server.online("writer").await;
    seed(&writer, 2).await;
    let page_url = format!("http://{}/", arena.addr());
    let elsewhere = reqwest::Client::builder().local_address(ELSEWHERE).build().unwrap();
    let mut refused = None;
    for n in 0..400 {
        let response = elsewhere.get(&page_url).send().await.unwrap();
        if response.status() == reqwest::StatusCode::TOO_MANY_REQUESTS {
            refused = Some((n, response.text().await.unwrap()));
            break;
        }
        assert!(response.status().is_success(), "{}", response.status());
    }
    let (pages, why) = refused.expect("an address read 400 pages of heavy history unrefused");
    assert!(pages > 5, "refused after only {pages} pages");
    assert!(why.contains("too often"), "a 429 says why: {why}");
    // The same address's socket is refused too, with a clear code.
    let mut socket = raw_socket_from(arena.addr(), Some(ELSEWHERE), json!({}), None).await;
    socket.send(Message::text(encode_event("history", &json!({}), Some(1)).unwrap())).await.unwrap();
    let ack = next_ack(&mut socket).await;
    assert_eq!(ack["error"]["code"], "rate_limited", "{ack}");
    // Others still read.
    let here = reqwest::get(&page_url).await.unwrap();
    assert!(here.status().is_success(), "another address was refused: {}", here.status());
    assert_eq!(arena.bob.emit_ack("history", json!({})).await["more"], false);
    arena.survived("one address reading history until refused").await;
    arena.finish("read-budget").await;

    // Everyone's budget: spent by two addresses, it refuses a third.
    let (_dir, arena) = Arena::start(|config| {
        quick_posting(config);
        config.limits.read_bytes_total = Rate::new(10_000.0, 1_000_000);
    })
    .await;
    let (writer, _) = arena.server.online("writer").await;
    seed(&writer, 2).await;
    let page_url = format!("http://{}/", arena.addr());
    let third = reqwest::Client::builder().local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 3))).build().unwrap();
    let mut spent = false;
    for n in 0..400 {
        let reader = if n % 2 == 0 { &elsewhere } else { &reqwest::Client::new() };
        if reader.get(&page_url).send().await.unwrap().status() == reqwest::StatusCode::TOO_MANY_REQUESTS {
            spent = true;
            break;
        }
    }
    assert!(spent, "400 heavy pages never spent everyone's budget");
    let status = third.get(&page_url).send().await.unwrap().status();
    assert_eq!(status, reqwest::StatusCode::TOO_MANY_REQUESTS, "a third address read past everyone's budget");
    arena.server.stop().await;
}

/// The next ack on a raw socket (its events skipped).
async fn next_ack(socket: &mut super::RawSocket) -> Value {
    use futures::StreamExt;
    loop {
        let frame = tokio::time::timeout(WAIT, socket.next()).await.expect("no ack").unwrap().unwrap();
        let text = frame.into_text().unwrap();
        if let Some(body) = text.strip_prefix("43") {
            let start = body.find('[').unwrap();
            let list: Value = serde_json::from_str(&body[start..]).unwrap();
            return list[0].clone();
        }
    }
}
