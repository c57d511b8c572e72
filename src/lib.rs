//! RTCA: a self-hosted real-time chat. One crate builds both halves of a
//! full-stack Leptos app: the server (feature `ssr`) and the WASM bundle that
//! hydrates its pages (feature `hydrate`).
//!
//! # Layout
//!
//! Shared by server and browser:
//! - [`protocol`]: the real-time contract — event names, payload types,
//!   limits, validation; `protocol::media` for files (the upload path, a
//!   message's `Media`); `protocol::name_order` for the order people are
//!   listed in, the same on both sides; `protocol::reply` for acks.
//!   `docs/protocol.md` is its prose twin.
//! - [`error`]: every error with its stable code; `{code, message}` on the
//!   wire. `InvalidInput`, the part the browser checks itself, is its own type.
//! - [`engine_io`]: Engine.IO v4 / Socket.IO v5 text framing (pure functions),
//!   used by the browser client, the tests and the tools.
//! - [`chat_state`]: the chat as reactive signals, and the one function that
//!   applies a server event to them; `outbox`, `presence`, `private`
//!   (conversations) and `rooms` hold the methods for each part.
//! - [`app`]: the HTML shell, and which address shows what (`/`, `/r/…`,
//!   `/dm/…`; no client-side router: the page never navigates).
//! - `components/`: one file per piece of UI (`chat_page`, `rooms`, `people`,
//!   `conversation`, `composer`, `join_form`, `account`,
//!   `connection_status`), each with the server functions it calls.
//!   `chat_page` also loads the page's snapshot, which the page carries as
//!   JSON for hydration.
//!
//! Browser only (`client/`, feature `hydrate`):
//! - `client::socket`: the Socket.IO client — handshake, ping/pong, acks,
//!   reconnect with backoff, and the choice of transport.
//! - `client::transport`: how frames travel: gloo-net's WebSocket, or
//!   long-polling when a WebSocket is blocked, upgraded in place later.
//! - `client::session`: starts the connection after hydration and connects
//!   it to the signals; sends the outbox (same `cid` on every resend),
//!   resumes each conversation by `seq` on every (re)connect, and fills the
//!   gap when a live message skips a `seq` or a presence batch skips a
//!   `version` (a packet the server dropped).
//!
//! Server only (`server/`, feature `ssr`):
//! - `server::config`: the `Config` struct, `RTCA_*` variables and flags.
//! - `server::http`: the axum router (pages, server functions, static files,
//!   Socket.IO), the page handler (snapshot first, then the render), the
//!   `Origin` check against cross-site sockets and posts,
//!   `run(listener, config, shutdown)`.
//! - `server::wire`: every TCP connection under hyper and tungstenite, and
//!   the direct write path: one framed buffer, written to each WebSocket
//!   between the stream's own frames (`wire::frames` follows them).
//! - `server::direct`: what RTCA sends to sockets itself (live messages,
//!   presence, acks): encoded and framed once, then through `wire` to every
//!   WebSocket, or socketioxide for long-polling.
//! - `server::realtime`: Socket.IO set-up and limits, the connect middleware
//!   that identifies a socket, the event registration table, disconnects.
//! - `server::handlers`: one function per client event (`online`, `message`,
//!   `secret`, `history`, `conversations`, `presence`, unknown events) and the
//!   `Responder` that acks them; room events live in `server::rooms`.
//! - `server::identity`: guest sign-up, session tokens (stored hashed), cookies.
//! - `server::accounts`: registered accounts — argon2id passwords hashed off
//!   the runtime, sign-in, sign-out.
//! - `server::names`: when two names are one name (NFKC + lowercase).
//! - `server::limits`: token-bucket rate limits per connection, user and
//!   address; caps on open connections per user and per address.
//! - `server::rooms`: public and private rooms — who may see, read, post and
//!   join where, and the events that create, list, join, leave and invite.
//! - `server::fanout`: live delivery of committed messages, one task, in
//!   `seq` order per conversation; the one place fan-out happens.
//! - `server::presence`: who is online, counted per user across tabs.
//! - `server::presence_feed`: presence changes and lists on their way out,
//!   coalesced into flushes (batched, numbered `presence_changes` for
//!   clients that ask).
//! - `server::seat`: which user one socket speaks for, and its presence
//!   accounting, race-free against a disconnect mid-handler.
//! - `server::media`: shared files. `upload` (streamed `POST /api/uploads`),
//!   `sniff` (the type from the bytes), `thumbnail` (previews, off the
//!   runtime), `blobs` (content-addressed storage behind `BlobStore`),
//!   `serve` (`GET /media/{id}`: access, Range, safe headers), `sweep`
//!   (unsent uploads go after a grace period).
//! - `server::store`: the `Store` trait; `server::store::sqlite` implements it,
//!   with `sqlite::group_commit`: one writer thread storing messages and guest
//!   sign-ups many to a commit, and telling `fanout` where each commit starts;
//!   `sqlite::rows` reads message rows back.
//! - `server::state`: `AppState`, shared by HTTP and socket handlers.
//!
//! A message flows one way: socket → `handlers` (limits, validation) →
//! `store` (group commit) → ack → `fanout` → broadcast to the room, encoded
//! and framed once, written to each WebSocket by `wire`.
//! A file goes up over HTTP first (`media::upload`); the message then names
//! it, and the commit links the two.
//!
//! Outside `src/`: `tests/` (integration, against the real server),
//! `end2end/` (Playwright), `fuzz/` (the codec's fuzz target), `bench/` (the
//! load generator and the plain-socketioxide floor, its own crate, and the
//! Node + socket.io reference peer; see docs/performance.md), `migrations/`
//! (SQLite schema).

// The Makefile builds with `--cfg erase_components`; a build without it keeps
// every view's full static type, and the chat page nests deeper than the
// default limit of 128.
#![recursion_limit = "256"]

pub mod app;
pub mod chat_state;
pub mod components;
pub mod engine_io;
pub mod error;
pub mod protocol;

#[cfg(feature = "hydrate")]
pub mod client;

#[cfg(feature = "ssr")]
pub mod server;

/// Entry point of the WASM bundle: hydrates the server-rendered page.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}
