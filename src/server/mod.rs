//! Server-only code (feature `ssr`). See the layout map in `lib.rs`.

pub mod accounts;
pub mod config;
pub mod direct;
pub mod fanout;
pub mod handlers;
pub mod http;
pub mod identity;
pub mod limits;
pub mod media;
pub mod names;
pub mod presence;
pub mod presence_feed;
pub mod realtime;
pub mod rooms;
pub mod seat;
pub mod state;
pub mod store;
pub mod wire;

pub use config::Config;
pub use http::{listen, run, shutdown_signal};
