//! The TCP connection under every request, and the direct write path that
//! live messages, presence and acks (`delivery::direct`) take to WebSocket
//! clients.
//!
//! Why it exists: with socketioxide, a message for a room of 1 000 becomes
//! 1 000 packets in 1 000 channels, each woken writer task copying the same
//! frame into its own tungstenite buffer before its `write` (finding 13 in
//! `docs/performance.md`). A server-to-client WebSocket frame is unmasked,
//! so its bytes are the same for every recipient: [`Wire::send`] writes one
//! shared, pre-framed buffer to each connection's socket straight from the
//! delivery task (`fanout`), with no task, channel or copy per recipient.
//!
//! How it stays sound: every byte written to the connection passes through
//! this module, whichever side wrote it. [`FrameTracker`] follows the stream
//! (the `101 Switching Protocols` response, then each frame's header and
//! length), so a frame of ours only ever goes in between two whole
//! messages: never inside one of tungstenite's frames, never between a
//! fragmented message's frames, never after a Close frame, and never before
//! the socket's `session` frame has gone out through socketioxide (the
//! tracker's opener, `socket::DIRECT_WRITES_AFTER`), so never before
//! CONNECT either. A connection whose first response is not `101` is plain
//! HTTP and is never written to directly. A frame that cannot be written at
//! once waits in the connection's queue and goes out at the next boundary:
//! from tungstenite's own next write, or from a small task that waits for
//! the socket to drain.
//!
//! The queue is bounded by a [`Budget`]: frames, bytes, and time. A
//! connection that would go past it, or whose queue has not drained in
//! time, is closed outright, both ways: a client that does not read what
//! it is sent cannot make the server hold more for it, and trimming its
//! queue instead would leave it quietly behind. It resumes by `seq` when it
//! comes back, as after any reconnect.
//!
//! The connection's socket is closed when hyper (or tungstenite) drops its
//! stream: a socket.io session that still holds this `Wire` (its
//! handshake's `ConnectInfo`) keeps no descriptor open, whether its client
//! hung up before CONNECT or upgraded away from long-polling.

use std::collections::VecDeque;
use std::io;
use std::net::{Shutdown, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::task::{ready, Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;
use tokio::sync::Notify;
use tokio::time::Instant;

use super::backlog::Backlog;
use crate::server::metrics;

mod frames;
mod listener;

pub use frames::{push_text_frame, text_frame, FrameTracker};
pub use listener::WireListener;

/// What one connection may have waiting to be written to it; past any of
/// it, the connection is closed.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    /// Frames waiting (each `send` is one).
    pub frames: usize,
    /// Bytes waiting.
    pub bytes: usize,
    /// How long the queue may go without draining.
    pub drain_within: Duration,
}

/// What every request carries as `ConnectInfo`: the peer's address (for
/// the per-address limits) and its connection (for direct writes).
#[derive(Clone)]
pub struct Peer {
    pub addr: SocketAddr,
    pub wire: Arc<Wire>,
}

/// A connection as hyper, and after an upgrade tungstenite, see it.
pub struct WireStream {
    read: OwnedReadHalf,
    wire: Arc<Wire>,
    /// Lives as long as the connection (its place in the connection
    /// counts), upgraded or not.
    _held: Option<Box<dyn Send + Sync>>,
}

/// A connection's writing side, shared by its `WireStream` and the
/// delivery task.
pub struct Wire {
    state: Mutex<WriteState>,
    /// Wakes the drain task: the stream reached a boundary, or closed.
    boundary: Notify,
    budget: Budget,
    /// Who is at the other end, for the log.
    peer: SocketAddr,
    /// The socket this connection carries out through socketioxide, when
    /// one upgraded to it from long-polling: every byte written here is
    /// one less it holds (`delivery::backlog`).
    backlog: OnceLock<Arc<Backlog>>,
}

struct WriteState {
    /// `None` once the stream is dropped: the socket is closed then, even
    /// while a session still holds this `Wire`.
    write: Option<OwnedWriteHalf>,
    frames: FrameTracker,
    /// Frames of ours waiting for the next boundary; the first may be
    /// partly written (`front_written` bytes).
    queued: VecDeque<Arc<[u8]>>,
    front_written: usize,
    /// The bytes of `queued`, the part already written included.
    queued_bytes: usize,
    /// Since when `queued` has waited with nothing of it written out: set
    /// when it stops being empty, moved on by every write that gets bytes
    /// out.
    waiting_since: Option<Instant>,
    draining: bool,
}

/// What became of one direct write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sent {
    /// Written, or queued to be written in order.
    Yes,
    /// Not a WebSocket connection (yet): send through socketioxide instead.
    NotDirect,
    /// The connection is closed, failed, or went past its budget (and is
    /// closed now): dropped.
    Dropped,
}

