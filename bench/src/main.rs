//! rtca-bench: a load generator for RTCA and for the reference peer (the
//! prototype's stack, `bench/peer`). It speaks Engine.IO v4 / Socket.IO v5
//! over WebSocket itself and drives the chat's event contract: `online`
//! with ack, `message` with ack, and the `message`, `online` and `presence`
//! events that come back.
//!
//! Latency is measured end to end: the send instant travels in the message
//! text, and every receiver records `now - sent` in an HDR histogram. The
//! generator runs on one thread by default, so the server keeps a core, and
//! it reports its own CPU beside the server's: a run the generator itself
//! limited is flagged.
//!
//! Scenarios (`--scenario`):
//! - `fanout`: `--clients` in one room, `--senders` of them sending
//!   `--rate` messages per second in all, for `--duration` seconds;
//! - `ramp`: the same connections through each rate of `--rates`;
//! - `join-storm`: every client connects and goes `online` at once; the
//!   time until every client sees every other online;
//! - `idle`: clients connect, go online and stay; server memory per
//!   connection;
//! - `durable`: `--senders` clients each send their next message as soon as
//!   the previous one is acknowledged (after its commit, on RTCA).
//!
//! - `page` (RTCA only): the lobby holds `--messages` messages; `--requests`
//!   server-side renders of `/`, one after another, each on a fresh
//!   connection: time to the last byte, and server CPU per page.
//!
//! With `--room-size K`, clients are dealt round-robin into public rooms of
//! about K members (created and joined before anything is measured), and
//! each sender posts to its own room: many small conversations instead of
//! one lobby. Without it everyone talks in the lobby.
//!
//! - `chatter` (RTCA only, `chatter.rs`): typing and reactions in a crowd;
//!   frames per socket per second, and server CPU;
//! - `search` (RTCA only, `search.rs`): two-word searches over a million
//!   stored messages, one after another; their latency.
//!
//! The last line of output is `RESULT {json}` for `bench/run.js`.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use serde_json::{json, Value};
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;

mod chatter;
mod proc_stats;
mod search;

use proc_stats::CpuSample;

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

#[derive(Debug, Clone)]
struct Args {
    /// The first of `urls`: where single-client scenarios connect.
    url: String,
    /// Every node to spread clients over, round-robin (`--url A,B`).
    urls: Vec<String>,
    scenario: String,
    clients: usize,
    senders: usize,
    rate: f64,
    rates: Vec<f64>,
    duration: Duration,
    /// The server's processes, CPU and memory summed (two nodes and
    /// Redis, say: `--server-pid P1,P2,P3`).
    server_pids: Vec<u32>,
    threads: usize,
    connect_concurrency: usize,
    /// Members per room; `None` puts everyone in the lobby.
    room_size: Option<usize>,
    /// `page`: messages in the lobby, and renders to time.
    messages: usize,
    requests: usize,
}

impl Args {
    /// The server's processes together, now; `None` without pids, or if
    /// one of them is gone.
    fn server_sample(&self) -> Option<CpuSample> {
        if self.server_pids.is_empty() {
            return None;
        }
        let samples: Option<Vec<CpuSample>> = self.server_pids.iter().map(|pid| proc_stats::cpu(*pid)).collect();
        Some(samples?.iter().fold(CpuSample::default(), |sum, one| CpuSample {
            user: sum.user + one.user,
            sys: sum.sys + one.sys,
            rss_kib: sum.rss_kib + one.rss_kib,
        }))
    }

    fn parse() -> Result<Args, String> {
        let mut args = Args {
            url: "http://127.0.0.1:3000".into(),
            urls: vec!["http://127.0.0.1:3000".into()],
            scenario: "fanout".into(),
            clients: 100,
            senders: 10,
            rate: 40.0,
            rates: vec![40.0, 80.0, 150.0],
            duration: Duration::from_secs(10),
            server_pids: Vec::new(),
            threads: 1,
            connect_concurrency: 200,
            room_size: None,
            messages: 50,
            requests: 300,
        };
        let mut given = std::env::args().skip(1);
        while let Some(flag) = given.next() {
            let mut value = || given.next().ok_or(format!("{flag} needs a value"));
            match flag.as_str() {
                "--url" => {
                    args.urls = value()?.split(',').map(str::to_owned).collect();
                    args.url = args.urls[0].clone();
                }
                "--scenario" => args.scenario = value()?,
                "--clients" => args.clients = number(&value()?)?,
                "--senders" => args.senders = number(&value()?)?,
                "--rate" => args.rate = number(&value()?)?,
                "--rates" => args.rates = value()?.split(',').map(number).collect::<Result<_, _>>()?,
                "--duration" => args.duration = Duration::from_secs_f64(number(&value()?)?),
                "--server-pid" => args.server_pids = value()?.split(',').map(number).collect::<Result<_, _>>()?,
                "--threads" => args.threads = number(&value()?)?,
                "--connect-concurrency" => args.connect_concurrency = number(&value()?)?,
                "--room-size" => args.room_size = Some(number(&value()?)?),
                "--messages" => args.messages = number(&value()?)?,
                "--requests" => args.requests = number(&value()?)?,
                "-h" | "--help" => return Err(USAGE.into()),
                other => return Err(format!("unknown argument {other}\n{USAGE}")),
            }
        }
        if args.clients == 0 || args.threads == 0 || args.connect_concurrency == 0 || args.room_size == Some(0) {
            return Err("--clients, --threads, --connect-concurrency and --room-size must be positive".into());
        }
        args.senders = args.senders.clamp(1, args.clients);
        Ok(args)
    }
}

