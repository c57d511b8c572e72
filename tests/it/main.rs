//! The integration suite, as one test binary: each module drives the real
//! server (on 127.0.0.1:0, with a temporary SQLite file, or the real
//! binary where a test must kill or starve it) over real sockets and HTTP.
//! One binary links the crate once; the suites that need the machine to
//! themselves (`tests/media_load.rs`, which measures) stay apart.
//!
//! - `realtime`: the event contract and bad input;
//! - `history`: paging, resume, the conversation list, the history epoch;
//! - `changes`: edits, deletions and reactions, live and caught up with;
//! - `typing`: who is typing, to the conversation only, coalesced;
//! - `reading`: how far each person has read, across tabs, and "Seen";
//! - `notify`: what notifies whom, chosen per conversation, theirs alone;
//! - `push`: Web Push to a fake push service: encryption, VAPID, SSRF;
//! - `search`: only what one may read, on every path; Chinese, accents, filters, pages;
//! - `presence`: crowds joining and leaving, batched and classic;
//! - `rooms`: public and private rooms on every read and post path;
//! - `accounts`: sign-up, sign-in, sign-out, registered names;
//! - `media`: uploads, previews, Range, access to files;
//! - `pages`: the chat pages' snapshot, security headers, public address;
//! - `hostile`: clients that lie, flood, stall or pry, and the budgets that bound them;
//! - `churn`: readers dropping and coming back while writers send;
//! - `durability`: the binary killed mid-burst keeps every acked message;
//! - `faults`: a node killed behind the proxy, PostgreSQL out of reach;
//! - `stuck_log`: a server whose log nobody reads keeps serving;
//! - `operators`: health, readiness, Prometheus metrics and JSON logs;
//! - `store`: the storage contract every backend must pass;
//! - `nodes`: two nodes sharing one PostgreSQL database and media directory;
//! - `consistency`: no import cycles; every event and setting documented.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../common/mod.rs"]
mod common;

mod accounts;
mod changes;
mod churn;
mod consistency;
mod durability;
mod faults;
mod history;
mod hostile;
mod media;
mod mentions;
mod nodes;
mod notify;
mod operators;
mod pages;
mod presence;
mod push;
mod reading;
mod realtime;
mod rooms;
mod search;
mod store;
mod stuck_log;
mod typing;