impl WireStream {
    fn new(stream: TcpStream, peer: SocketAddr, budget: Budget, opener: Option<&'static [u8]>) -> WireStream {
        let (read, write) = stream.into_split();
        let frames = opener.map_or_else(FrameTracker::not_websocket, FrameTracker::watching);
        let state = WriteState {
            write: Some(write),
            frames,
            queued: VecDeque::new(),
            front_written: 0,
            queued_bytes: 0,
            waiting_since: None,
            draining: false,
        };
        let wire = Wire { state: Mutex::new(state), boundary: Notify::new(), budget, peer, backlog: OnceLock::new() };
        WireStream { read, wire: Arc::new(wire), _held: None }
    }

    /// Keeps `guard` until the connection closes, upgraded or not.
    pub fn hold(&mut self, guard: impl Send + Sync + 'static) {
        self._held = Some(Box::new(guard));
    }
}

/// The error for a write after the stream was dropped.
fn gone() -> io::Error {
    io::Error::from(io::ErrorKind::NotConnected)
}

impl Wire {
    fn lock(&self) -> MutexGuard<'_, WriteState> {
        // Nothing panics while holding it; a poisoned lock still has a
        // consistent state, since every update is a plain assignment.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Nothing more is written here: frames of ours are dropped, the drain
    /// task (if any) stops waiting for a boundary that will not come, and
    /// the socket is shut down `how`: the peer gets a FIN, and with
    /// `Both` our own reader an end of stream, which ends the session.
    fn close(&self, how: Shutdown) -> io::Result<()> {
        let mut state = self.lock();
        state.fail();
        let shut = state.write.as_ref().map_or(Ok(()), |write| {
            let socket: &TcpStream = write.as_ref();
            socket2::SockRef::from(socket).shutdown(how)
        });
        drop(state);
        self.boundary.notify_one();
        shut
    }

    /// Counts what this connection writes as sent for `backlog` (a socket
    /// that upgraded to it).
    pub fn counts_for(&self, backlog: Arc<Backlog>) {
        let _ = self.backlog.set(backlog);
    }

    /// Closes a connection that went past its budget.
    pub(crate) fn overflow(&self, why: &str) {
        tracing::info!(peer = %self.peer, why, "closing a connection that does not read what it is sent");
        metrics::slow_consumer_closed();
        // Already shut down: nothing more to do.
        let _ = self.close(Shutdown::Both);
    }

