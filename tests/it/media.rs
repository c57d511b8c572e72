//! Shared files against the real server: uploads streamed to a real media
//! directory, linked to messages over the socket, served with Range, and
//! readable by exactly the people who can read the message.

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::common::{temp_db, token, Http, TestServer};
use image::{ImageFormat, Rgb, RgbImage};
use reqwest::header::{ACCEPT_RANGES, CONTENT_DISPOSITION, CONTENT_RANGE, CONTENT_TYPE};
use reqwest::StatusCode;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub(crate) fn png(width: u32, height: u32) -> Vec<u8> {
    let picture =
        RgbImage::from_fn(width, height, |x, y| Rgb([(x % 256) as u8, (y % 256) as u8, ((x * y) % 256) as u8]));
    let mut bytes = Vec::new();
    picture.write_to(&mut Cursor::new(&mut bytes), ImageFormat::Png).unwrap();
    bytes
}

/// A short mono 8 kHz WAV of `samples` samples.
fn wav(samples: u32) -> Vec<u8> {
    let mut bytes = Vec::new();
    bytes.extend_from_slice(b"RIFF");
    bytes.extend_from_slice(&(36 + samples * 2).to_le_bytes());
    bytes.extend_from_slice(b"WAVEfmt ");
    bytes.extend_from_slice(&16u32.to_le_bytes());
    bytes.extend_from_slice(&1u16.to_le_bytes());
    bytes.extend_from_slice(&1u16.to_le_bytes());
    bytes.extend_from_slice(&8000u32.to_le_bytes());
    bytes.extend_from_slice(&16000u32.to_le_bytes());
    bytes.extend_from_slice(&2u16.to_le_bytes());
    bytes.extend_from_slice(&16u16.to_le_bytes());
    bytes.extend_from_slice(b"data");
    bytes.extend_from_slice(&(samples * 2).to_le_bytes());
    for n in 0..samples {
        bytes.extend_from_slice(&(((n * 37) % 2000) as i16 - 1000).to_le_bytes());
    }
    bytes
}

