//! The accept loop: every TCP connection, from `accept` until it closes.
//!
//! Why not `axum::serve`: it gives hyper no timer, so a connection that
//! never finishes its request head, or idles between requests, stays open
//! forever (each with up to ~400 KB of buffer); it has no cap on
//! connections; and it sleeps a whole second after each failed `accept`,
//! so once descriptors run out nobody connects for a while. Here:
//!
//! - hyper's HTTP/1 server gets a timer: a request head must arrive within
//!   `RTCA_HEADER_TIMEOUT_MS`, and so must the next one on a kept-alive
//!   connection (hyper starts that clock as soon as it waits for a head);
//! - connections are capped in all and per address; one past a cap is
//!   closed at once;
//! - out of descriptors, the loop gives back a spare one to accept and
//!   close the waiting connection (its client hears "closed" at once, not
//!   nothing), and recovers by itself as descriptors come back.
//!
//! Each request carries `ConnectInfo<Peer>` (the address and the
//! connection's `Wire`), as `into_make_service_with_connect_info` did.

use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::sync::watch;
use tower::ServiceExt;

use crate::server::delivery::wire::{Peer, WireListener, WireStream};
use crate::server::limits::{client, release};

/// The accept loop's limits.
#[derive(Debug, Clone, Copy)]
pub struct ServeSettings {
    /// How long a request head may take to arrive, the wait for the next
    /// one on a kept-alive connection included.
    pub header_timeout: Duration,
    /// Open connections in all, and per address.
    pub max_connections: usize,
    pub connections_per_address: usize,
}

/// After a failed `accept` that is not about descriptors, wait this long.
const ACCEPT_RETRY: Duration = Duration::from_millis(50);
/// How long a shutdown waits for connections to finish what they are
/// sending (a download to a client that stopped reading would hold it
/// for ever: hyper has no write timeout).
const FINISH_WITHIN: Duration = Duration::from_secs(10);

/// Serves `app` on `listener` until `shutdown` resolves; `closing` runs
/// then (it closes the sockets, which would keep their connections
/// open), and the loop waits for every connection to finish.
pub async fn serve(
    mut listener: WireListener,
    app: Router,
    settings: ServeSettings,
    shutdown: impl Future<Output = ()>,
    closing: impl Future<Output = ()>,
) {
    let open = Arc::new(Mutex::new(Open::default()));
    // Dropping `stop` tells every connection to finish; each holds a
    // `live` receiver, and the loop waits until none is left.
    let (stop, stopping) = watch::channel(());
    let (live_tx, live) = watch::channel(());
    let mut spare = Spare::open();
    let mut shutdown = pin!(shutdown);
    loop {
        let (mut stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    spare.on_accept_error(&listener, &error).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Some(slot) = Slot::take(&open, peer.addr.ip(), &settings) else {
            tracing::debug!(peer = %peer.addr, "connection refused: too many open");
            continue;
        };
        // Counted until the connection closes, upgraded or not.
        stream.hold(slot);
        let app = app.clone();
        let (mut stopping, live) = (stopping.clone(), live.clone());
        tokio::spawn(async move {
            serve_connection(stream, peer, app, settings.header_timeout, &mut stopping).await;
            drop(live);
        });
    }
    drop(listener);
    tracing::info!("shutting down: closing sockets");
    closing.await;
    drop((stop, stopping, live));
    if tokio::time::timeout(FINISH_WITHIN, live_tx.closed()).await.is_err() {
        tracing::warn!("shutting down: {} connection(s) still busy, left behind", live_tx.receiver_count());
    }
}

async fn serve_connection(
    stream: WireStream,
    peer: Peer,
    app: Router,
    header_timeout: Duration,
    stopped: &mut watch::Receiver<()>,
) {
    let info = ConnectInfo(peer);
    let service = app.map_request(move |request: hyper::Request<Incoming>| {
        let mut request = request.map(Body::new);
        request.extensions_mut().insert(info.clone());
        request
    });
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(header_timeout);
    let connection = http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service)).with_upgrades();
    let mut connection = pin!(connection);
    let mut stopping = false;
    loop {
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(error) = result {
                    tracing::trace!(%error, "connection ended with an error");
                }
                return;
            }
            changed = stopped.changed(), if !stopping => {
                // The sender went: finish the request in hand, then close.
                if changed.is_err() {
                    stopping = true;
                    connection.as_mut().graceful_shutdown();
                }
            }
        }
    }
}

/// Open connections, in all and by address.
#[derive(Debug, Default)]
struct Open {
    total: usize,
    by_address: HashMap<IpAddr, usize>,
}

/// One connection's place in [`Open`], given back when dropped.
struct Slot {
    open: Arc<Mutex<Open>>,
    address: IpAddr,
}

impl Slot {
    fn take(open: &Arc<Mutex<Open>>, address: IpAddr, settings: &ServeSettings) -> Option<Slot> {
        let address = client(address);
        let mut counts = open.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let here = counts.by_address.get(&address).copied().unwrap_or(0);
        if counts.total >= settings.max_connections || here >= settings.connections_per_address {
            return None;
        }
        counts.total += 1;
        *counts.by_address.entry(address).or_default() += 1;
        Some(Slot { open: Arc::clone(open), address })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut counts = self.open.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        counts.total = counts.total.saturating_sub(1);
        release(&mut counts.by_address, &self.address);
    }
}

/// A descriptor kept in reserve for when the process runs out: given back,
/// it lets the loop accept the connection waiting at the head of the
/// backlog and close it at once, instead of leaving it (and everyone
/// behind it) hanging.
struct Spare(Option<std::fs::File>);

impl Spare {
    fn open() -> Spare {
        Spare(std::fs::File::open("/dev/null").ok())
    }

    async fn on_accept_error(&mut self, listener: &WireListener, error: &std::io::Error) {
        let out_of_descriptors = matches!(error.raw_os_error(), Some(code) if code == EMFILE || code == ENFILE);
        if !out_of_descriptors {
            tracing::debug!(%error, "accept failed");
            tokio::time::sleep(ACCEPT_RETRY).await;
            return;
        }
        tracing::warn!(%error, "out of file descriptors: refusing new connections until some close");
        if self.0.take().is_some() {
            drop(listener.accept_waiting());
            *self = Spare::open();
        }
        // Give connections that are closing a moment to free theirs.
        tokio::time::sleep(ACCEPT_RETRY).await;
    }
}

/// "Too many open files", for the process and for the system.
const EMFILE: i32 = 24;
const ENFILE: i32 = 23;

/// Raises the soft limit on open descriptors to the hard one, and logs
/// both: each connection needs one, and the default soft limit (often
/// 1 024) is reached long before memory is.
pub fn raise_descriptor_limit() {
    match rlimit::getrlimit(rlimit::Resource::NOFILE) {
        Ok((soft, hard)) => match rlimit::setrlimit(rlimit::Resource::NOFILE, hard, hard) {
            Ok(()) => tracing::info!(was = soft, now = hard, hard, "open file descriptors: soft limit raised"),
            Err(error) => tracing::warn!(soft, hard, %error, "open file descriptors: cannot raise the soft limit"),
        },
        Err(error) => tracing::warn!(%error, "open file descriptors: cannot read the limits"),
    }
}