    /// Writes `frame`, one or more complete WebSocket frames, to this connection,
    /// or queues it behind what is already waiting. Never blocks.
    pub fn send(self: &Arc<Self>, frame: &Arc<[u8]>) -> Sent {
        let mut guard = self.lock();
        let state = &mut *guard;
        if !state.frames.is_websocket() {
            return if state.frames.is_closed() { Sent::Dropped } else { Sent::NotDirect };
        }
        if state.queued.is_empty() && state.frames.open_to_ours() {
            let Some(write) = &state.write else {
                state.fail();
                return Sent::Dropped;
            };
            match write.try_write(frame) {
                Ok(written) if written == frame.len() => {
                    state.frames.feed(frame);
                    return Sent::Yes;
                }
                Ok(written) => {
                    state.frames.feed(&frame[..written]);
                    state.enqueue(frame);
                    state.front_written = written;
                }
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => state.enqueue(frame),
                Err(_) => {
                    state.fail();
                    return Sent::Dropped;
                }
            }
        } else if let Some(why) = state.over_budget(frame.len(), &self.budget) {
            drop(guard);
            self.overflow(&why);
            return Sent::Dropped;
        } else {
            state.enqueue(frame);
        }
        if !state.draining {
            state.draining = true;
            tokio::spawn(drain(Arc::clone(self)));
        }
        Sent::Yes
    }
}

impl WriteState {
    /// Whether our queued frames go before the caller's bytes: one of ours
    /// is half written, or they may go in now.
    fn ours_first(&self) -> bool {
        !self.queued.is_empty() && (self.front_written > 0 || self.frames.open_to_ours())
    }

    fn enqueue(&mut self, frame: &Arc<[u8]>) {
        if self.queued.is_empty() {
            self.waiting_since = Some(Instant::now());
        }
        self.queued.push_back(Arc::clone(frame));
        self.queued_bytes += frame.len();
    }

    /// Why one more frame of `len` bytes would take the queue past
    /// `budget`, if it would. A frame alone in the queue always fits, even
    /// one larger than the budget (a history page): it is one frame.
    fn over_budget(&self, len: usize, budget: &Budget) -> Option<String> {
        let waiting = self.queued_bytes - self.front_written;
        if self.queued.len() >= budget.frames {
            Some(format!("{} frames waiting", self.queued.len()))
        } else if waiting > 0 && waiting + len > budget.bytes {
            Some(format!("{waiting} bytes waiting, and {len} more"))
        } else if self.stalled(budget) {
            Some(format!("nothing drained for {:?}", budget.drain_within))
        } else {
            None
        }
    }

    /// Whether the queue has gone `budget.drain_within` without a byte of
    /// it written out.
    fn stalled(&self, budget: &Budget) -> bool {
        self.waiting_since.is_some_and(|since| since.elapsed() >= budget.drain_within)
    }

    /// Writes queued frames until none is left or the socket is full.
    fn write_queued(&mut self) -> io::Result<()> {
        let write = self.write.as_ref().ok_or_else(gone)?;
        while let Some(front) = self.queued.front() {
            let rest = &front[self.front_written..];
            let written = write.try_write(rest)?;
            self.frames.feed(&rest[..written]);
            if written > 0 {
                // Progress: a reader that keeps reading, however slowly,
                // is not stalled (the byte budget bounds how far behind).
                self.waiting_since = Some(Instant::now());
            }
            if written == rest.len() {
                self.queued_bytes -= front.len();
                self.queued.pop_front();
                self.front_written = 0;
            } else {
                self.front_written += written;
            }
        }
        self.waiting_since = None;
        Ok(())
    }

    /// Ready when the socket can take more (or is gone: an error).
    fn poll_write_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &self.write {
            Some(write) => AsRef::<TcpStream>::as_ref(write).poll_write_ready(cx),
            None => Poll::Ready(Err(gone())),
        }
    }

    fn fail(&mut self) {
        self.frames.close();
        self.queued.clear();
        self.front_written = 0;
        self.queued_bytes = 0;
        self.waiting_since = None;
    }
}

