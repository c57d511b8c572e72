//! Server-only code (feature `ssr`). The folders follow a message's way
//! through the server, and each depends only on those below it:
//!
//! ```text
//! http      the router, pages, run(listener, config, shutdown)
//! events    one file per group of client events: thin handlers
//! chat      the rules: posting, who may read what, rooms, identity
//! delivery  the one way out: fan-out, presence feed, direct writes
//! socket    the socketioxide layer's pieces: room keys, seats, presence
//! store     storage, one trait per aggregate, and its SQLite backend
//! media     files: upload, sniff, blobs, previews, serving, sweep
//! ```
//!
//! `state` composes them for the handlers; `config`, `limits`, `clock`,
//! `names` (when two names are one) and `failure` (how a failure is logged
//! and answered) serve them all. The map of every module is in `lib.rs`.

pub mod chat;
pub mod clock;
pub mod config;
pub mod delivery;
pub mod events;
pub mod failure;
pub mod http;
pub mod limits;
pub mod media;
pub mod names;
pub mod socket;
pub mod state;
pub mod store;

pub use config::Config;
pub use http::{listen, run, shutdown_signal};
