//! The HTTP side, and where the server is put together: one axum router on
//! one port for the pages (`pages`), server functions, the WASM bundle,
//! static files, files people share (`media`) and the Socket.IO endpoint,
//! behind the `Origin` check (`origin`); and [`run`], which composes the
//! services and serves until a shutdown signal.

mod body;
mod handshake;
mod headers;
mod media;
mod operators;
mod origin;
mod pages;
mod refusals;
mod search;
mod serve;
mod site;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::middleware;
use axum::routing::get;
use axum::Router;
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::LeptosRoutes;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use self::body::BodyPace;
pub use self::serve::raise_descriptor_limit;
use self::serve::ServeSettings;

use super::chat::identity;
use super::config::Config;
use super::delivery::cluster;
use super::delivery::fanout::Fanout;
use super::delivery::presence_feed::PresenceFeed;
use super::delivery::room_feed::RoomFeed;
use super::delivery::typing_feed::TypingFeed;
use super::delivery::wire::{Budget, WireListener};
use super::delivery::Outbound;
use super::events;
use super::limits::Limits;
use super::media::blobs::LocalBlobs;
use super::media::{sweep, MediaService};
use super::metrics;
use super::push::Push;
use super::socket::{self, presence::Presence};
use super::state::AppState;
use super::store::{self, CommitSink};
use crate::app::{shell, CHAT_PATHS};

/// Pending connections the kernel holds for us before refusing more (it
/// caps this at `net.core.somaxconn`). tokio's `TcpListener::bind` asks for
/// 1 024: in a join storm the rest overflowed, and each overflow costs the
/// client a SYN retransmit, a second or more.
const ACCEPT_BACKLOG: u32 = 4096;

/// How often expired sessions, and guests nobody can be any more, are
/// forgotten.
const IDENTITY_SWEEP: std::time::Duration = std::time::Duration::from_secs(3600);

/// Binds `addr` with a backlog for crowds (see [`ACCEPT_BACKLOG`]).
pub fn listen(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() { tokio::net::TcpSocket::new_v4()? } else { tokio::net::TcpSocket::new_v6()? };
    // As std's and tokio's bind do: a restart may rebind at once.
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(ACCEPT_BACKLOG)
}

