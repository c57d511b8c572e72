//! Chat under load from files: big images are decoded for their previews
//! while people chat. A file of its own, so no other test competes for the
//! two cores while it measures.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::Cursor;
use std::time::{Duration, Instant};

use common::{temp_db, token, Http, TestServer};
use image::{ImageFormat, Rgb, RgbImage};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_keeps_flowing_while_big_images_are_thumbnailed() {
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    use std::sync::Arc;

    let (_dir, db) = temp_db();
    let server = TestServer::start(db).await;
    let http = Arc::new(Http::new(&server));
    let (alice, _) = server.online("alice").await;
    let (bob, bob_ack) = server.online("bob").await;
    let (_carol, carol_ack) = server.online("carol").await;
    // Different pictures (no deduplication), big enough to take a while
    // each: decoded on the runtime's own threads, they would stall it.
    let pictures: Vec<Vec<u8>> = (0..4)
        .map(|n| {
            let picture = RgbImage::from_fn(6400 + n, 5000, |x, y| Rgb([(x / 24) as u8, (y / 16) as u8, 90]));
            let mut bytes = Vec::new();
            picture.write_to(&mut Cursor::new(&mut bytes), ImageFormat::Png).unwrap();
            bytes
        })
        .collect();
    let started = Instant::now();
    let uploads: Vec<_> = pictures
        .into_iter()
        .enumerate()
        .map(|(n, picture)| {
            let http = http.clone();
            let token = token(if n % 2 == 0 { &bob_ack } else { &carol_ack });
            tokio::spawn(async move { http.upload(&token, "big.png", "image/png", picture).await })
        })
        .collect();

    // Chat messages are rate-limited, so they alone sample the server too
    // sparsely: probe it without pause meanwhile too.
    let (done, slowest_probe) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicU64::new(0)));
    let probe = {
        let (http, done, slowest_probe) = (http.clone(), done.clone(), slowest_probe.clone());
        tokio::spawn(async move {
            while !done.load(Ordering::Relaxed) {
                let asked = Instant::now();
                assert_eq!(http.get(None, "/health", None).await.0, StatusCode::OK);
                slowest_probe.fetch_max(asked.elapsed().as_micros() as u64, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
    };
    let mut slowest_chat = Duration::ZERO;
    let mut sent = 0;
    while sent < 8 || uploads.iter().any(|upload| !upload.is_finished()) {
        let text = format!("still here {sent}");
        let round_trip = Instant::now();
        let ack = alice.emit_ack("message", json!({ "text": text })).await;
        assert_eq!(ack["ok"], true, "{ack}");
        bob.event_where("message", |m| m["text"] == text.as_str()).await;
        slowest_chat = slowest_chat.max(round_trip.elapsed());
        sent += 1;
        // Under the per-connection send rate (5/s).
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let busy = started.elapsed();
    done.store(true, Ordering::Relaxed);
    probe.await.unwrap();
    for upload in uploads {
        let (status, media) = upload.await.unwrap();
        assert_eq!(status, StatusCode::CREATED, "{media}");
    }
    let slowest_probe = Duration::from_micros(slowest_probe.load(Ordering::Relaxed));
    println!(
        "while 4 images of 32 MP were processed ({busy:?}): slowest of {sent} chat round trips {slowest_chat:?}, \
         slowest /health {slowest_probe:?}"
    );
    // Not a speed target: a runtime busy decoding stalls for the length of
    // a decode (over half a second here), many times these bounds.
    assert!(slowest_chat < Duration::from_millis(400), "chat stalled for {slowest_chat:?}");
    assert!(slowest_probe < Duration::from_millis(400), "the server stalled for {slowest_probe:?}");
    server.stop().await;
}
