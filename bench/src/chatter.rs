//! `chatter` (RTCA only): the talk around messages rather than messages.
//! `--clients` sit in the lobby; `--senders` of them type (saying so every
//! three seconds, as the web client does) and react to one message with
//! `--rate` reactions per second in all, for `--duration` seconds. Every
//! client counts the frames it receives: the server coalesces typing to
//! one frame a second per conversation, and each reaction is one
//! `message_changed` to everyone. Reports frames per socket per second and
//! the server's CPU, to set beside the plain fan-out's.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;

use super::{ask, connect_all, Args};

/// How often a typist says again that they are typing (the web client's
/// `TYPING_EVERY_MS`).
const TYPING_EVERY: Duration = Duration::from_secs(3);

#[derive(Default)]
struct Frames {
    typing: AtomicU64,
    changed: AtomicU64,
    other: AtomicU64,
}

pub async fn chatter(args: &Args) -> Result<Value, String> {
    let (mut clients, took) = connect_all(args, args.clients, "chat").await?;
    println!("chatter: {} clients connected and online in {:.2}s", clients.len(), took.as_secs_f64());
    let ack = ask(&mut clients[0].ws, r#"421["message",{"text":"react to this"}]"#).await?;
    let target = serde_json::from_str::<Value>(&ack).ok().and_then(|v| v[0]["id"].as_i64()).ok_or("no message id")?;
    // Let the message and the joins' presence settle before counting.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let frames = Arc::new(Frames::default());
    let (stop_tx, stop_rx) = watch::channel(false);
    let every = Duration::from_secs_f64(args.senders as f64 / args.rate.max(0.001));
    let server_before = args.server_sample();
    let started = Instant::now();
    let tasks: Vec<_> = clients
        .into_iter()
        .enumerate()
        .map(|(n, client)| {
            let (frames, mut stop) = (Arc::clone(&frames), stop_rx.clone());
            let active = n < args.senders;
            tokio::spawn(async move {
                let (mut sink, mut stream) = client.ws.split();
                // Spread the typists' and reactors' clocks over their periods.
                let offset = Duration::from_millis((n as u64 * 97) % 3000);
                let mut typing = tokio::time::interval_at(tokio::time::Instant::now() + offset, TYPING_EVERY);
                let mut react = tokio::time::interval_at(tokio::time::Instant::now() + offset, every);
                let emoji = format!(":e{}:", n % 10);
                loop {
                    tokio::select! {
                        _ = stop.changed() => break,
                        _ = typing.tick(), if active => {
                            let _ = sink.send(Message::text(r#"42["typing",{}]"#)).await;
                        }
                        _ = react.tick(), if active => {
                            let frame = format!("42{}", json!(["react", { "id": target, "emoji": emoji }]));
                            let _ = sink.send(Message::text(frame)).await;
                        }
                        frame = stream.next() => {
                            let Some(Ok(Message::Text(text))) = frame else {
                                if frame.is_none() { break }
                                continue;
                            };
                            if text.as_str() == "2" {
                                let _ = sink.send(Message::text("3")).await;
                            } else if text.starts_with(r#"42["typing""#) {
                                frames.typing.fetch_add(1, Ordering::Relaxed);
                            } else if text.starts_with(r#"42["message_changed""#) {
                                frames.changed.fetch_add(1, Ordering::Relaxed);
                            } else {
                                frames.other.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                    }
                }
            })
        })
        .collect();
    tokio::time::sleep(args.duration).await;
    let _ = stop_tx.send(true);
    let elapsed = started.elapsed();
    for task in tasks {
        let _ = task.await;
    }
    let server = match (server_before, args.server_sample()) {
        (Some(before), Some(after)) => Some(after.since(&before).total()),
        _ => None,
    };
    let per_socket =
        |count: &AtomicU64| count.load(Ordering::Relaxed) as f64 / args.clients as f64 / elapsed.as_secs_f64();
    let (typing, changed, other) = (per_socket(&frames.typing), per_socket(&frames.changed), per_socket(&frames.other));
    let cores = server.map(|cpu| cpu / elapsed.as_secs_f64());
    println!(
        "chatter: {} typists and {}/s reactions among {} clients for {:.1}s: per socket per second {typing:.2} typing, {changed:.2} message_changed, {other:.2} other frames; server cpu {:.2} cores",
        args.senders,
        args.rate,
        args.clients,
        elapsed.as_secs_f64(),
        cores.unwrap_or(f64::NAN)
    );
    Ok(json!({
        "scenario": "chatter",
        "clients": args.clients,
        "typists": args.senders,
        "reactions_per_s": args.rate,
        "typing_frames_per_socket_s": typing,
        "changed_frames_per_socket_s": changed,
        "other_frames_per_socket_s": other,
        "server_cpu_cores": cores,
        "lost": 0,
    }))
}
