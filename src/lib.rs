//! RTCA: a self-hosted real-time chat. One crate builds both halves of a
//! full-stack Leptos app: the server (feature `ssr`) and the WASM bundle that
//! hydrates its pages (feature `hydrate`).
//!
//! # Layout
//!
//! Shared by server and browser:
//! - [`protocol`]: the real-time contract — event names, payload types,
//!   limits, validation; `protocol::conversation` for the one conversation
//!   model (a room or a pair, and one `Message` for both, whose wire shapes
//!   are `message` and `secret`); `protocol::media` for files (the upload
//!   path, a message's `Media`); `protocol::name_order` for the order
//!   people are listed in, the same on both sides; `protocol::reply` for
//!   acks; `protocol::snapshot` for what a page starts from;
//!   `protocol::rooms` for room listings; `protocol::changes` for what
//!   happens to a message after it is sent (edits, deletion, reactions,
//!   reply quotes, thread summaries, each numbered by a change counter);
//!   `protocol::typing` and `protocol::reading` for who is typing and how
//!   far each person has read; `protocol::mentions` for whom a message
//!   calls (`@name`, `@here`, `@room`); `protocol::notify` for what
//!   notifies whom (a level per conversation, and the one rule both sides
//!   apply); `protocol::push` for a device's Web Push subscription and
//!   what a push carries; `protocol::search` for a search's
//!   query (words and filters) and its hits; `protocol::address` for the
//!   chat's addresses (`/`, `/r/…`, `/dm/…`), read by the server's pages
//!   and the browser's Back and Forward alike.
//!   `docs/protocol.md` is its prose twin.
//! - [`error`]: every error with its stable code; `{code, message}` on the
//!   wire. `InvalidInput`, the part the browser checks itself, is its own type.
//! - [`engine_io`]: Engine.IO v4 / Socket.IO v5 text framing (pure functions),
//!   used by the browser client, the tests and the tools.
//! - [`chat_state`]: the chat as reactive signals, and the one function that
//!   applies a server event to them; `conversations` keeps every
//!   conversation's messages, rooms and private ones alike, with unread
//!   counts and the gaps a live message reveals; `changes` replaces a
//!   message by its new state and notices a skipped change number;
//!   `mentions` says whom a draft calls and whom the composer's `@` menu
//!   offers; `notify` keeps the levels I chose and decides whether a
//!   message notifies me; `reading` keeps how far I have read (unread counts, the "New
//!   messages" line, "Seen"); `drafts` keeps what I typed in each
//!   conversation and did not send; `outbox` (with replies and thread replies),
//!   `presence` (with the people who share a name), `rooms` and `uploads`
//!   hold the methods for the other parts; `calendar` shows times and days
//!   on the reader's clock.
//! - [`actions`]: what the interface asks of the browser (open, send,
//!   upload, record, rooms, go online) behind one trait: the browser's
//!   implementation hands each to `client/`, the server's does nothing. No
//!   component knows which side it runs on.
//! - [`rich_text`]: a message's Markdown lite (bold, italic, strikethrough,
//!   code, quotes, lists, links, `:shortcodes:`) as escaped markup, one pure
//!   function for the server's render and the browser's alike.
//! - [`preferences`]: the reader's theme (light, dark, the system's), kept in
//!   a cookie the server renders the first paint from.
//! - [`i18n`]: the interface's languages (English, Simplified Chinese): the
//!   words of `locales/*.json`, compiled into checked constants by
//!   `build.rs`, and which one a page is in (cookie, else
//!   `Accept-Language`; `<html lang>` in the browser).
//! - [`app`]: the HTML shell, and which address shows what (no client-side
//!   router: the page never navigates).
//! - `components/`: one file per piece of UI (`chat_page`, `rooms`, `people`,
//!   `conversation`, `composer`, `join_form`, `account`, `attachments`,
//!   `media`, `image_viewer`, `room_members`, `connection_status`,
//!   `message` (one message: its place, quote, tombstone, thread),
//!   `mention_menu` (the composer's `@` menu: people to mention),
//!   `notify_switch` (what a conversation notifies me of, a plain form,
//!   and the button asking for desktop notifications),
//!   `message_actions` (reactions and a message's menu, as escaped markup
//!   with plain forms), `thread` (a thread beside the conversation),
//!   `theme_switch` (light, dark or the system's), `language_switch`
//!   (English or 简体中文, a plain form), `announcer` (new
//!   messages read out to screen readers, a burst summed up)),
//!   each with the server functions it calls; `forms` reads the refusal a
//!   plain form post comes back with; `icons` holds the inline SVG icons.
//!   `chat_page` carries the page's snapshot as JSON for hydration.
//!
//! Browser only (`client/`, feature `hydrate`):
//! - `client::socket`: the Socket.IO client — handshake, ping/pong, acks,
//!   reconnect with backoff, and the choice of transport.
//! - `client::transport`: how frames travel: gloo-net's WebSocket, or
//!   long-polling when a WebSocket is blocked, upgraded in place later.
//! - `client::session`: starts the connection after hydration and connects
//!   it to the signals; sends the outbox (same `cid` on every resend),
//!   typing and read state, and what the interface asks.
//! - `client::changes`: edits, deletions and reactions; those made while
//!   not connected wait, in order, for the next reconnect.
//! - `client::resume`: on every (re)connect, each conversation by `seq`,
//!   the changes to what I hold by change number, and where I am; and the
//!   gap a live message, change or presence batch reveals when it skips a
//!   number (a packet the server dropped).
//! - `client::upload`, `client::voice`: files with progress, and voice
//!   messages from the microphone.
//! - `client::address`: the address bar; each switch of conversation is a
//!   history entry, and Back and Forward switch back in the page.
//! - `client::attention`: the tab's title counts what waits for me
//!   (private messages, mentions), and its icon shows a dot.
//! - `client::notifications`: desktop notifications while the tab is
//!   hidden; a click opens the message. `client::push`: this device's Web
//!   Push subscription, handed to the server (the service worker,
//!   `public/sw.js`, shows what is pushed).
//! - `client::keyboard`: focus and keys — the skip link, where focus goes
//!   when the view that held it is replaced, the arrow keys in the
//!   sidebar's lists, Tab kept inside the image viewer and, on a phone,
//!   the drawer or a thread; where a finger is, for the drawer's swipes.
//! - `client::drafts`: the drafts kept in the tab's session storage, so a
//!   reload or a language switch loses none.
//!
//! Server only (`server/`, feature `ssr`), one folder per stage of a
//! message's way through, each depending only on those after it (the order
//! `server/mod.rs` gives, checked by `tests/it/consistency.rs`):
//! - `server::http`: where the server is put together — `run(listener,
//!   config, shutdown)`, the axum router, the chat pages (`http::pages`),
//!   file routes and who may read which file (`http::media`), the `Origin`
//!   check against cross-site sockets and posts (`http::origin`), the
//!   accept loop with its timeouts and connection caps (`http::serve`),
//!   request bodies on the clock (`http::body`), new Engine.IO sessions
//!   per address (`http::handshake`), the pages' security headers
//!   (`http::headers`), refused forms signed and checked
//!   (`http::refusals`), search over HTTP and its page without
//!   JavaScript (`http::search`), health, readiness and the metrics
//!   address (`http::operators`), the site's own files, carried inside a
//!   release binary (`http::site`, from build.rs).
//! - `server::events`: one handler per client event, thin, grouped as
//!   `chat` (`message`, `secret`, `history`, `conversations`), `changes`
//!   (`edit`, `delete`, `react`, `changes`), `presence` (`online`,
//!   `presence`), `reading` (`read`, `reads`, `notify`), `push`
//!   (`push_subscribe`, `push_unsubscribe`), `search`, `typing` and
//!   `rooms`; `connect` identifies a socket at
//!   CONNECT; `context` holds the `Responder` that acks and the socket's
//!   seat and limits; `mod.rs` is the registration table.
//! - `server::chat`: the rules, however a request arrives — `post` (one
//!   path for rooms and private conversations, replies and thread replies
//!   included), `changes` (edit, delete, react), `typing`, `reading`
//!   (read state, unread counts, "Seen"), `history` (pages capped in
//!   bytes, read from a budget per address; threads; changes since a
//!   change number), `access` (who
//!   may see, read and post where), `rooms`, `identity` (guests, sessions,
//!   cookies, renames, the hourly sweep of expired sessions and abandoned
//!   guests), `accounts` (argon2id passwords, off the runtime),
//!   `snapshot` (what a page starts from), `search` (what one may find,
//!   and each hit's snippet), `mentions` (whom a message calls), `notify`
//!   (each person's level per conversation).
//! - `server::push`: Web Push to devices with no tab open — the VAPID key
//!   kept in the database, who a stored message notifies and is away, the
//!   encrypted push to each of their devices from a bounded queue, and
//!   `endpoint` (which endpoints may be sent to: no SSRF).
//! - `server::delivery`: the one way out — `Outbound` (to a conversation, a
//!   user, a session, everyone), `ack` and `to_socket` (one socket);
//!   `fanout` delivers what the store committed, in commit order, each
//!   acked to its sender first; `presence_feed` coalesces presence into
//!   flushes, `room_feed` announcements of new public rooms, and
//!   `typing_feed` who is typing where, a flush a second at most; `direct`
//!   and `wire` encode and frame once and write straight to every
//!   WebSocket, closing a connection past its budget of unsent bytes;
//!   `backlog` is that budget for sessions socketioxide carries
//!   (long-polling, or upgraded from it); `cluster` joins nodes through
//!   Redis (`relay` publishes this node's commits and delivers the
//!   others', `channels` names what travels where and keeps the
//!   subscriptions matching this node's sockets, `order` keeps each
//!   conversation in `seq` order across nodes and says which gaps to fill
//!   from the store, `heal` fills them).
//! - `server::socket`: the socketioxide layer's pieces — the transport's
//!   limits, `keys` (every Socket.IO room name, and the rule that keeps
//!   chat rooms apart from them), `seat` (which user a socket speaks for,
//!   race-free against a disconnect), `presence` (who is online, per user
//!   across tabs), `last_seen` (when each user went, written in batches),
//!   `head` (request heads copied out of read buffers).
//! - `server::store`: one trait per aggregate (`IdentityStore`,
//!   `MessageStore`, `RoomStore`, `MediaStore`, `PushStore`; `Store` is all five) with
//!   the contract in its docs, `store::open` picking the backend by URL,
//!   `store::error` (failures in no backend's terms, keeping the cause);
//!   `store::writer` (group commit for every backend: one writer thread,
//!   many messages, changes and sign-ups to a commit, each batch handed to
//!   delivery in commit order), `store::columns` (rows decoded alike by
//!   every backend), `store::search_terms` (what search indexes: Chinese
//!   as overlapping pairs). Two backends implement it, one file per
//!   aggregate: `store::sqlite` (embedded, the default; `group_commit`
//!   writes a batch with rusqlite, `search` keeps an FTS5 index) and
//!   `store::postgres` (several nodes share it; `writer` writes a batch,
//!   counter rows number `seq` and changes, `search` uses a tsvector).
//!   Each has `changes` (edits, deletions, reactions and thread
//!   summaries, written by that same writer so they keep commit order
//!   with messages) and `reading`; `store::read_marks` holds how far
//!   people read in memory, written in batches every 2 s and read over
//!   the store's answers.
//! - `server::media`: shared files — `upload` (streamed), `sniff` (the type
//!   from the bytes), `thumbnail` (previews, off the runtime), `blobs`
//!   (content-addressed storage), `serve` (Range, safe headers), `sweep`.
//! - At the root: `state` (`AppState`, composed by `http::run`), `config`
//!   (every setting, in the table `config::settings`), `limits` (rate
//!   limits, read budgets and connection caps), `clock`,
//!   `names` (when two names are one: up to case, or look-alikes by their
//!   Unicode TS #39 skeleton), `failure` (a failure logged with
//!   its causes, answered `internal`), `metrics` (what Prometheus reads:
//!   names, buckets, the recorder).
//!
//! A message flows one way: browser composer → `client::session`'s outbox →
//! socket → `events::chat` → `chat::post` → `store` (group commit) →
//! `delivery::fanout` (the sender's ack, then the message) → `Outbound` →
//! `wire` → every member's browser → `chat_state` → the view.
//! A file goes up over HTTP first (`http::media`, `media::upload`); the
//! message then names it, and the commit links the two.
//!
//! Outside `src/`: `tests/` (integration, against the real server),
//! `end2end/` (Playwright), `fuzz/` (the codec's fuzz target), `docs/`
//! (the protocol, security, performance, deployment), `bench/` (the
//! load generator and the plain-socketioxide floor, its own crate, and the
//! Node + socket.io reference peer; see docs/performance.md), `migrations/`
//! (SQLite schema).

// The Makefile builds with `--cfg erase_components`; a build without it keeps
// every view's full static type, and the chat page nests deeper than the
// default limit of 128.
#![recursion_limit = "256"]

pub mod actions;
pub mod app;
pub mod chat_state;
pub mod components;
pub mod engine_io;
pub mod error;
pub mod i18n;
pub mod preferences;
pub mod protocol;
pub mod rich_text;

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
