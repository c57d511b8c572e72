//! Test harness: the real server on 127.0.0.1:0 with a temporary SQLite
//! file, and a small Socket.IO client over a real WebSocket that uses the
//! crate's own Engine.IO codec (the npm interop suite checks the server
//! against the official client too).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod cut;
pub mod postgres;
pub mod redis;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use rtca::engine_io::{decode_engine, decode_socket, encode_connect, encode_event, EnginePacket, SocketPacket};
use rtca::server::{run, Config};
use serde_json::Value;
use tokio::sync::{mpsc, oneshot, Notify};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;

pub const WAIT: Duration = Duration::from_secs(5);

/// The `rtca` binary's output, line by line; whoever holds it decides
/// whether it is read (a server whose stdout nobody reads must not stall:
/// tests/stuck_log.rs).
pub type ServerOutput = tokio::io::Lines<tokio::io::BufReader<tokio::process::ChildStdout>>;

/// Starts the real `rtca` binary on 127.0.0.1:0 with the database file
/// `db`, `RUST_LOG=log_level` and `env` on top; returns it, its address
/// and its output, once it listens.
pub async fn spawn_binary(
    db: &std::path::Path,
    log_level: &str,
    env: &[(&str, &str)],
) -> (tokio::process::Child, SocketAddr, ServerOutput) {
    started(tokio::process::Command::new(env!("CARGO_BIN_EXE_rtca")), db, log_level, env).await
}

/// The same, under a hard limit of `max_descriptors` open files.
pub async fn spawn_binary_limited(
    db: &std::path::Path,
    env: &[(&str, &str)],
    max_descriptors: u32,
) -> (tokio::process::Child, SocketAddr, ServerOutput) {
    let mut command = tokio::process::Command::new("sh");
    command.arg("-c").arg(format!("ulimit -n {max_descriptors} && exec \"$0\"")).arg(env!("CARGO_BIN_EXE_rtca"));
    started(command, db, "info", env).await
}

async fn started(
    mut command: tokio::process::Command,
    db: &std::path::Path,
    log_level: &str,
    env: &[(&str, &str)],
) -> (tokio::process::Child, SocketAddr, ServerOutput) {
    use tokio::io::AsyncBufReadExt;
    let mut child = command
        .env("RTCA_ADDR", "127.0.0.1:0")
        .env("RTCA_DATABASE_URL", database_url(db).await)
        .env("RTCA_MEDIA_DIR", db.with_file_name("media"))
        .env("RUST_LOG", log_level)
        .env("NO_COLOR", "1")
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let addr = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            // Text logs, or JSON ones (`RTCA_LOG_FORMAT=json`).
            if let Some(rest) = line.split("listening on http://").nth(1) {
                let addr: String = rest.chars().take_while(|c| !c.is_whitespace() && *c != '"').collect();
                return addr.parse::<SocketAddr>().unwrap();
            }
        }
        panic!("the server exited before listening");
    })
    .await
    .expect("the server did not start");
    (child, addr, lines)
}

/// The database a server started on the file `db` uses: that file, or
/// with `RTCA_TEST_DATABASE=postgres`, a PostgreSQL database standing for
/// it, the same one each time (so a restart finds its history). Tests
/// that open the SQLite file themselves are SQLite's own (the Makefile
/// skips them on PostgreSQL, and says why).
pub async fn database_url(db: &std::path::Path) -> String {
    match std::env::var("RTCA_TEST_DATABASE").as_deref() {
        Ok("postgres") => postgres::database_for(db).await,
        _ => format!("sqlite://{}", db.display()),
    }
}

