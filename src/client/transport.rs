//! How Engine.IO frames travel between the browser and the server: over a
//! WebSocket, or over HTTP long-polling when a WebSocket cannot be opened
//! (a proxy that blocks upgrades, say).
//!
//! Either way the connection task in [`super::socket`] sees the same [`Link`]:
//! a bounded stream of incoming frames and a bounded sink for outgoing ones.
//! A spawned pump task owns the real I/O; when it ends, the incoming stream
//! ends, and that is how a lost transport is noticed.
//!
//! A polling link keeps probing for a WebSocket (5 s after connecting, then
//! at doubling intervals up to a minute). When a probe succeeds it performs
//! Engine.IO's upgrade (`2probe` / `3probe` / `5`) on the same session, so
//! nothing is resent and nobody sees us go offline.

use futures::channel::mpsc;
use futures::future::{Fuse, FusedFuture, LocalBoxFuture};
use futures::{select, FutureExt, SinkExt, StreamExt};
use gloo_net::http::Request;
use gloo_net::websocket::futures::WebSocket;
use gloo_net::websocket::Message;
use gloo_timers::future::TimeoutFuture;
use web_sys::{AbortController, RequestCache};

use crate::engine_io::{decode_engine, split_polling_payload, EnginePacket};

/// Incoming frames buffered ahead of the connection task.
const INCOMING_FRAMES: usize = 64;
/// Outgoing frames buffered ahead of the socket or the next POST.
const OUTGOING_FRAMES: usize = 64;
/// What one POST may carry; the server's limit is 64 KiB.
const MAX_POST_BYTES: usize = 48 * 1024;
const FIRST_PROBE_MS: u32 = 5_000;
const MAX_PROBE_INTERVAL_MS: u32 = 60_000;
/// How long a WebSocket probe may take before polling carries on without it.
const PROBE_TIMEOUT_MS: u32 = 5_000;
/// A poll answered with nothing but no-ops while no upgrade is under way
/// means the server is in a strange state; do not spin.
const EMPTY_POLL_PAUSE_MS: u32 = 500;

const PROBE: &str = "2probe";
const PROBE_ANSWER: &str = "3probe";
const UPGRADE: &str = "5";
const CLOSE: &str = "1";
const NOOP: &str = "6";
const RECORD_SEPARATOR: char = '\u{1e}';

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    WebSocket,
    Polling,
}

/// What the pump hands the connection task.
pub enum Inbound {
    Frame(String),
    /// A polling link switched to a WebSocket (same session).
    Upgraded,
}

/// Both ends of an open transport, as the connection task sees them.
pub struct Link {
    pub incoming: mpsc::Receiver<Inbound>,
    pub outgoing: mpsc::Sender<String>,
}

/// Starts a transport of `kind`. Nothing has been exchanged yet: the
/// server's open packet is the first frame to arrive, or the incoming stream
/// ends if the transport cannot be opened.
pub fn open(kind: Kind) -> Link {
    let (to_task, incoming) = mpsc::channel(INCOMING_FRAMES);
    let (outgoing, from_task) = mpsc::channel(OUTGOING_FRAMES);
    match kind {
        Kind::WebSocket => wasm_bindgen_futures::spawn_local(async move {
            if let Some(url) = websocket_url(None) {
                if let Ok(ws) = WebSocket::open(&url) {
                    pump_websocket(ws, to_task, from_task).await;
                }
            }
        }),
        Kind::Polling => wasm_bindgen_futures::spawn_local(pump_polling(to_task, from_task)),
    }
    Link { incoming, outgoing }
}

fn websocket_url(sid: Option<&str>) -> Option<String> {
    let location = web_sys::window()?.location();
    let scheme = if location.protocol().ok()? == "https:" { "wss" } else { "ws" };
    let host = location.host().ok()?;
    Some(match sid {
        None => format!("{scheme}://{host}/socket.io/?EIO=4&transport=websocket"),
        Some(sid) => format!("{scheme}://{host}/socket.io/?EIO=4&transport=websocket&sid={sid}"),
    })
}

/// Copies frames both ways until either side ends.
async fn pump_websocket(ws: WebSocket, mut to_task: mpsc::Sender<Inbound>, mut from_task: mpsc::Receiver<String>) {
    let (mut sink, mut stream) = ws.split();
    loop {
        select! {
            frame = stream.next().fuse() => match frame {
                Some(Ok(Message::Text(text))) => {
                    if to_task.send(Inbound::Frame(text)).await.is_err() {
                        break;
                    }
                }
                Some(Ok(Message::Bytes(_))) => {}
                Some(Err(_)) | None => break,
            },
            frame = from_task.next() => match frame {
                Some(frame) => {
                    if sink.send(Message::Text(frame)).await.is_err() {
                        break;
                    }
                }
                None => break,
            },
        }
    }
    if let Ok(ws) = sink.reunite(stream) {
        let _ = ws.close(None, None);
    }
}

/// One long-poll GET, aborted if the link ends first.
fn poll_once(url: String, abort: &AbortController) -> LocalBoxFuture<'static, Result<String, ()>> {
    let request = Request::get(&url).cache(RequestCache::NoStore).abort_signal(Some(&abort.signal()));
    async move {
        let response = request.send().await.map_err(|_| ())?;
        if !response.ok() {
            return Err(());
        }
        response.text().await.map_err(|_| ())
    }
    .boxed_local()
}