const USAGE: &str =
    "usage: rtca-bench [--url http://HOST:PORT[,http://HOST2:PORT..]] [--scenario fanout|ramp|join-storm|idle|durable|page|chatter|search]
  [--clients N] [--senders S] [--rate MSG_PER_S] [--rates R1,R2,..] [--duration SECS]
  [--server-pid PID[,PID..]] [--threads N] [--connect-concurrency N] [--room-size K] [--messages N] [--requests N]";

fn number<T: std::str::FromStr>(text: &str) -> Result<T, String> {
    text.trim().parse().map_err(|_| format!("not a number: {text}"))
}

fn main() -> ExitCode {
    let args = match Args::parse() {
        Ok(args) => args,
        Err(problem) => {
            eprintln!("{problem}");
            return ExitCode::from(2);
        }
    };
    let runtime = if args.threads == 1 {
        tokio::runtime::Builder::new_current_thread().enable_all().build()
    } else {
        tokio::runtime::Builder::new_multi_thread().worker_threads(args.threads).enable_all().build()
    };
    let runtime = match runtime {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(result) => {
            println!("RESULT {result}");
            ExitCode::SUCCESS
        }
        Err(problem) => {
            eprintln!("bench failed: {problem}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<Value, String> {
    match args.scenario.as_str() {
        "fanout" => fanout(&args).await,
        "ramp" => ramp(&args).await,
        "join-storm" => join_storm(&args).await,
        "idle" => idle(&args).await,
        "durable" => durable(&args).await,
        "page" => page(&args).await,
        "chatter" => chatter::chatter(&args).await,
        "search" => search::search(&args).await,
        other => Err(format!("unknown scenario {other}\n{USAGE}")),
    }
}

/// A tag unique to this run, so names never clash with a previous run's
/// users that a server may still count online.
fn run_tag() -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    format!("{:x}", (nanos as u64) ^ u64::from(std::process::id()))
}

/// Microseconds since the generator started: the clock in every message.
fn clock() -> u64 {
    static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_micros() as u64
}

/// What every client adds to.
struct Counters {
    sent: AtomicU64,
    acked: AtomicU64,
    refused: AtomicU64,
    received: AtomicU64,
    /// Deliveries owed: each ack adds the size of its sender's audience.
    expected: AtomicU64,
    /// Every client's latencies, in one histogram: one per client (about
    /// 140 KB each) made nearly every record a cache miss, 8% of the
    /// generator's CPU at 150 msg/s.
    latency: Mutex<Histogram<u64>>,
    /// With several nodes, the same deliveries split by road: `[0]` where
    /// sender and receiver are on one node, `[1]` where the message
    /// crossed between nodes (through Redis).
    roads: Mutex<[Histogram<u64>; 2]>,
    /// Send to ack, per message: the commit's share of the latency.
    acks: Mutex<Histogram<u64>>,
}

impl Counters {
    fn new() -> Counters {
        Counters {
            sent: AtomicU64::new(0),
            acked: AtomicU64::new(0),
            refused: AtomicU64::new(0),
            received: AtomicU64::new(0),
            expected: AtomicU64::new(0),
            latency: Mutex::new(new_histogram()),
            roads: Mutex::new([new_histogram(), new_histogram()]),
            acks: Mutex::new(new_histogram()),
        }
    }

    fn roads(&self) -> MutexGuard<'_, [Histogram<u64>; 2]> {
        self.roads.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn acks(&self) -> MutexGuard<'_, Histogram<u64>> {
        self.acks.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn latency(&self) -> MutexGuard<'_, Histogram<u64>> {
        self.latency.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// One connected, identified client.
struct Client {
    ws: Ws,
    /// Events that arrived before the `online` ack (presence, online).
    early: Vec<String>,
    /// The room it posts to; `None` is the lobby.
    room: Option<String>,
    /// How many clients receive what it posts (itself included).
    audience: u64,
}

/// Opens the Engine.IO session and the namespace, then goes `online`,
/// within [`CONNECT_TIMEOUT`] in all; a client that runs out says which
/// step it was waiting for (a join storm that never finished did not).
async fn connect(url: &str, name: &str) -> Result<Client, String> {
    let deadline = tokio::time::Instant::now() + CONNECT_TIMEOUT;
    let late = |step: &str| format!("no {step} within {CONNECT_TIMEOUT:?}");
    let ws_url = format!("{}/socket.io/?EIO=4&transport=websocket", url.replacen("http", "ws", 1));
    // tungstenite zeroes up to its read buffer size before every read (0.26
    // zeroed all the capacity a large frame had grown): at the default
    // 128 KiB that memset was a third of the generator's CPU in fan-out runs
    // (docs/performance.md, finding 14). Frames larger than this still
    // arrive whole; the buffer grows for them.
    let config = WebSocketConfig::default().read_buffer_size(READ_BUFFER_BYTES);
    // No Nagle: a browser's WebSocket sends each frame at once too.
    let (mut ws, _) =
        tokio::time::timeout_at(deadline, tokio_tungstenite::connect_async_with_config(ws_url, Some(config), true))
            .await
            .map_err(|_| late("websocket handshake"))?
            .map_err(|e| format!("connect: {e}"))?;
    let open = tokio::time::timeout_at(deadline, next_text(&mut ws))
        .await
        .map_err(|_| late("open packet"))?
        .ok_or("closed before the open packet")?;
    if !open.starts_with('0') {
        return Err(format!("expected an open packet, got {open}"));
    }
    // Like RTCA's own client, ask for presence changes in batches; the
    // peer, like any socket.io server, ignores it.
    ws.send(Message::text(r#"40{"presence":"batched"}"#)).await.map_err(|e| format!("send: {e}"))?;
    let mut early = Vec::new();
    loop {
        let frame = tokio::time::timeout_at(deadline, next_text(&mut ws))
            .await
            .map_err(|_| late("namespace connect"))?
            .ok_or("closed before the namespace connected")?;
        if frame.starts_with("40") {
            break;
        }
        // engineioxide pings as soon as the session opens; an unanswered
        // ping closes it (docs/performance.md, finding 12).
        if frame == "2" {
            ws.send(Message::text("3")).await.map_err(|e| format!("send: {e}"))?;
            continue;
        }
        if frame.starts_with("44") {
            return Err(format!("namespace refused: {frame}"));
        }
        early.push(frame);
    }
    let online = format!("420{}", json!(["online", { "name": name }]));
    ws.send(Message::text(online)).await.map_err(|e| format!("send: {e}"))?;
    loop {
        let frame = tokio::time::timeout_at(deadline, next_text(&mut ws))
            .await
            .map_err(|_| late("online ack"))?
            .ok_or("closed before the online ack")?;
        if frame == "2" {
            ws.send(Message::text("3")).await.map_err(|e| format!("send: {e}"))?;
        } else if let Some(ack) = frame.strip_prefix("430") {
            if !ack.contains("\"ok\":true") {
                return Err(format!("online refused: {ack}"));
            }
            return Ok(Client { ws, early, room: None, audience: 0 });
        } else {
            early.push(frame);
        }
    }
}

async fn next_text(ws: &mut Ws) -> Option<String> {
    while let Some(message) = ws.next().await {
        match message {
            Ok(Message::Text(text)) => return Some(text.to_string()),
            Ok(Message::Close(_)) | Err(_) => return None,
            Ok(_) => {}
        }
    }
    None
}

/// Connects `count` clients, at most `concurrency` handshakes at a time.
async fn connect_all(args: &Args, count: usize, prefix: &str) -> Result<(Vec<Client>, Duration), String> {
    let started = Instant::now();
    let tag = run_tag();
    let names: Vec<String> = (0..count).map(|n| format!("{prefix}{tag}-{n}")).collect();
    let mut clients = Vec::with_capacity(count);
    let mut pending = futures::stream::iter(names.into_iter().enumerate().map(|(n, name)| {
        // Spread over the nodes: senders (the first clients) too.
        let url = args.urls[n % args.urls.len()].clone();
        async move { connect(&url, &name).await.map_err(|problem| format!("{name}: {problem}")) }
    }))
    .buffered(args.connect_concurrency);
    while let Some(client) = pending.next().await {
        clients.push(client?);
    }
    let clients = match args.room_size {
        Some(size) => form_rooms(args, clients, size, &tag).await?,
        None => clients.into_iter().map(|client| Client { audience: count as u64, ..client }).collect(),
    };
    let took = started.elapsed();
    // Until now the clients were not read: the join's presence traffic
    // waits in their sockets. Read it all before anything is measured.
    let clients = settle(clients).await?;
    Ok((clients, took))
}

/// Deals `clients` round-robin into public rooms of about `size`: client
/// `g` creates room `g`, then the others join theirs. Round-robin spreads
/// the senders (the first clients) over the rooms.
async fn form_rooms(args: &Args, clients: Vec<Client>, size: usize, tag: &str) -> Result<Vec<Client>, String> {
    let count = clients.len();
    let rooms = count.div_ceil(size);
    let room_of = |n: usize| format!("r{tag}-{}", n % rooms);
    let audience = |n: usize| (count / rooms + usize::from(n % rooms < count % rooms)) as u64;
    let mut clients = clients;
    let joiners = clients.split_off(rooms);
    let mut formed = Vec::with_capacity(count);
    for (offset, group, (event, key)) in
        [(0, clients, ("create_room", "name")), (rooms, joiners, ("join_room", "room"))]
    {
        let mut pending = futures::stream::iter(group.into_iter().enumerate().map(|(i, mut client)| {
            let n = offset + i;
            let room = room_of(n);
            async move {
                let request = format!("421{}", json!([event, { key: room }]));
                let answer = tokio::time::timeout(CONNECT_TIMEOUT, ask(&mut client.ws, &request)).await;
                match answer {
                    Ok(Ok(ack)) if ack.contains("\"ok\":true") => {
                        Ok(Client { room: Some(room), audience: audience(n), ..client })
                    }
                    Ok(Ok(ack)) => Err(format!("{event} {room} refused: {ack}")),
                    Ok(Err(problem)) => Err(problem),
                    Err(_) => Err(format!("{event} {room} had no answer after {CONNECT_TIMEOUT:?}")),
                }
            }
        }))
        .buffered(args.connect_concurrency);
        while let Some(client) = pending.next().await {
            formed.push(client?);
        }
    }
    Ok(formed)
}

/// Sends a request with ack id 1 and returns the ack's payload, answering
/// pings and passing over other events meanwhile.
async fn ask(ws: &mut Ws, request: &str) -> Result<String, String> {
    ws.send(Message::text(request)).await.map_err(|e| format!("send: {e}"))?;
    loop {
        let frame = next_text(ws).await.ok_or("closed while waiting for an ack")?;
        if frame == "2" {
            ws.send(Message::text("3")).await.map_err(|e| format!("send: {e}"))?;
        } else if let Some(ack) = frame.strip_prefix("431") {
            return Ok(ack.to_owned());
        }
    }
}

/// Each client's WebSocket read buffer (tungstenite's default is 128 KiB).
const READ_BUFFER_BYTES: usize = 4 * 1024;

/// How long a client waits for its close handshake to go out.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);

/// How long one client may take to connect and go online.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// Reads (answering pings) on every client until it has had nothing for
/// half a second, or a minute has passed.
async fn settle(clients: Vec<Client>) -> Result<Vec<Client>, String> {
    let quiet = Duration::from_millis(500);
    let tasks: Vec<_> = clients
        .into_iter()
        .map(|mut client| {
            tokio::spawn(async move {
                let deadline = Instant::now() + Duration::from_secs(60);
                while Instant::now() < deadline {
                    match tokio::time::timeout(quiet, client.ws.next()).await {
                        Err(_) => break,
                        Ok(Some(Ok(Message::Text(text)))) if text.as_str() == "2" => {
                            client.ws.send(Message::text("3")).await.ok()?;
                        }
                        Ok(Some(Ok(_))) => {}
                        Ok(_) => return None,
                    }
                }
                client.early.clear();
                Some(client)
            })
        })
        .collect();
    let mut settled = Vec::with_capacity(tasks.len());
    for task in tasks {
        match task.await {
            Ok(Some(client)) => settled.push(client),
            _ => return Err("the server closed a connection while the join settled".into()),
        }
    }
    Ok(settled)
}

/// What one client does once connected.
#[derive(Clone, Copy)]
enum Role {
    /// Reads, and answers pings.
    Listen,
    /// Also sends one message every `every`, the first after `phase`.
    /// Senders' phases are spread evenly over the period, as independent
    /// people's would be: in step, S senders make bursts of S messages, and
    /// latency then measures how fast a burst drains (finding 13).
    Send { every: Duration, phase: Duration },
    /// Sends its next message as soon as the last is acknowledged.
    ClosedLoop,
}

/// Runs one client until `stop` flips.
/// `nodes`: how many server addresses the clients were dealt over
/// (client `n` is on node `n % nodes`).
async fn drive(
    mut client: Client,
    role: Role,
    counters: Arc<Counters>,
    mut stop: watch::Receiver<bool>,
    id: usize,
    nodes: usize,
) {
    let mut next_ack: u64 = 1;
    // Send instants of the messages not acknowledged yet (acks come back
    // in order); bounded by what a run sends.
    let mut unacked = std::collections::VecDeque::new();
    let mut ticker = match role {
        Role::Send { every, phase } => {
            let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + phase, every);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            Some(ticker)
        }
        _ => None,
    };
    let mut in_flight = false;
    loop {
        if matches!(role, Role::ClosedLoop) && !in_flight && !*stop.borrow() {
            if send_message(&mut client.ws, next_ack, id, client.room.as_deref()).await.is_err() {
                break;
            }
            counters.sent.fetch_add(1, Ordering::Relaxed);
            unacked.push_back(clock());
            next_ack += 1;
            in_flight = true;
        }
        tokio::select! {
            frame = client.ws.next() => {
                let text = match frame {
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(_)) => continue,
                    _ => break,
                };
                if text.as_str() == "2" {
                    if client.ws.send(Message::text("3")).await.is_err() { break; }
                } else if text.starts_with("42[\"message\"") {
                    counters.received.fetch_add(1, Ordering::Relaxed);
                    if let Some((sent, sender)) = sent_at(&text) {
                        let took = clock().saturating_sub(sent).max(1);
                        let _ = counters.latency().record(took);
                        if nodes > 1 {
                            let road = usize::from(sender % nodes != id % nodes);
                            let _ = counters.roads()[road].record(took);
                        }
                    }
                } else if text.starts_with("43") {
                    if let Some(sent) = unacked.pop_front() {
                        let _ = counters.acks().record(clock().saturating_sub(sent).max(1));
                    }
                    if text.contains("\"ok\":true") {
                        counters.acked.fetch_add(1, Ordering::Relaxed);
                        counters.expected.fetch_add(client.audience, Ordering::Relaxed);
                    } else {
                        counters.refused.fetch_add(1, Ordering::Relaxed);
                    }
                    in_flight = false;
                }
            }
            _ = async { match ticker.as_mut() { Some(t) => { t.tick().await; } None => std::future::pending().await } },
                if !*stop.borrow() => {
                // The flag may have flipped while the tick was pending.
                if *stop.borrow() { continue; }
                if send_message(&mut client.ws, next_ack, id, client.room.as_deref()).await.is_err() { break; }
                counters.sent.fetch_add(1, Ordering::Relaxed);
                unacked.push_back(clock());
                next_ack += 1;
            }
            // `true` stops the sending; the sender going away ends the run.
            changed = stop.changed() => if changed.is_err() { break },
        }
    }
    // A server that stopped reading must not hold this client up.
    let _ = tokio::time::timeout(CLOSE_TIMEOUT, client.ws.close(None)).await;
}

async fn send_message(ws: &mut Ws, ack: u64, sender: usize, room: Option<&str>) -> Result<(), String> {
    let text = format!("b|{}|{sender}", clock());
    let frame = match room {
        Some(room) => format!("42{ack}{}", json!(["message", { "text": text, "room": room }])),
        None => format!("42{ack}{}", json!(["message", { "text": text }])),
    };
    ws.send(Message::text(frame)).await.map_err(|e| e.to_string())
}

/// The send instant and the sender's number in a delivered `message`
/// frame (its text is `b|INSTANT|SENDER`).
fn sent_at(frame: &str) -> Option<(u64, usize)> {
    let start = frame.find("\"text\":\"b|")? + "\"text\":\"b|".len();
    let mut fields = frame[start..].splitn(3, ['|', '"']);
    let sent = fields.next()?.parse().ok()?;
    let sender = fields.next()?.parse().ok()?;
    Some((sent, sender))
}

/// A histogram's p50, p99 and max, in milliseconds.
fn quantiles(histogram: &Histogram<u64>) -> Value {
    let ms = |micros: u64| micros as f64 / 1000.0;
    json!({
        "p50": ms(histogram.value_at_quantile(0.5)),
        "p99": ms(histogram.value_at_quantile(0.99)),
        "max": ms(histogram.max()),
    })
}

fn new_histogram() -> Histogram<u64> {
    // 1 µs to 60 s, 3 significant digits.
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("constant histogram bounds are valid")
}

/// One measured run of senders and listeners over `clients`.
struct Phase {
    rate: f64,
    sent: u64,
    acked: u64,
    refused: u64,
    received: u64,
    expected: u64,
    /// The send phase and the drain: what CPU and rates are per.
    elapsed: Duration,
    /// The send phase alone.
    sending: Duration,
    latency: Histogram<u64>,
    /// Same node, crossed (with several nodes; empty otherwise).
    roads: [Histogram<u64>; 2],
    acks: Histogram<u64>,
    /// Clients that failed, or were stopped by force at the end.
    abandoned: u64,
    server: Option<CpuSample>,
    generator: CpuSample,
}

/// Sends at `rate` from `senders` of the clients for `duration`, waits
/// (up to 5 s) for every delivery, then closes the clients.
async fn measure(args: &Args, clients: Vec<Client>, rate: f64, duration: Duration, closed_loop: bool) -> Phase {
    let counters = Arc::new(Counters::new());
    let (stop_tx, stop_rx) = watch::channel(false);
    let every = Duration::from_secs_f64(args.senders as f64 / rate.max(0.001));
    let server_before = args.server_sample();
    let generator_before = proc_stats::own_cpu();
    let started = Instant::now();
    let tasks: Vec<_> = clients
        .into_iter()
        .enumerate()
        .map(|(id, client)| {
            let role = match (id < args.senders, closed_loop) {
                (true, true) => Role::ClosedLoop,
                (true, false) => Role::Send { every, phase: every.mul_f64(id as f64 / args.senders as f64) },
                (false, _) => Role::Listen,
            };
            tokio::spawn(drive(client, role, Arc::clone(&counters), stop_rx.clone(), id, args.urls.len()))
        })
        .collect();
    tokio::time::sleep(duration).await;
    let _ = stop_tx.send(true);
    let sending = started.elapsed();
    // Drain: wait for what is in flight.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let acked = counters.acked.load(Ordering::Relaxed);
        let expected = counters.expected.load(Ordering::Relaxed);
        let received = counters.received.load(Ordering::Relaxed);
        let sent = counters.sent.load(Ordering::Relaxed);
        let refused = counters.refused.load(Ordering::Relaxed);
        if (received >= expected && acked + refused >= sent) || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Everything is read here, at the end of the drain: after this the
    // clients are told to stop, and frames they read while stopping would
    // count on one side and not the other.
    let elapsed = started.elapsed();
    let (sent, acked) = (counters.sent.load(Ordering::Relaxed), counters.acked.load(Ordering::Relaxed));
    let (refused, received) = (counters.refused.load(Ordering::Relaxed), counters.received.load(Ordering::Relaxed));
    let expected = counters.expected.load(Ordering::Relaxed);
    let server = match (server_before, args.server_sample()) {
        (Some(before), Some(after)) => Some(after.since(&before)),
        _ => None,
    };
    let generator = proc_stats::own_cpu().since(&generator_before);
    drop(stop_tx);
    // A client stuck writing to a server that stopped reading is stopped
    // after 10 s in all, so it cannot load the next run; it is counted, as
    // is one that failed.
    let closing = Instant::now() + Duration::from_secs(10);
    let mut abandoned = 0;
    for mut task in tasks {
        match tokio::time::timeout(closing.saturating_duration_since(Instant::now()), &mut task).await {
            Ok(Ok(())) => {}
            Ok(Err(_failed)) => abandoned += 1,
            Err(_late) => {
                task.abort();
                abandoned += 1;
            }
        }
    }
    if abandoned > 0 {
        eprintln!("{abandoned} clients failed or did not stop within 10 s");
    }
    let latency = counters.latency().clone();
    let roads = counters.roads().clone();
    let acks = counters.acks().clone();
    Phase {
        rate,
        sent,
        acked,
        refused,
        received,
        expected,
        elapsed,
        sending,
        latency,
        roads,
        acks,
        abandoned,
        server,
        generator,
    }
}

fn report(phase: &Phase, clients: usize) -> Value {
    // CPU is sampled over the send phase and the drain; rates are per
    // second of sending.
    let secs = phase.elapsed.as_secs_f64().max(1e-9);
    let send_secs = phase.sending.as_secs_f64().max(1e-9);
    let percentile = |p: f64| phase.latency.value_at_quantile(p) as f64 / 1000.0;
    let loss = phase.expected.saturating_sub(phase.received);
    let mut result = json!({
        "rate": phase.rate,
        "clients": clients,
        "sent": phase.sent,
        "acked": phase.acked,
        "refused": phase.refused,
        "expected_deliveries": phase.expected,
        "received_deliveries": phase.received,
        "lost": loss,
        "abandoned_clients": phase.abandoned,
        "acked_per_s": phase.acked as f64 / send_secs,
        "deliveries_per_s": phase.received as f64 / send_secs,
        "sending_s": send_secs,
        "measured_s": secs,
        "latency_ms": {
            "p50": percentile(0.5), "p90": percentile(0.9), "p99": percentile(0.99),
            "p999": percentile(0.999), "max": phase.latency.max() as f64 / 1000.0,
        },
        "ack_ms": quantiles(&phase.acks),
        "generator_cpu_s": phase.generator.total(),
        "generator_cpu_share": phase.generator.total() / secs,
    });
    if !phase.roads[1].is_empty() {
        result["same_node_latency_ms"] = quantiles(&phase.roads[0]);
        result["other_node_latency_ms"] = quantiles(&phase.roads[1]);
    }
    // The generator is one thread: near a full core, it is the limit.
    let generator_share = phase.generator.total() / secs;
    result["generator_limited"] = json!(generator_share > 0.9);
    if let Some(server) = &phase.server {
        result["server"] = json!({
            "user_s": server.user, "sys_s": server.sys,
            "cpu_share": server.total() / secs,
            "cpu_us_per_delivery": if phase.received > 0 { server.total() * 1e6 / phase.received as f64 } else { 0.0 },
            "rss_kib": server.rss_kib,
        });
    }
    println!(
        "rate {:>6.1}/s: sent {} acked {} refused {} | deliveries {}/{} (lost {loss}) {:.0}/s | latency ms p50 {:.2} p90 {:.2} p99 {:.2} p99.9 {:.2} max {:.2}{}{}",
        phase.rate,
        phase.sent,
        phase.acked,
        phase.refused,
        phase.received,
        phase.expected,
        phase.received as f64 / send_secs,
        percentile(0.5),
        percentile(0.9),
        percentile(0.99),
        percentile(0.999),
        phase.latency.max() as f64 / 1000.0,
        phase
            .server
            .as_ref()
            .map(|s| format!(
                " | server cpu {:.1}% (user {:.2}s sys {:.2}s) {:.2} µs/delivery rss {} KiB",
                s.total() / secs * 100.0,
                s.user,
                s.sys,
                if phase.received > 0 { s.total() * 1e6 / phase.received as f64 } else { 0.0 },
                s.rss_kib
            ))
            .unwrap_or_default(),
        if generator_share > 0.9 {
            format!(" | generator {:.0}% GENERATOR-LIMITED", generator_share * 100.0)
        } else {
            format!(" | generator {:.0}%", generator_share * 100.0)
        },
    );
    result
}

async fn fanout(args: &Args) -> Result<Value, String> {
    let (clients, took) = connect_all(args, args.clients, "fan").await?;
    println!("fanout: {} clients connected and online in {:.2}s", clients.len(), took.as_secs_f64());
    let phase = measure(args, clients, args.rate, args.duration, false).await;
    let mut result = report(&phase, args.clients);
    result["scenario"] = json!(if args.room_size.is_some() { "rooms" } else { "fanout" });
    result["room_size"] = json!(args.room_size);
    result["connect_s"] = json!(took.as_secs_f64());
    Ok(result)
}

async fn ramp(args: &Args) -> Result<Value, String> {
    let mut steps = Vec::new();
    for rate in &args.rates {
        // Fresh connections per step: a step's backlog never leaks into
        // the next one's numbers.
        let (clients, _) = connect_all(args, args.clients, "ramp").await?;
        let phase = measure(args, clients, *rate, args.duration, false).await;
        steps.push(report(&phase, args.clients));
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    Ok(json!({ "scenario": "ramp", "steps": steps }))
}

async fn durable(args: &Args) -> Result<Value, String> {
    let (clients, _) = connect_all(args, args.senders, "dur").await?;
    let phase = measure(args, clients, 0.0, args.duration, true).await;
    let mut result = report(&phase, args.senders);
    result["scenario"] = json!("durable");
    println!(
        "durable: {:.0} acked messages/s from {} closed-loop senders",
        phase.acked as f64 / phase.sending.as_secs_f64(),
        args.senders
    );
    Ok(result)
}

/// Fills the lobby with `--messages` messages, then times `--requests`
/// renders of `/` (a visitor's first page: the lobby, server-side).
async fn page(args: &Args) -> Result<Value, String> {
    let tag = run_tag();
    let mut writer = connect(&args.url, &format!("page{tag}")).await?;
    for n in 0..args.messages {
        let request = format!("421{}", json!(["message", { "text": format!("page {tag} message {n}") }]));
        let ack = ask(&mut writer.ws, &request).await?;
        if !ack.contains("\"ok\":true") {
            return Err(format!("message refused: {ack}"));
        }
    }
    let last = format!("page {tag} message {}", args.messages.saturating_sub(1));
    let address = args.url.trim_start_matches("http://").trim_end_matches('/').to_owned();
    let mut took = new_histogram();
    let mut complete = 0;
    let server_before = args.server_sample();
    let started = Instant::now();
    for _ in 0..args.requests {
        let at = Instant::now();
        let page = get(&address, "/").await?;
        let _ = took.record((at.elapsed().as_micros() as u64).max(1));
        if page.starts_with("HTTP/1.1 200") && (args.messages == 0 || page.contains(&last)) {
            complete += 1;
        }
    }
    let elapsed = started.elapsed();
    let server = match (server_before, args.server_sample()) {
        (Some(before), Some(after)) => Some(after.since(&before)),
        _ => None,
    };
    let ms = |q: f64| took.value_at_quantile(q) as f64 / 1000.0;
    let cpu_ms = server.as_ref().map(|s| s.total() * 1000.0 / args.requests.max(1) as f64);
    println!(
        "page: {} renders of / with {} messages in {:.2}s ({complete} complete): ms p50 {:.2} p90 {:.2} p99 {:.2} max {:.2}; server cpu {:.2} ms per page",
        args.requests,
        args.messages,
        elapsed.as_secs_f64(),
        ms(0.5),
        ms(0.9),
        ms(0.99),
        took.max() as f64 / 1000.0,
        cpu_ms.unwrap_or(f64::NAN)
    );
    let _ = writer.ws.close(None).await;
    Ok(json!({
        "scenario": "page", "messages": args.messages, "requests": args.requests, "complete": complete,
        "page_ms": { "p50": ms(0.5), "p90": ms(0.9), "p99": ms(0.99), "max": took.max() as f64 / 1000.0 },
        "server_cpu_ms_per_page": cpu_ms,
    }))
}

/// One HTTP/1.1 GET on a fresh connection; the whole response as text.
async fn get(address: &str, path: &str) -> Result<String, String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(address).await.map_err(|e| format!("connect: {e}"))?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.map_err(|e| format!("send: {e}"))?;
    let mut response = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut response))
        .await
        .map_err(|_| "no complete page within 10 s".to_owned())?
        .map_err(|e| format!("read: {e}"))?;
    Ok(String::from_utf8_lossy(&response).into_owned())
}

async fn idle(args: &Args) -> Result<Value, String> {
    let before = args.server_sample().map(|s| s.rss_kib);
    let (clients, took) = connect_all(args, args.clients, "idle").await?;
    // Hold them, answering pings, while memory settles.
    let counters = Arc::new(Counters::new());
    let (stop_tx, stop_rx) = watch::channel(false);
    let tasks: Vec<_> = clients
        .into_iter()
        .enumerate()
        .map(|(id, c)| {
            tokio::spawn(drive(c, Role::Listen, Arc::clone(&counters), stop_rx.clone(), id, args.urls.len()))
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let after = args.server_sample().map(|s| s.rss_kib);
    drop(stop_tx);
    let _ = stop_rx;
    for task in tasks {
        let _ = task.await;
    }
    let per_connection = match (before, after) {
        (Some(before), Some(after)) => Some(after.saturating_sub(before) as f64 / args.clients as f64),
        _ => None,
    };
    println!(
        "idle: {} connections held (connected in {:.2}s); server rss {:?} -> {:?} KiB; {:.1} KiB per connection",
        args.clients,
        took.as_secs_f64(),
        before,
        after,
        per_connection.unwrap_or(f64::NAN)
    );
    Ok(json!({
        "scenario": "idle", "clients": args.clients, "connect_s": took.as_secs_f64(),
        "rss_before_kib": before, "rss_after_kib": after, "kib_per_connection": per_connection,
    }))
}

/// Every client connects and goes online at once; done when each has seen
/// every client online (its `presence` list plus `online` events, or
/// `presence_changes` where the server batches them).
async fn join_storm(args: &Args) -> Result<Value, String> {
    let count = args.clients;
    let started = Instant::now();
    let url = args.url.clone();
    let tag = run_tag();
    let overflows_before = proc_stats::listen_overflows();
    let mut tasks = Vec::with_capacity(count);
    let done = Arc::new(AtomicU64::new(0));
    let (stop_tx, stop_rx) = watch::channel(false);
    for n in 0..count {
        let (url, done, mut stop, tag) = (url.clone(), Arc::clone(&done), stop_rx.clone(), tag.clone());
        tasks.push(tokio::spawn(async move {
            let mut client = connect(&url, &format!("storm{tag}-{n}")).await?;
            let mut seen = Seen::default();
            for frame in &client.early {
                seen.note(frame);
            }
            let mut finished = false;
            loop {
                if !finished && seen.count() >= count {
                    finished = true;
                    done.fetch_add(1, Ordering::Relaxed);
                }
                tokio::select! {
                    frame = client.ws.next() => match frame {
                        Some(Ok(Message::Text(text))) => {
                            if text.as_str() == "2" {
                                let _ = client.ws.send(Message::text("3")).await;
                            } else {
                                seen.note(&text);
                            }
                        }
                        Some(Ok(_)) => {}
                        _ => return Err::<(), String>("connection closed during the storm".into()),
                    },
                    _ = stop.changed() => break,
                }
            }
            let _ = client.ws.close(None).await;
            Ok(())
        }));
    }
    let deadline = started + Duration::from_secs(60);
    while done.load(Ordering::Relaxed) < count as u64 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let took = started.elapsed();
    let consistent = done.load(Ordering::Relaxed);
    let rss = args.server_sample().map(|s| s.rss_kib);
    // Machine-wide, so other listeners count too; on a quiet bench machine
    // these are the storm's handshakes that had to be retried.
    let listen_overflows = overflows_before.zip(proc_stats::listen_overflows()).map(|(a, b)| b.saturating_sub(a));
    let _ = stop_tx.send(true);
    // Thousands of clients take a moment to close; one still connecting at
    // the deadline never sees `stop`, and is stopped after 10 s.
    let closing = Instant::now() + Duration::from_secs(10);
    let mut failures = BTreeMap::new();
    for mut task in tasks {
        let finished = tokio::time::timeout(closing.saturating_duration_since(Instant::now()), &mut task).await;
        if finished.is_err() {
            task.abort();
        }
        match finished {
            Ok(Ok(Err(problem))) => *failures.entry(problem).or_insert(0) += 1,
            Ok(Err(crashed)) => *failures.entry(format!("client task failed: {crashed}")).or_insert(0) += 1,
            Ok(Ok(Ok(()))) => {}
            Err(_) => *failures.entry("still connecting after the deadline".to_owned()).or_insert(0) += 1,
        }
    }
    println!(
        "join storm: {consistent}/{count} clients saw all {count} online after {:.2}s; server rss {:?} KiB; \
         listen overflows {listen_overflows:?}; failures {failures:?}",
        took.as_secs_f64(),
        rss
    );
    Ok(json!({
        "scenario": "join-storm", "clients": count, "consistent": consistent,
        // No time when not everyone got there: the deadline is not a result.
        "all_online_s": (consistent == count as u64).then_some(took.as_secs_f64()), "rss_kib": rss,
        "listen_overflows": listen_overflows,
        "failures": failures.values().sum::<usize>(), "failure_kinds": failures,
    }))
}

/// The user ids one client has seen online, as a bit set.
#[derive(Default)]
struct Seen {
    bits: Vec<u64>,
    count: usize,
}

impl Seen {
    fn note(&mut self, frame: &str) {
        let mut rest = if frame.starts_with("42[\"presence_changes\"") {
            // `{"online":[..],"offline":[..],"at":..}`: only the first list.
            frame.split("\"offline\":").next().unwrap_or_default()
        } else if frame.starts_with("42[\"online\"") || frame.starts_with("42[\"presence\"") {
            frame
        } else {
            return;
        };
        // Every `"id":N` in a presence list or an online event is a user.
        while let Some(at) = rest.find("\"id\":") {
            rest = &rest[at + 5..];
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            if let Ok(id) = digits.parse::<usize>() {
                self.insert(id);
            }
        }
    }

    fn insert(&mut self, id: usize) {
        let (word, bit) = (id / 64, id % 64);
        if word >= self.bits.len() {
            self.bits.resize(word + 1, 0);
        }
        if self.bits[word] & (1 << bit) == 0 {
            self.bits[word] |= 1 << bit;
            self.count += 1;
        }
    }

    fn count(&self) -> usize {
        self.count
    }
}