/// A running server; dropping the database directory removes the file.
pub struct TestServer {
    pub addr: SocketAddr,
    pub db_path: PathBuf,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl TestServer {
    pub async fn start(db_path: PathBuf) -> TestServer {
        Self::start_with(db_path, |_| {}).await
    }

    /// Starts with some settings changed.
    pub async fn start_with(db_path: PathBuf, adjust: impl FnOnce(&mut Config)) -> TestServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let media_dir = db_path.with_file_name("media");
        let mut config = Config { addr, database_url: database_url(&db_path).await, media_dir, ..Config::default() };
        adjust(&mut config);
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            run(listener, config, async move {
                let _ = stopped.await;
            })
            .await
            .expect("server failed");
        });
        TestServer { addr, db_path, stop: Some(stop), task: Some(task) }
    }

    /// Shuts down gracefully and waits until it has.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            tokio::time::timeout(Duration::from_secs(10), task).await.expect("shutdown hung").unwrap();
        }
    }

    pub async fn client(&self) -> TestClient {
        TestClient::connect(self.addr, None).await.unwrap()
    }

    /// A client that has gone `online` as `name`.
    pub async fn online(&self, name: &str) -> (TestClient, Value) {
        let client = self.client().await;
        let ack = client.emit_ack("online", serde_json::json!({ "name": name })).await;
        assert_eq!(ack["ok"], true, "online as {name}: {ack}");
        (client, ack)
    }
}

/// Every stored message as `(id, seq, text, cid)`, read through a connection
/// of its own: what is here has been committed.
/// (On PostgreSQL with `RTCA_TEST_DATABASE=postgres`, from the database
/// standing for `db`.)
pub async fn stored_messages(db: &std::path::Path) -> Vec<(i64, i64, String, Option<String>)> {
    const ALL: &str = "SELECT id, seq, text, cid FROM messages ORDER BY id";
    if std::env::var("RTCA_TEST_DATABASE").as_deref() == Ok("postgres") {
        let pool = sqlx::PgPool::connect(&postgres::database_for(db).await).await.unwrap();
        let rows = sqlx::query_as(ALL).fetch_all(&pool).await.unwrap();
        pool.close().await;
        return rows;
    }
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", db.display())).await.unwrap();
    let rows = sqlx::query_as(ALL).fetch_all(&pool).await.unwrap();
    pool.close().await;
    rows
}

pub fn temp_db() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rtca-test.db");
    (dir, path)
}

type Acks = Arc<Mutex<HashMap<u64, oneshot::Sender<Value>>>>;

/// A Socket.IO client over WebSocket. Events land in a queue read with
/// [`TestClient::event`].
pub struct TestClient {
    out: mpsc::UnboundedSender<String>,
    events: tokio::sync::Mutex<mpsc::UnboundedReceiver<(String, Value)>>,
    acks: Acks,
    next_id: Mutex<u64>,
    closed: Arc<Notify>,
    /// Every event's name and ack's id (`ack <id>`), in the order they arrived.
    arrivals: Arc<Mutex<Vec<String>>>,
    pub sid: String,
}

#[derive(Debug)]
pub enum ConnectError {
    Http(String),
    Refused(Value),
}

impl TestClient {
    /// Connects, optionally with a handshake `auth`, and waits for CONNECT.
    pub async fn connect(addr: SocketAddr, auth: Option<Value>) -> Result<TestClient, ConnectError> {
        Self::connect_with(addr, auth, None).await
    }