async fn post(url: &str, body: String) -> Result<(), ()> {
    let request = Request::post(url).header("Content-Type", "text/plain;charset=UTF-8").body(body).map_err(|_| ())?;
    match request.send().await {
        Ok(response) if response.ok() => Ok(()),
        _ => Err(()),
    }
}

/// Forwards a poll's frames (no-ops dropped); false if the task is gone.
/// Also reports whether anything but no-ops came.
async fn forward(body: &str, to_task: &mut mpsc::Sender<Inbound>) -> Result<bool, ()> {
    let mut any = false;
    for frame in split_polling_payload(body).filter(|frame| *frame != NOOP) {
        any = true;
        to_task.send(Inbound::Frame(frame.to_owned())).await.map_err(|_| ())?;
    }
    Ok(any)
}

/// Engine.IO over HTTP: a GET always waiting for the server's next frames,
/// a POST for ours (one at a time, batched), and a WebSocket probe now and
/// then.
async fn pump_polling(mut to_task: mpsc::Sender<Inbound>, mut from_task: mpsc::Receiver<String>) {
    let base = "/socket.io/?EIO=4&transport=polling";
    let abort = match AbortController::new() {
        Ok(abort) => abort,
        Err(_) => return,
    };
    // The handshake: the first GET answers with the open packet.
    let Ok(body) = poll_once(base.to_owned(), &abort).await else { return };
    let sid = match split_polling_payload(&body).next().map(decode_engine) {
        Some(Ok(EnginePacket::Open(info))) => info.sid,
        _ => return,
    };
    if forward(&body, &mut to_task).await.is_err() {
        return;
    }
    let url = format!("{base}&sid={sid}");

    let mut poll = poll_once(url.clone(), &abort).fuse();
    let mut probe_interval = FIRST_PROBE_MS;
    let mut next_probe = TimeoutFuture::new(probe_interval).fuse();
    let mut probe: Fuse<LocalBoxFuture<'static, Option<WebSocket>>> = Fuse::terminated();
    let mut pause: Fuse<TimeoutFuture> = Fuse::terminated();
    let upgraded = loop {
        select! {
            body = poll => {
                let Ok(body) = body else { break None };
                let Ok(any) = forward(&body, &mut to_task).await else { break None };
                if any {
                    poll = poll_once(url.clone(), &abort).fuse();
                } else if probe.is_terminated() {
                    pause = TimeoutFuture::new(EMPTY_POLL_PAUSE_MS).fuse();
                }
                // Otherwise a probe is under way and the server answers
                // every poll at once with a no-op: wait for the probe.
            }
            () = pause => poll = poll_once(url.clone(), &abort).fuse(),
            frame = from_task.next() => {
                let Some(first) = frame else { break None };
                let mut body = first;
                while body.len() < MAX_POST_BYTES {
                    match from_task.try_recv() {
                        Ok(frame) => {
                            body.push(RECORD_SEPARATOR);
                            body.push_str(&frame);
                        }
                        _ => break,
                    }
                }
                if post(&url, body).await.is_err() {
                    break None;
                }
            }
            () = next_probe => probe = probe_websocket(sid.clone()).fuse(),
            ws = probe => match ws {
                Some(ws) => break Some(ws),
                None => {
                    probe_interval = probe_interval.saturating_mul(2).min(MAX_PROBE_INTERVAL_MS);
                    next_probe = TimeoutFuture::new(probe_interval).fuse();
                    if poll.is_terminated() && pause.is_terminated() {
                        poll = poll_once(url.clone(), &abort).fuse();
                    }
                }
            },
        }
    };

    let Some(ws) = upgraded else {
        abort.abort();
        // Best effort: tell the server now rather than after its ping timeout.
        let _ = post(&url, CLOSE.to_owned()).await;
        return;
    };
    // The server answered the last poll with a no-op when the probe began;
    // take what that poll brought before any WebSocket frame, to keep order.
    if !poll.is_terminated() {
        match (&mut poll).await {
            Ok(body) if forward(&body, &mut to_task).await.is_ok() => {}
            _ => return,
        }
    }
    let (mut sink, stream) = ws.split();
    if sink.send(Message::Text(UPGRADE.to_owned())).await.is_err() {
        return;
    }
    let Ok(ws) = sink.reunite(stream) else { return };
    if to_task.send(Inbound::Upgraded).await.is_err() {
        return;
    }
    pump_websocket(ws, to_task, from_task).await;
}

/// Opens a WebSocket on session `sid` and checks that frames pass both ways
/// (`2probe` answered by `3probe`). `None` if anything fails or is slow.
fn probe_websocket(sid: String) -> LocalBoxFuture<'static, Option<WebSocket>> {
    async move {
        let ws = WebSocket::open(&websocket_url(Some(&sid))?).ok()?;
        let (mut sink, mut stream) = ws.split();
        let answered = {
            let exchange = async {
                sink.send(Message::Text(PROBE.to_owned())).await.ok()?;
                match stream.next().await {
                    Some(Ok(Message::Text(text))) if text == PROBE_ANSWER => Some(()),
                    _ => None,
                }
            };
            select! {
                answered = exchange.fuse() => answered,
                () = TimeoutFuture::new(PROBE_TIMEOUT_MS).fuse() => None,
            }
        };
        let ws = sink.reunite(stream).ok()?;
        match answered {
            Some(()) => Some(ws),
            None => {
                let _ = ws.close(None, None);
                None
            }
        }
    }
    .boxed_local()
}
