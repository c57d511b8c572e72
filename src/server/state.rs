//! The state every request and socket handler shares: the services below
//! the handlers, composed once by `http::run`.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use super::config::Config;
use super::delivery::backlog::Backlogs;
use super::delivery::presence_feed::PresenceFeed;
use super::delivery::room_feed::RoomFeed;
use super::delivery::typing_feed::TypingFeed;
use super::delivery::Outbound;
use super::limits::Limits;
use super::media::MediaService;
use super::push::Push;
use super::socket::last_seen::LastSeen;
use super::socket::presence::Presence;
use super::store::read_marks::ReadMarks;
use super::store::Store;
use crate::error::{code, ApiError};

#[derive(Clone)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub config: Arc<Config>,
    pub store: Arc<dyn Store>,
    /// Who is online, counted per user across tabs.
    pub presence: Arc<Presence>,
    /// Presence changes and lists on their way to sockets, coalesced.
    pub presence_feed: PresenceFeed,
    /// New public rooms on their way to everyone, coalesced.
    pub room_feed: RoomFeed,
    /// Who is typing where, on its way to the conversations, coalesced.
    pub typing: TypingFeed,
    /// The one way out to sockets.
    pub outbound: Outbound,
    /// What socketioxide holds for each session on long-polling, by its
    /// Engine.IO id.
    pub backlogs: Arc<Backlogs>,
    pub limits: Arc<Limits>,
    /// Shared files: blob store and upload bounds.
    pub media: Arc<MediaService>,
    /// When users were last seen, on its way to the store.
    pub last_seen: Arc<LastSeen>,
    /// How far people have read, on its way to the store.
    pub read_marks: Arc<ReadMarks>,
    /// Set once the server begins to stop: it is no longer ready
    /// (`/readyz`).
    pub draining: Arc<AtomicBool>,
    /// The store's history epoch, read once at start.
    pub history_epoch: Arc<str>,
    /// Web Push to devices with no tab open (off: does nothing).
    pub push: Push,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

/// The state, from inside a server function or a server-side render
/// (leptos_axum provides it to both).
pub fn app_state() -> Result<AppState, ApiError> {
    leptos::prelude::use_context::<AppState>()
        .ok_or_else(|| ApiError::new(code::INTERNAL, "the server is not ready; please try again"))
}