    pub async fn connect_with(
        addr: SocketAddr,
        auth: Option<Value>,
        origin: Option<&str>,
    ) -> Result<TestClient, ConnectError> {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let mut request = format!("ws://{addr}/socket.io/?EIO=4&transport=websocket").into_client_request().unwrap();
        if let Some(origin) = origin {
            request.headers_mut().insert("origin", origin.parse().unwrap());
        }
        let (ws, _) = tokio_tungstenite::connect_async(request).await.map_err(|e| ConnectError::Http(e.to_string()))?;
        let (mut sink, mut stream) = ws.split();

        let first = next_text(&mut stream).await.ok_or(ConnectError::Http("closed before open".into()))?;
        assert!(matches!(decode_engine(&first), Ok(EnginePacket::Open(_))), "expected open, got {first}");
        sink.send(Message::text(encode_connect(auth.as_ref()).unwrap())).await.unwrap();
        let sid = loop {
            let frame = next_text(&mut stream).await.ok_or(ConnectError::Http("closed before connect".into()))?;
            // The server may ping before the namespace is connected; a
            // client that let that ping go unanswered would be dropped.
            if let Ok(EnginePacket::Ping(payload)) = decode_engine(&frame) {
                sink.send(Message::text(format!("3{payload}"))).await.unwrap();
                continue;
            }
            if let Ok(EnginePacket::Message(payload)) = decode_engine(&frame) {
                match decode_socket::<Value>(payload) {
                    Ok(SocketPacket::Connect(data)) => break data["sid"].as_str().unwrap_or_default().to_owned(),
                    Ok(SocketPacket::ConnectError(data)) => return Err(ConnectError::Refused(data)),
                    _ => {}
                }
            }
        };

        let (out, mut outgoing) = mpsc::unbounded_channel::<String>();
        let (events_tx, events) = mpsc::unbounded_channel();
        let acks: Acks = Arc::default();
        let closed = Arc::new(Notify::new());
        let reader_acks = acks.clone();
        let reader_out = out.clone();
        let reader_closed = closed.clone();
        let arrivals: Arc<Mutex<Vec<String>>> = Arc::default();
        let reader_arrivals = arrivals.clone();
        tokio::spawn(async move {
            while let Some(frame) = next_text(&mut stream).await {
                match decode_engine(&frame) {
                    Ok(EnginePacket::Ping(p)) => {
                        let _ = reader_out.send(format!("3{p}"));
                    }
                    Ok(EnginePacket::Message(payload)) => match decode_socket::<Value>(payload) {
                        Ok(SocketPacket::Event { name, data, .. }) => {
                            reader_arrivals.lock().unwrap().push(name.clone());
                            let _ = events_tx.send((name, data));
                        }
                        Ok(SocketPacket::Ack { id, data }) => {
                            reader_arrivals.lock().unwrap().push(format!("ack {id}"));
                            if let Some(tx) = reader_acks.lock().unwrap().remove(&id) {
                                let _ = tx.send(data);
                            }
                        }
                        // The server put us out of the namespace.
                        Ok(SocketPacket::Disconnect) => break,
                        _ => {}
                    },
                    Ok(EnginePacket::Close) => break,
                    _ => {}
                }
            }
            reader_closed.notify_one();
        });
        tokio::spawn(async move {
            while let Some(frame) = outgoing.recv().await {
                if frame.is_empty() {
                    let _ = sink.close().await;
                    break;
                }
                if sink.send(Message::text(frame)).await.is_err() {
                    break;
                }
            }
        });
        Ok(TestClient {
            out,
            events: tokio::sync::Mutex::new(events),
            acks,
            next_id: Mutex::new(0),
            closed,
            arrivals,
            sid,
        })
    }

    /// Sends a raw Engine.IO text frame.
    pub fn send_raw(&self, frame: impl Into<String>) {
        let _ = self.out.send(frame.into());
    }

    pub fn emit(&self, event: &str, data: Value) {
        self.send_raw(encode_event(event, &data, None).unwrap());
    }

    /// Emits and waits up to `wait` for the ack; `None` if none came (the
    /// server died, say).
    pub async fn try_emit_ack(&self, event: &str, data: Value, wait: Duration) -> Option<Value> {
        let id = self.take_ack_id();
        let (tx, rx) = oneshot::channel();
        self.acks.lock().unwrap().insert(id, tx);
        self.send_raw(encode_event(event, &data, Some(id)).unwrap());
        tokio::time::timeout(wait, rx).await.ok()?.ok()
    }

    /// Every event's name and every ack (`ack <id>`) so far, in the order
    /// they arrived.
    pub fn arrivals(&self) -> Vec<String> {
        self.arrivals.lock().unwrap().clone()
    }

    /// The id the next ack-asking emit will use.
    pub fn next_ack_id(&self) -> u64 {
        *self.next_id.lock().unwrap() + 1
    }

    fn take_ack_id(&self) -> u64 {
        let mut next = self.next_id.lock().unwrap();
        *next += 1;
        *next
    }

    /// Emits and waits for the ack.
    pub async fn emit_ack(&self, event: &str, data: Value) -> Value {
        let id = self.take_ack_id();
        let (tx, rx) = oneshot::channel();
        self.acks.lock().unwrap().insert(id, tx);
        self.send_raw(encode_event(event, &data, Some(id)).unwrap());
        tokio::time::timeout(WAIT, rx).await.unwrap_or_else(|_| panic!("no ack for {event}")).unwrap()
    }