/// Every file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return found };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files_under(&path));
        } else {
            found.push(path);
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_image_goes_up_over_http_and_out_with_a_message() {
    let (_dir, db) = temp_db();
    let server = TestServer::start(db.clone()).await;
    let http = Http::new(&server);
    let (alice, alice_ack) = server.online("alice").await;
    let (bob, bob_ack) = server.online("bob").await;
    let original = png(1600, 900);

    let (status, media) = http.upload(&token(&alice_ack), "holiday.png", "image/png", original.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{media}");
    assert_eq!(
        (media["kind"].clone(), media["mime"].clone(), media["width"].clone(), media["height"].clone()),
        (json!("image"), json!("image/png"), json!(1600), json!(900))
    );
    assert_eq!(media["size"], original.len());
    let id = media["id"].as_str().unwrap().to_owned();
    // Not sent yet: nobody but alice can fetch it.
    assert_eq!(http.get(Some(&token(&bob_ack)), &format!("/media/{id}"), None).await.0, StatusCode::NOT_FOUND);
    assert_eq!(http.get(Some(&token(&alice_ack)), &format!("/media/{id}"), None).await.0, StatusCode::OK);

    let ack = alice.emit_ack("message", json!({ "text": "", "media": id, "cid": "pic-1" })).await;
    assert_eq!(ack["ok"], true, "{ack}");
    let heard = bob.event_where("message", |m| m["cid"] == "pic-1").await;
    assert_eq!(heard["media"]["id"], id.as_str());
    assert_eq!(heard["media"]["name"], "holiday.png");
    // The same upload cannot ride on a second message, nor on someone else's.
    let again = alice.emit_ack("message", json!({ "text": "again", "media": id, "cid": "pic-2" })).await;
    assert_eq!(again["error"]["code"], "no_such_media");
    let (status, theirs) = http.upload(&token(&alice_ack), "x.png", "image/png", png(10, 10)).await;
    assert_eq!(status, StatusCode::CREATED);
    let stolen = bob.emit_ack("message", json!({ "text": "mine now", "media": theirs["id"] })).await;
    assert_eq!(stolen["error"]["code"], "no_such_media");
    // A retry of the first message gets the first ack.
    let retry = alice.emit_ack("message", json!({ "text": "", "media": id, "cid": "pic-1" })).await;
    assert_eq!(retry["id"], ack["id"]);

    // In the lobby, anyone may read it, even without an identity.
    let (status, headers, bytes) = http.get(None, &format!("/media/{id}"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(bytes == original, "the bytes came back changed");
    assert_eq!(headers[CONTENT_TYPE], "image/png");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert!(headers[CONTENT_DISPOSITION].to_str().unwrap().starts_with("inline; filename=\"holiday.png\""));
    assert!(headers["cache-control"].to_str().unwrap().contains("immutable"));

    let (status, headers, preview) = http.get(None, &format!("/media/{id}/thumb"), None).await;
    assert_eq!((status, headers[CONTENT_TYPE].to_str().unwrap()), (StatusCode::OK, "image/jpeg"));
    let preview = image::load_from_memory(&preview).unwrap();
    assert_eq!((preview.width(), preview.height()), (1200, 675), "long edge 1200, same aspect");

    // History carries it too.
    let page = bob.emit_ack("history", json!({})).await;
    assert_eq!(page["messages"][0]["media"]["id"], id.as_str());

    // The same bytes uploaded again are stored once.
    let (status, twin) = http.upload(&token(&bob_ack), "copy.png", "image/png", original.clone()).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_ne!(twin["id"], media["id"]);
    let media_dir = db.with_file_name("media");
    assert_eq!(files_under(&media_dir.join("blobs")).len(), 2, "holiday.png (once) and x.png");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audio_is_served_with_ranges() {
    let (_dir, db) = temp_db();
    let server = TestServer::start(db).await;
    let http = Http::new(&server);
    let (alice, ack) = server.online("alice").await;
    let sound = wav(8000);
    let total = sound.len();
    let (status, media) = http.upload(&token(&ack), "beep.wav", "audio/wav", sound.clone()).await;
    assert_eq!((status, media["kind"].clone()), (StatusCode::CREATED, json!("audio")), "{media}");
    let sent = alice.emit_ack("message", json!({ "text": "listen", "media": media["id"] })).await;
    assert_eq!(sent["ok"], true);
    let url = format!("/media/{}", media["id"].as_str().unwrap());

    let (status, headers, body) = http.get(None, &url, None).await;
    assert_eq!((status, headers[ACCEPT_RANGES].to_str().unwrap()), (StatusCode::OK, "bytes"));
    assert_eq!(body.len(), total);
    let cases = [
        ("bytes=0-99", 0..100),
        ("bytes=1000-1999", 1000..2000),
        ("bytes=-500", total - 500..total),
        ("bytes=15000-", 15000..total),
    ];
    for (range, expected) in cases {
        let (status, headers, body) = http.get(None, &url, Some(range)).await;
        assert_eq!(status, StatusCode::PARTIAL_CONTENT, "{range}");
        assert_eq!(
            headers[CONTENT_RANGE].to_str().unwrap(),
            format!("bytes {}-{}/{total}", expected.start, expected.end - 1),
            "{range}"
        );
        assert!(body == sound[expected], "{range}: wrong bytes");
    }
    let (status, headers, _) = http.get(None, &url, Some(&format!("bytes={total}-"))).await;
    assert_eq!(status, StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(headers[CONTENT_RANGE].to_str().unwrap(), format!("bytes */{total}"));
    server.stop().await;
}

/// Streams `body` as a chunked upload over a raw connection (so no
/// Content-Length warns the server), then reads the answer.
async fn raw_chunked_upload(server: &TestServer, token: &str, body: &[u8]) -> String {
    let mut stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let head = format!(
        "POST /api/uploads?name=big.png HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: image/png\r\nTransfer-Encoding: chunked\r\n\r\n",
        server.addr
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    for chunk in body.chunks(16 * 1024) {
        let frame = [format!("{:x}\r\n", chunk.len()).as_bytes(), chunk, b"\r\n"].concat();
        if stream.write_all(&frame).await.is_err() {
            break;
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer)).await;
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_large_or_disguised_files_are_refused_and_leave_nothing() {
    let (_dir, db) = temp_db();
    let server = TestServer::start_with(db.clone(), |c| c.max_upload_bytes = 64 * 1024).await;
    let http = Http::new(&server);
    let (_alice, ack) = server.online("alice").await;

    let mut big = png(8, 8);
    big.resize(200 * 1024, 0);
    let answer = raw_chunked_upload(&server, &token(&ack), &big).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("file_too_large"), "{answer}");
    // With a Content-Length, it is refused before a byte is read.
    let (status, error) = http.upload(&token(&ack), "big.png", "image/png", big).await;
    assert_eq!((status, error["code"].clone()), (StatusCode::PAYLOAD_TOO_LARGE, json!("file_too_large")));
    assert!(error["message"].as_str().unwrap().contains("65.5 KB"), "{error}");

    let page = b"<!DOCTYPE html><html><script>alert(document.cookie)</script></html>".to_vec();
    let (status, error) = http.upload(&token(&ack), "cat.png", "image/png", page).await;
    assert_eq!((status, error["code"].clone()), (StatusCode::UNSUPPORTED_MEDIA_TYPE, json!("unsupported_file")));
    // Shorter than the bytes a type is told by: refused once it has ended.
    let (status, error) = http.upload(&token(&ack), "cute-cat.png", "image/png", b"<script>1</script>".to_vec()).await;
    assert_eq!((status, error["code"].clone()), (StatusCode::UNSUPPORTED_MEDIA_TYPE, json!("unsupported_file")));
    let svg = b"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"></svg>".to_vec();
    let (status, _) = http.upload(&token(&ack), "logo.svg", "image/svg+xml", svg).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let mut broken = png(8, 8);
    broken.truncate(40);
    let (status, error) = http.upload(&token(&ack), "broken.png", "image/png", broken).await;
    assert_eq!((status, error["code"].clone()), (StatusCode::UNPROCESSABLE_ENTITY, json!("unreadable_image")));
    let (status, error) = http.upload("not-a-token", "a.png", "image/png", png(4, 4)).await;
    assert_eq!((status, error["code"].clone()), (StatusCode::UNAUTHORIZED, json!("not_online")));

    // A client that goes away half-way through.
    let mut stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let head = format!(
        "POST /api/uploads?name=half.png HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\n\
         Content-Type: image/png\r\nContent-Length: 60000\r\n\r\n",
        server.addr,
        token(&ack)
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&png(64, 64)[..]).await.unwrap();
    let media_dir = db.with_file_name("media");
    let staging = media_dir.join("staging");
    let deadline = Instant::now() + Duration::from_secs(5);
    while files_under(&staging).is_empty() {
        assert!(Instant::now() < deadline, "the upload never reached the staging area");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    drop(stream);

    let deadline = Instant::now() + Duration::from_secs(5);
    while !files_under(&media_dir).is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(files_under(&media_dir).is_empty(), "left behind: {:?}", files_under(&media_dir));
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", db.display())).await.unwrap();
    let (uploads,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM uploads").fetch_one(&pool).await.unwrap();
    assert_eq!(uploads, 0);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_media_is_for_the_participants_only() {
    let (_dir, db) = temp_db();
    let server = TestServer::start(db).await;
    let http = Http::new(&server);
    let (alice, alice_ack) = server.online("alice").await;
    let (_bob, bob_ack) = server.online("bob").await;
    let (carol, carol_ack) = server.online("carol").await;
    let (alice_token, bob_token, carol_token) = (token(&alice_ack), token(&bob_ack), token(&carol_ack));

    let created = alice.emit_ack("create_room", json!({ "name": "inner-circle", "private": true })).await;
    assert_eq!(created["ok"], true, "{created}");
    let (_, room_file) =
        http.upload(&alice_token, "plan.pdf", "application/pdf", b"%PDF-1.4\n%secret plan\n".to_vec()).await;
    assert_eq!(room_file["kind"], "file");
    let sent = alice.emit_ack("message", json!({ "room": "inner-circle", "text": "", "media": room_file["id"] })).await;
    assert_eq!(sent["ok"], true, "{sent}");
    let room_url = format!("/media/{}", room_file["id"].as_str().unwrap());

    let (_, dm_file) = http.upload(&alice_token, "us.png", "image/png", png(20, 20)).await;
    let carol_id = carol_ack["user"]["id"].clone();
    let sent = alice.emit_ack("secret", json!({ "to": carol_id, "text": "just us", "media": dm_file["id"] })).await;
    assert_eq!(sent["ok"], true, "{sent}");
    let secret = carol.event("secret").await;
    assert_eq!(secret["media"]["id"], dm_file["id"]);
    let dm_url = format!("/media/{}", dm_file["id"].as_str().unwrap());

    for (who, token) in [("bob", Some(bob_token.as_str())), ("a stranger", None)] {
        for url in [&room_url, &dm_url, &format!("{dm_url}/thumb")] {
            let (status, _, body) = http.get(token, url, None).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{who} read {url}");
            assert!(!String::from_utf8_lossy(&body).contains("secret"), "{who} saw the bytes");
        }
    }
    let (status, headers, _) = http.get(Some(&alice_token), &room_url, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers[CONTENT_DISPOSITION].to_str().unwrap().starts_with("attachment;"), "a PDF downloads");
    assert_eq!(http.get(Some(&carol_token), &dm_url, None).await.0, StatusCode::OK);
    assert_eq!(http.get(Some(&carol_token), &room_url, None).await.0, StatusCode::NOT_FOUND);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsent_uploads_are_swept_after_the_grace_period() {
    let (_dir, db) = temp_db();
    let server = TestServer::start_with(db.clone(), |c| c.media_grace = Duration::from_secs(3)).await;
    let http = Http::new(&server);
    let (alice, ack) = server.online("alice").await;
    // Sent at once, well within the grace period.
    let (_, kept) = http.upload(&token(&ack), "kept.wav", "audio/wav", wav(100)).await;
    let sent = alice.emit_ack("message", json!({ "text": "", "media": kept["id"] })).await;
    assert_eq!(sent["ok"], true, "{sent}");
    let (_, dropped) = http.upload(&token(&ack), "dropped.wav", "audio/wav", wav(200)).await;
    let dropped_url = format!("/media/{}", dropped["id"].as_str().unwrap());
    let blobs = db.with_file_name("media").join("blobs");
    assert_eq!(files_under(&blobs).len(), 2);

    let deadline = Instant::now() + Duration::from_secs(15);
    while files_under(&blobs).len() > 1 {
        assert!(Instant::now() < deadline, "the unsent upload was never swept");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(http.get(Some(&token(&ack)), &dropped_url, None).await.0, StatusCode::NOT_FOUND);
    let sent_late = alice.emit_ack("message", json!({ "text": "", "media": dropped["id"] })).await;
    assert_eq!(sent_late["error"]["code"], "no_such_media");
    let (status, _, body) = http.get(None, &format!("/media/{}", kept["id"].as_str().unwrap()), None).await;
    assert_eq!((status, body.len()), (StatusCode::OK, wav(100).len()), "a sent file stays");
    server.stop().await;
}
