//! `rtca-sloths`: what never-reading clients can make a server hold.
//!
//! Seeds the lobby with heavy messages (4 000 control characters each, six
//! bytes of JSON apiece), then opens `--sloths` WebSockets with a 4 KiB
//! receive window that never read a byte. Each asks for the 500 newest
//! messages four times a second and answers every ping with a bare pong
//! (`3`), for `--seconds`. One that is closed connects again and goes on,
//! as an attacker would. Meanwhile the server's resident memory is sampled
//! every 100 ms (`--pid`); the result is one line of JSON: its peak, and
//! how often the server closed a sloth.
//!
//! The server must allow the seeding: run it with the benchmark's limits
//! (`bench/run.js`), or `RTCA_RATE_SEND_*` raised.

use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use serde_json::json;
use tokio::net::TcpSocket;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

type Ws = WebSocketStream<tokio::net::TcpStream>;

struct Args {
    addr: String,
    pid: u32,
    sloths: usize,
    seconds: u64,
    messages: usize,
}

fn args() -> Result<Args, String> {
    let mut args = Args { addr: "127.0.0.1:3000".into(), pid: 0, sloths: 8, seconds: 40, messages: 500 };
    let mut given = std::env::args().skip(1);
    while let Some(flag) = given.next() {
        let value = given.next().ok_or(format!("{flag} needs a value"))?;
        let number = || value.parse::<u64>().map_err(|e| format!("{flag}: {e}"));
        match flag.as_str() {
            "--url" => args.addr = value.trim_start_matches("http://").trim_end_matches('/').to_owned(),
            "--pid" => args.pid = number()? as u32,
            "--sloths" => args.sloths = number()? as usize,
            "--seconds" => args.seconds = number()?,
            "--messages" => args.messages = number()? as usize,
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    if args.pid == 0 {
        return Err(
            "usage: rtca-sloths --url http://HOST:PORT --pid PID [--sloths 8] [--seconds 40] [--messages 500]".into()
        );
    }
    Ok(args)
}

/// A WebSocket that has joined namespace `/`; `window`: its receive buffer.
async fn join(addr: &str, window: Option<u32>) -> Result<Ws, String> {
    let socket = TcpSocket::new_v4().map_err(|e| e.to_string())?;
    if let Some(bytes) = window {
        socket.set_recv_buffer_size(bytes).map_err(|e| e.to_string())?;
    }
    let stream = socket.connect(addr.parse().map_err(|e| format!("{addr}: {e}"))?).await.map_err(|e| e.to_string())?;
    let url = format!("ws://{addr}/socket.io/?EIO=4&transport=websocket");
    let (mut ws, _) = tokio_tungstenite::client_async(url, stream).await.map_err(|e| e.to_string())?;
    ws.next().await.ok_or("closed before open")?.map_err(|e| e.to_string())?;
    ws.send(Message::text("40{}")).await.map_err(|e| e.to_string())?;
    loop {
        let frame = ws.next().await.ok_or("closed before CONNECT")?.map_err(|e| e.to_string())?;
        if frame.to_text().is_ok_and(|text| text.starts_with("40")) {
            return Ok(ws);
        }
    }
}

/// Posts `count` heavy messages to the lobby, one ack at a time, reading
/// all it is sent (a writer that did not read would be closed at its
/// budget of unsent bytes, its own messages coming back to it).
async fn seed(addr: &str, count: usize) -> Result<(), String> {
    let mut writer = join(addr, None).await?;
    writer
        .send(Message::text(format!("420{}", json!(["online", { "name": "seeder" }]))))
        .await
        .map_err(|e| e.to_string())?;
    let heavy = "\u{1}".repeat(3990);
    for n in 1..=count {
        let event = json!(["message", { "text": format!("{n:06}{heavy}") }]);
        writer.send(Message::text(format!("42{n}{event}"))).await.map_err(|e| e.to_string())?;
        let acked = format!("43{n}[");
        loop {
            let frame = writer.next().await.ok_or("the seeder was closed")?.map_err(|e| e.to_string())?;
            match frame.to_text() {
                Ok("2") => writer.send(Message::text("3")).await.map_err(|e| e.to_string())?,
                Ok(text) if text.starts_with(&acked) => break,
                _ => {}
            }
        }
    }
    Ok(())
}

/// One sloth until `until`: returns how often the server closed it.
async fn sloth(addr: String, until: Instant) -> usize {
    let mut closed = 0;
    while Instant::now() < until {
        let Ok(mut ws) = join(&addr, Some(4096)).await else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        let mut id = 0u64;
        while Instant::now() < until {
            id += 1;
            let ask = format!("42{id}[\"history\",{{\"limit\":500}}]");
            let sent = tokio::time::timeout(Duration::from_secs(1), async {
                ws.send(Message::text(ask)).await?;
                ws.send(Message::text("3")).await
            })
            .await;
            match sent {
                Ok(Ok(())) => {}
                // Our own send buffer is full: the server stopped reading
                // us, which a server that closed us would not do.
                Err(_) => {}
                Ok(Err(_)) => {
                    closed += 1;
                    break;
                }
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
    closed
}

fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[tokio::main]
async fn main() -> Result<(), String> {
    let args = args()?;
    seed(&args.addr, args.messages).await?;
    let before = rss_kib(args.pid).ok_or("no such process")?;
    let until = Instant::now() + Duration::from_secs(args.seconds);
    let sloths: Vec<_> = (0..args.sloths).map(|_| tokio::spawn(sloth(args.addr.clone(), until))).collect();
    let mut peak = before;
    while Instant::now() < until {
        peak = peak.max(rss_kib(args.pid).ok_or("the server died")?);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut closed = 0;
    for sloth in sloths {
        closed += sloth.await.unwrap_or(0);
    }
    let after = rss_kib(args.pid).ok_or("the server died")?;
    let result = json!({
        "scenario": "sloths", "sloths": args.sloths, "seconds": args.seconds, "messages": args.messages,
        "rss_before_mib": before as f64 / 1024.0, "rss_peak_mib": peak as f64 / 1024.0,
        "rss_after_mib": after as f64 / 1024.0, "closed_by_server": closed,
    });
    println!("{result}");
    Ok(())
}
