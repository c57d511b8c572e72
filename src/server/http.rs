//! The HTTP side: one axum router on one port for the pages, server
//! functions, the WASM bundle, static files and the Socket.IO endpoint,
//! plus [`run`], which serves it until a shutdown signal.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{render_app_async_with_context, LeptosRoutes};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use super::config::Config;
use super::fanout::Fanout;
use super::identity::{internal, token_from_headers, user_for_token};
use super::limits::Limits;
use super::media::{self, blobs::LocalBlobs, MediaService};
use super::presence::Presence;
use super::presence_feed::PresenceFeed;
use super::realtime;
use super::state::AppState;
use super::store::sqlite::SqliteStore;
use super::store::{CommitObserver, Store};
use super::wire::{Peer, WireListener};
use crate::app::{shell, Page, CHAT_PATHS};
use crate::components::chat_page::{load_snapshot, PageSnapshot};
use crate::error::ApiError;

/// Pending connections the kernel holds for us before refusing more (it
/// caps this at `net.core.somaxconn`). tokio's `TcpListener::bind` asks for
/// 1 024: in a join storm the rest overflowed, and each overflow costs the
/// client a SYN retransmit, a second or more.
const ACCEPT_BACKLOG: u32 = 4096;

/// Binds `addr` with a backlog for crowds (see [`ACCEPT_BACKLOG`]).
pub fn listen(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() { tokio::net::TcpSocket::new_v4()? } else { tokio::net::TcpSocket::new_v6()? };
    // As std's and tokio's bind do: a restart may rebind at once.
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(ACCEPT_BACKLOG)
}

/// Serves RTCA on `listener` until `shutdown` resolves, then closes every
/// socket and waits for requests in flight.
pub async fn run(
    listener: TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let addr = listener.local_addr()?;
    let (socket_buffer, direct_writes) = (config.socket_buffer, config.direct_writes);
    let (fanout, fanout_queue) = Fanout::new();
    // The store tells delivery where each commit starts (see `fanout`).
    let commits: Arc<dyn CommitObserver> = Arc::new(fanout.clone());
    let store = SqliteStore::open(&config.database_url, config.db_connections, Some(commits)).await?;
    let history_epoch = store.history_epoch().await?;
    let leptos_options = LeptosOptions::builder()
        .output_name(option_env!("LEPTOS_OUTPUT_NAME").unwrap_or("rtca"))
        .site_root(config.site_root.to_string_lossy().into_owned())
        .site_pkg_dir("pkg")
        .site_addr(addr)
        .build();
    let blobs = LocalBlobs::open(&config.media_dir)
        .await
        .map_err(|error| anyhow::anyhow!("cannot use the media directory {}: {error}", config.media_dir.display()))?;
    let media = Arc::new(MediaService::new(Arc::new(blobs), &config));
    let state = AppState {
        leptos_options,
        fanout,
        sockets: Arc::default(),
        limits: Arc::new(Limits::new(config.limits)),
        config: Arc::new(config),
        store: Arc::new(store),
        presence: Arc::new(Presence::default()),
        presence_feed: PresenceFeed::default(),
        media,
        history_epoch: history_epoch.into(),
    };
    let (socket_layer, io) = realtime::layer(state.clone());
    let _ = state.sockets.set(io.clone());
    let (stop_delivery, delivery_stopped) = oneshot::channel();
    let delivery = tokio::spawn(Fanout::run(io.clone(), fanout_queue, direct_writes, delivery_stopped));
    let (stop_presence, presence_stopped) = oneshot::channel();
    let presence_feed = tokio::spawn(state.presence_feed.clone().run(
        io.clone(),
        Arc::clone(&state.presence),
        direct_writes,
        presence_stopped,
    ));
    let media_sweep = tokio::spawn(media::sweep::run(state.clone()));

    let with_state = {
        let state = state.clone();
        move || provide_context(state.clone())
    };
    let render_shell = {
        let options = state.leptos_options.clone();
        move || shell(options.clone())
    };
    let mut app = Router::new().route("/health", get(health)).merge(media::routes());
    for path in CHAT_PATHS {
        app = app.route(path, get(chat_page));
    }
    let app = app
        // With no routes of its own, this registers the server functions.
        .leptos_routes_with_context(&state, Vec::new(), with_state, render_shell)
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .with_state(state.clone())
        .layer(socket_layer)
        .layer(middleware::from_fn(realtime::own_request_head))
        // Added last, so it runs first: a foreign page never reaches the socket.
        .layer(middleware::from_fn_with_state(state.clone(), check_origin));

    tracing::info!("listening on http://{addr}");
    let io_for_shutdown = io.clone();
    // Every connection goes through `wire`, which also gives live messages,
    // presence and acks a direct path to WebSocket clients (findings 25, 27).
    let listener = WireListener::new(listener, socket_buffer, direct_writes.then_some(realtime::DIRECT_WRITES_AFTER));
    // The peer's address reaches handlers (and the socket handshake) for the
    // per-address limits; its connection reaches the delivery task.
    axum::serve(listener, app.into_make_service_with_connect_info::<Peer>())
        .with_graceful_shutdown(async move {
            shutdown.await;
            tracing::info!("shutting down: closing sockets");
            // Open sockets would otherwise keep the graceful shutdown waiting.
            io_for_shutdown.close().await;
        })
        .await?;
    media_sweep.abort();
    let _ = stop_delivery.send(());
    let _ = delivery.await;
    let _ = stop_presence.send(());
    let _ = presence_feed.await;
    Ok(())
}