    /// Emits and waits for the ack; told `rate_limited`, waits a little and
    /// sends the same thing again, as a well-behaved client does.
    pub async fn emit_ack_patiently(&self, event: &str, data: Value) -> Value {
        loop {
            let ack = self.emit_ack(event, data.clone()).await;
            if ack["error"]["code"] != "rate_limited" {
                return ack;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The next event called `name`, skipping others.
    pub async fn event(&self, name: &str) -> Value {
        self.event_where(name, |_| true).await
    }

    /// The next event called `name` whose payload satisfies `pred`.
    pub async fn event_where(&self, name: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let mut events = self.events.lock().await;
        let found = tokio::time::timeout(WAIT, async {
            while let Some((event, data)) = events.recv().await {
                if event == name && pred(&data) {
                    return Some(data);
                }
            }
            None
        })
        .await;
        match found {
            Ok(Some(data)) => data,
            _ => panic!("no `{name}` event arrived"),
        }
    }

    /// The next event of any kind (panics after [`WAIT`] without one).
    pub async fn next_event(&self) -> (String, Value) {
        self.next_event_within(WAIT).await.unwrap_or_else(|| panic!("no event arrived"))
    }

    /// The next event of any kind, or `None` after `wait` without one.
    pub async fn next_event_within(&self, wait: Duration) -> Option<(String, Value)> {
        let mut events = self.events.lock().await;
        tokio::time::timeout(wait, events.recv()).await.ok().flatten()
    }

    /// Every event that arrives within `window`.
    pub async fn drain(&self, window: Duration) -> Vec<(String, Value)> {
        let mut events = self.events.lock().await;
        let mut seen = Vec::new();
        let _ = tokio::time::timeout(window, async {
            while let Some(event) = events.recv().await {
                seen.push(event);
            }
        })
        .await;
        seen
    }

    /// Whether the server closes this connection within [`WAIT`].
    pub async fn closed_by_server(&self) -> bool {
        tokio::time::timeout(WAIT, self.closed.notified()).await.is_ok()
    }

    /// Closes the WebSocket.
    pub async fn close(self) {
        let _ = self.out.send(String::new());
        let _ = tokio::time::timeout(WAIT, self.closed.notified()).await;
    }
}

async fn next_text<S>(stream: &mut S) -> Option<String>
where
    S: futures::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    while let Some(message) = stream.next().await {
        match message {
            Ok(Message::Text(text)) => return Some(text.to_string()),
            Ok(Message::Close(_)) | Err(_) => return None,
            Ok(_) => {}
        }
    }
    None
}

/// The session token in an `online` ack.
pub fn token(ack: &Value) -> String {
    ack["token"].as_str().unwrap().to_owned()
}

/// Plain HTTP to the test server (uploads, media), as a client outside a
/// browser would: `Authorization: Bearer <token>`.
pub struct Http {
    base: String,
    client: reqwest::Client,
}

impl Http {
    pub fn new(server: &TestServer) -> Http {
        Http { base: format!("http://{}", server.addr), client: reqwest::Client::new() }
    }

    pub async fn upload(
        &self,
        token: &str,
        name: &str,
        content_type: &str,
        bytes: Vec<u8>,
    ) -> (reqwest::StatusCode, Value) {
        let response = self
            .client
            .post(format!("{}/api/uploads", self.base))
            .query(&[("name", name)])
            .bearer_auth(token)
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(bytes)
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub async fn get(
        &self,
        token: Option<&str>,
        path: &str,
        range: Option<&str>,
    ) -> (reqwest::StatusCode, reqwest::header::HeaderMap, Vec<u8>) {
        let mut request = self.client.get(format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(range) = range {
            request = request.header(reqwest::header::RANGE, range);
        }
        let response = request.send().await.unwrap();
        let (status, headers) = (response.status(), response.headers().clone());
        (status, headers, response.bytes().await.unwrap().to_vec())
    }
}
