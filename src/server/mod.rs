//! Server-only code (feature `ssr`). The folders follow a message's way
//! through the server:
//!
//! ```text
//! http      the router, pages, run(listener, config, shutdown)
//! events    one file per group of client events: thin handlers
//! chat      the rules: posting, who may read what, rooms, identity
//! delivery  the one way out: fan-out, presence feed, direct writes, nodes
//! socket    the socketioxide layer's pieces: room keys, seats, presence
//! push      Web Push to devices with no tab open: VAPID, encryption, SSRF
//! media     files: upload, sniff, blobs, previews, serving, sweep
//! store     storage, one trait per aggregate; SQLite and PostgreSQL
//! ```
//!
//! `state` composes them for the handlers; `failure` (how a failure is
//! logged and answered), `limits`, `names` (when two names are one),
//! `clock`, `metrics` (what Prometheus reads) and `config` serve them all.
//! Each depends only on those after it in this order: http, events, chat,
//! state, push, delivery, socket, media, failure, store, limits, names, clock,
//! metrics, config (`tests/it/consistency.rs` checks).
//! The map of every module is in `lib.rs`.

// Public: what the binary, the tests and the benchmark use (the settings,
// the storage contract, a session token's hash). The rest is the crate's.
pub(crate) mod chat;
pub(crate) mod clock;
pub mod config;
pub(crate) mod delivery;
pub(crate) mod events;
pub(crate) mod failure;
pub(crate) mod http;
pub(crate) mod limits;
pub(crate) mod media;
pub(crate) mod metrics;
pub mod names;
pub(crate) mod push;
pub(crate) mod socket;
pub(crate) mod state;
pub mod store;

pub use chat::identity::hash_token;
pub use config::Config;
pub use http::{listen, raise_descriptor_limit, run, shutdown_signal};