/// Serves RTCA on `listener` until `shutdown` resolves, then closes every
/// socket, waits for requests in flight, writes out what the store has
/// queued and closes it.
pub async fn run(
    listener: TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let addr = listener.local_addr()?;
    let direct_writes = config.direct_writes;
    // What a connection may have waiting to be written directly
    // (`delivery::wire`); past it, the connection is closed.
    let budget =
        Budget { frames: config.socket_buffer, bytes: config.outbound_bytes, drain_within: config.ping_timeout };
    // The store hands every commit to delivery, in commit order.
    let (fanout, fanout_queue) = Fanout::new();
    let commits: Arc<dyn CommitSink> = Arc::new(fanout);
    let store = store::open(&config.database_url, config.db_connections, Some(commits)).await?;
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
    let presence = Arc::new(Presence::default());
    let (push, push_task) = Push::start(&config, Arc::clone(&store), Arc::clone(&presence)).await?;
    let state = AppState {
        leptos_options,
        outbound: Outbound::new(direct_writes),
        backlogs: Arc::default(),
        limits: Arc::new(Limits::new(config.limits)),
        config: Arc::new(config),
        store,
        presence,
        presence_feed: PresenceFeed::default(),
        room_feed: RoomFeed::default(),
        typing: TypingFeed::default(),
        media,
        last_seen: Arc::default(),
        read_marks: Arc::default(),
        draining: Arc::default(),
        history_epoch: history_epoch.into(),
        push,
    };
    // One stop for both addresses; from then on the server is not ready.
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let draining = Arc::clone(&state.draining);
    tokio::spawn(async move {
        shutdown.await;
        draining.store(true, std::sync::atomic::Ordering::Relaxed);
        let _ = stop.send(true);
    });
    let stopped = move || {
        let mut stopping = stopping.clone();
        async move {
            let _ = stopping.wait_for(|stop| *stop).await;
        }
    };
    let (socket_layer, io) = socket::builder(&state.config).with_state(state.clone()).build_layer();
    events::serve(&io);
    state.outbound.attach(io);
    // With a Redis backplane, this node is one of several sharing the
    // database: committed messages cross nodes through it.
    let relay = match &state.config.redis_url {
        Some(_) if state.config.database_url.starts_with("sqlite:") => {
            anyhow::bail!("RTCA_REDIS_URL joins nodes that share one database: give them a postgres:// one, not SQLite")
        }
        Some(url) => {
            let relay = cluster::start(
                url,
                state.outbound.clone(),
                Arc::clone(&state.store),
                Arc::clone(&state.presence),
                cluster::Parts {
                    presence_feed: state.presence_feed.clone(),
                    typing: state.typing.clone(),
                    rooms: state.room_feed.clone(),
                    limits: Arc::clone(&state.limits),
                },
            )
            .await?;
            state.outbound.attach_relay(relay.clone());
            state.presence_feed.attach_relay(relay.clone());
            state.typing.attach_relay(relay.clone());
            state.room_feed.attach_relay(relay.clone());
            Some(relay)
        }
        None => None,
    };
    let delivery = tokio::spawn(Fanout::run(state.outbound.clone(), fanout_queue, relay));
    let (stop_presence, presence_stopped) = oneshot::channel();
    let presence_feed = tokio::spawn(state.presence_feed.clone().run(
        state.outbound.clone(),
        Arc::clone(&state.presence),
        presence_stopped,
    ));
    let room_feed = tokio::spawn(state.room_feed.clone().run(state.outbound.clone()));
    let typing_feed = tokio::spawn(state.typing.clone().run(state.outbound.clone()));
    let media_sweep =
        tokio::spawn(sweep::run(Arc::clone(&state.store), Arc::clone(&state.media.blobs), state.config.media_grace));
    let identity_sweep =
        tokio::spawn(identity::sweep_identities(Arc::clone(&state.store), Arc::clone(&state.presence), IDENTITY_SWEEP));
    let last_seen = tokio::spawn(Arc::clone(&state.last_seen).write_every(Arc::clone(&state.store)));
    let read_marks = tokio::spawn(Arc::clone(&state.read_marks).write_every(Arc::clone(&state.store)));

    let pace = BodyPace { idle: state.config.body_idle, min_bytes_per_second: state.config.body_min_rate };
    let serve_settings = ServeSettings {
        header_timeout: state.config.header_timeout,
        max_connections: state.config.max_http_connections,
        connections_per_address: state.config.http_connections_per_address,
    };
    let app = router(&state)
        .layer(socket_layer)
        .layer(middleware::from_fn_with_state(state.clone(), handshake::track_backlogs))
        .layer(middleware::from_fn(socket::head::own_request_head))
        .layer(middleware::from_fn(headers::security_headers))
        .layer(middleware::from_fn(refusals::sign_refusals))
        .layer(middleware::from_fn(refusals::fit_status))
        .layer(middleware::from_fn_with_state(pace, body::paced_body))
        .layer(middleware::from_fn_with_state(state.clone(), handshake::limit_handshakes))
        // Added last, so they run first: a foreign page never reaches the
        // socket, nor a rebound name any page.
        .layer(middleware::from_fn_with_state(state.clone(), origin::check_origin))
        .layer(middleware::from_fn_with_state(state.clone(), origin::check_host));

    tracing::info!("listening on http://{addr}");
    if site::carried() {
        tracing::info!("the site is carried in this binary");
    } else {
        tracing::info!(root = %state.config.site_root.display(), "the site is served from disk");
    }
    if let Some(metrics_addr) = state.config.metrics_addr {
        let handle = metrics::install().map_err(|error| anyhow::anyhow!("cannot keep metrics: {error}"))?;
        let listener = TcpListener::bind(metrics_addr)
            .await
            .map_err(|error| anyhow::anyhow!("cannot serve metrics on {metrics_addr}: {error}"))?;
        tracing::info!("metrics on http://{}/metrics", listener.local_addr()?);
        tokio::spawn(operators::serve_metrics(listener, state.clone(), handle, stopped()));
    }
    let outbound = state.outbound.clone();
    // Every connection goes through `wire`, which also gives live messages,
    // presence and acks a direct path to WebSocket clients (findings 25, 27).
    let listener = WireListener::new(listener, budget, direct_writes.then_some(socket::DIRECT_WRITES_AFTER));
    // The peer's address reaches handlers (and the socket handshake) for the
    // per-address limits; its connection reaches the delivery task. Open
    // sockets would keep the graceful shutdown waiting: they are closed
    // first.
    serve::serve(listener, app, serve_settings, stopped(), async move { outbound.close_all().await }).await;
    media_sweep.abort();
    // Pushes still queued go with the server: they are news only while fresh.
    if let Some(push_task) = push_task {
        push_task.abort();
    }
    identity_sweep.abort();
    last_seen.abort();
    read_marks.abort();
    // Who went with the last connections, and what was read last.
    state.last_seen.write(state.store.as_ref()).await;
    state.read_marks.write(state.store.as_ref()).await;
    // Rooms not yet announced are in every list that is asked for.
    room_feed.abort();
    typing_feed.abort();
    // What was stored in the last moments is committed and handed to
    // delivery; closing the store ends delivery, once it has delivered it.
    state.store.close().await;
    let _ = delivery.await;
    let _ = stop_presence.send(());
    let _ = presence_feed.await;
    Ok(())
}