/// Writes a connection's queued frames as the socket drains, at
/// boundaries, then ends. One per connection at most (`draining`).
/// A connection whose queue has not drained within its budget's time is
/// closed.
async fn drain(wire: Arc<Wire>) {
    enum Wait {
        Writable,
        Boundary,
    }
    loop {
        let (wait, deadline) = {
            let mut state = wire.lock();
            let wait = if state.queued.is_empty() || !state.frames.is_websocket() {
                None
            } else if !state.ours_first() {
                // tungstenite is inside a frame; its next write ends it.
                Some(Wait::Boundary)
            } else {
                match state.write_queued() {
                    Ok(()) => None,
                    Err(error) if error.kind() == io::ErrorKind::WouldBlock => Some(Wait::Writable),
                    Err(_) => {
                        state.fail();
                        None
                    }
                }
            };
            let Some(wait) = wait else {
                state.draining = false;
                return;
            };
            let since = state.waiting_since.unwrap_or_else(Instant::now);
            (wait, since + wire.budget.drain_within)
        };
        let waited = tokio::time::timeout_at(deadline, async {
            match wait {
                Wait::Writable => {
                    let writable = std::future::poll_fn(|cx| wire.lock().poll_write_ready(cx));
                    tokio::select! {
                        ready = writable => if ready.is_err() {
                            wire.lock().fail();
                        },
                        () = wire.boundary.notified() => {}
                    }
                }
                Wait::Boundary => wire.boundary.notified().await,
            }
        })
        .await;
        // The deadline passed: closed only if the queue really made no
        // progress since (tungstenite's own writes may have drained it
        // meanwhile, with only its waker told).
        if waited.is_err() && wire.lock().stalled(&wire.budget) {
            wire.overflow(&format!("nothing drained for {:?}", wire.budget.drain_within));
        }
    }
}

impl AsyncRead for WireStream {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.read).poll_read(cx, buf)
    }
}

impl AsyncWrite for WireStream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let wire = &self.wire;
        let mut state = wire.lock();
        loop {
            if state.ours_first() {
                match state.write_queued() {
                    Ok(()) => {
                        // The drain task, if waiting, can end.
                        wire.boundary.notify_one();
                        continue;
                    }
                    Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                        ready!(state.poll_write_ready(cx))?;
                        continue;
                    }
                    Err(error) => {
                        state.fail();
                        return Poll::Ready(Err(error));
                    }
                }
            }
            // With frames of ours waiting, write only up to the end of the
            // current frame, so that they go in right after it.
            let limit =
                if state.queued.is_empty() { buf.len() } else { buf.len().min(state.frames.bytes_to_boundary()) };
            match state.write.as_ref().ok_or_else(gone).and_then(|write| write.try_write(&buf[..limit])) {
                Ok(written) => {
                    state.frames.feed(&buf[..written]);
                    if let Some(backlog) = wire.backlog.get() {
                        backlog.sent(written);
                    }
                    if state.ours_first() {
                        wire.boundary.notify_one();
                    }
                    return Poll::Ready(Ok(written));
                }
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                    ready!(state.poll_write_ready(cx))?;
                }
                Err(error) => {
                    state.fail();
                    return Poll::Ready(Err(error));
                }
            }
        }
    }

    /// hyper writes a response's head and body with one vectored write.
    /// On a plain HTTP connection, the common case, it goes out as is;
    /// otherwise the first slice goes through `poll_write`'s accounting.
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let state = self.wire.lock();
        if !state.frames.is_plain_http() {
            drop(state);
            let first = bufs.iter().find(|buf| !buf.is_empty()).map_or(&[][..], |buf| &buf[..]);
            return self.poll_write(cx, first);
        }
        loop {
            match state.write.as_ref().ok_or_else(gone).and_then(|write| write.try_write_vectored(bufs)) {
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => ready!(state.poll_write_ready(cx))?,
                result => return Poll::Ready(result),
            }
        }
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // A TCP socket has nothing to flush; queued frames of ours drain on
        // their own.
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.wire.close(Shutdown::Write))
    }
}

impl Drop for WireStream {
    fn drop(&mut self) {
        // A socket.io session may hold this `Wire` for long after (in its
        // handshake's `ConnectInfo`): the write half goes now, so the
        // socket closes with the read half, this stream's. (Already shut
        // down: an error, ignored.)
        let _ = self.wire.close(Shutdown::Write);
        self.wire.lock().write = None;
    }
}

#[cfg(test)]
mod tests;