/// A chat page. Its data is loaded before the first byte, so history and
/// who is online are in the first HTML, and the page reads fine before, or
/// without, the WASM. The page carries the same data for hydration
/// (components::chat_page).
async fn chat_page(State(state): State<AppState>, request: Request) -> Response {
    let snapshot = match Page::from_path(request.uri().path()) {
        Page::Chat { room, with } => {
            let me = match token_from_headers(request.headers()) {
                Some(token) => user_for_token(&state, &token).await.map_err(|e| ApiError::from(internal(e))),
                None => Ok(None),
            };
            match me {
                Ok(me) => load_snapshot(&state, me, room, with).await,
                Err(error) => Err(error),
            }
        }
        // Not routed here (only CHAT_PATHS are), and the app renders its
        // not-found page without a snapshot.
        Page::NotFound => Err(ApiError::new("not_found", "There is nothing at this address.")),
    };
    let page = PageSnapshot(Arc::new(snapshot));
    let options = state.leptos_options.clone();
    let render = render_app_async_with_context(
        move || {
            provide_context(state.clone());
            provide_context(page.clone());
        },
        move || shell(options.clone()),
    );
    render(request).await
}

async fn health() -> &'static str {
    "ok"
}

/// Refuses requests another site's page makes on a user's behalf: every
/// Socket.IO request (cross-site WebSocket hijacking) and every state-changing
/// request such as a server-function POST (cross-site request forgery).
/// The `Origin`, when present, must be this server's own or on the
/// allow-list; clients outside a browser send none and are let through.
async fn check_origin(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let guarded = request.uri().path().starts_with(realtime::SOCKET_PATH)
        || !matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if guarded {
        if let Some(origin) = request.headers().get(header::ORIGIN) {
            let host = request.headers().get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or_default();
            let origin = origin.to_str().unwrap_or_default();
            let own = origin.strip_prefix("http://").or_else(|| origin.strip_prefix("https://")) == Some(host);
            if !own && !state.config.allowed_origins.iter().any(|allowed| allowed == origin) {
                tracing::warn!(%origin, path = %request.uri().path(), "refused a cross-origin request");
                return (StatusCode::FORBIDDEN, "cross-origin requests are not allowed").into_response();
            }
        }
    }
    next.run(request).await
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