/// Every route but the socket's: pages, health, files, server functions,
/// and the site's own files (the fallback).
fn router(state: &AppState) -> Router {
    let with_state = {
        let state = state.clone();
        move || provide_context(state.clone())
    };
    let render_shell = {
        let options = state.leptos_options.clone();
        move || shell(options.clone())
    };
    let mut app = Router::new()
        .merge(operators::routes())
        .merge(media::routes())
        .route("/search", get(search::page))
        .route("/api/search", get(search::api))
        .route("/mentions", get(search::mentions_page))
        .route("/api/mentions", get(search::mentions_api));
    for path in CHAT_PATHS {
        app = app.route(path, get(pages::chat_page));
    }
    app
        // With no routes of its own, this registers the server functions.
        .leptos_routes_with_context(state, Vec::new(), with_state, render_shell)
        .fallback(site::serve)
        .with_state(state.clone())
}

/// A refusal of the chat's rules over HTTP (files, search): the status
/// that fits and `{code, message}`; one that passes (too many at once, the
/// database out of reach: 429, 503) says when to try again.
fn refusal(error: crate::error::ChatError) -> axum::response::Response {
    use axum::response::IntoResponse;
    retry_later((status_of(&error), axum::Json(crate::error::ApiError::from(error))).into_response())
}

/// Says when to try again (`Retry-After`) on a refusal that passes: too
/// many at once (429) or the database out of reach (503). Any other
/// response is left as it is.
fn retry_later(mut response: axum::response::Response) -> axum::response::Response {
    use axum::http::StatusCode;
    if matches!(response.status(), StatusCode::SERVICE_UNAVAILABLE | StatusCode::TOO_MANY_REQUESTS) {
        response.headers_mut().insert(axum::http::header::RETRY_AFTER, axum::http::HeaderValue::from_static("5"));
    }
    response
}

/// The HTTP status for a refusal of the chat's rules (files, search).
fn status_of(error: &crate::error::ChatError) -> axum::http::StatusCode {
    status_for(error.code())
}

/// The HTTP status for a refusal's code, wherever it is made: the file and
/// search APIs, and the server functions (`refusals::fit_status`). Bad
/// input is a 400 unless a more exact status fits.
fn status_for(code: &str) -> axum::http::StatusCode {
    use crate::error::code;
    use axum::http::StatusCode;
    match code {
        "not_online" | "invalid_session" | "bad_credentials" => StatusCode::UNAUTHORIZED,
        "guests_disabled" | "not_your_message" | "not_a_member" => StatusCode::FORBIDDEN,
        "no_such_media" | "no_such_message" | "no_such_room" | "no_such_user" | code::NOT_FOUND => {
            StatusCode::NOT_FOUND
        }
        "name_taken" | "name_registered" | "room_exists" => StatusCode::CONFLICT,
        "file_too_large" => StatusCode::PAYLOAD_TOO_LARGE,
        "unsupported_file" => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unreadable_image" => StatusCode::UNPROCESSABLE_ENTITY,
        "too_many_uploads" | code::RATE_LIMITED => StatusCode::TOO_MANY_REQUESTS,
        "request_timeout" => StatusCode::REQUEST_TIMEOUT,
        code::INTERNAL => StatusCode::INTERNAL_SERVER_ERROR,
        code::UNAVAILABLE => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::BAD_REQUEST,
    }
}

/// `429 Too Many Requests`, with when to try again and why.
fn too_many_requests(why: impl std::fmt::Display) -> axum::response::Response {
    use axum::response::IntoResponse;
    retry_later((axum::http::StatusCode::TOO_MANY_REQUESTS, why.to_string()).into_response())
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
