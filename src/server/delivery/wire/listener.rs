//! Accepting connections: each is wrapped in a [`WireStream`], with the
//! [`Budget`] it may queue and the frame after which it takes direct
//! writes.

use std::io;
use std::sync::Arc;

use tokio::net::{TcpListener, TcpStream};

use super::{Budget, Peer, WireStream};

/// Accepts connections, turns Nagle's algorithm off on each, and wraps it
/// in a [`WireStream`].
pub struct WireListener {
    inner: TcpListener,
    budget: Budget,
    /// The frame after which a WebSocket connection takes direct writes;
    /// `None`: never.
    opener: Option<&'static [u8]>,
}

impl WireListener {
    /// `opener`: what the payload of the last frame a connection must get
    /// through its own writer starts with, before direct writes may follow
    /// (RTCA's `session`: see `socket::DIRECT_WRITES_AFTER`).
    pub fn new(inner: TcpListener, budget: Budget, opener: Option<&'static [u8]>) -> WireListener {
        WireListener { inner, budget: Budget { frames: budget.frames.max(1), ..budget }, opener }
    }
}

impl WireListener {
    /// The next connection, wrapped, and what its requests will carry.
    pub async fn accept(&mut self) -> io::Result<(WireStream, Peer)> {
        let (stream, addr) = self.inner.accept().await?;
        // TCP_NODELAY: chat frames are small and latency-bound. With Nagle's
        // algorithm a frame written while the previous one is unacknowledged
        // waits for the peer's delayed ACK, up to 40 ms. It costs more sends
        // under heavy fan-out (finding 1); Node's HTTP server, the
        // prototype's, turns Nagle off too.
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%error, "cannot set TCP_NODELAY");
        }
        let stream = WireStream::new(stream, addr, self.budget, self.opener);
        let peer = Peer { addr, wire: Arc::clone(&stream.wire) };
        Ok((stream, peer))
    }

    /// A connection already waiting, if there is one, unwrapped: for
    /// closing at once.
    pub fn accept_waiting(&self) -> Option<TcpStream> {
        let accepted = futures::FutureExt::now_or_never(std::future::poll_fn(|cx| self.inner.poll_accept(cx)));
        accepted.and_then(Result::ok).map(|(stream, _)| stream)
    }
}
