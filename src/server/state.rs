//! The state every request and socket handler shares.

use std::sync::{Arc, OnceLock};

use socketioxide::SocketIo;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use super::config::Config;
use super::fanout::Fanout;
use super::limits::Limits;
use super::media::MediaService;
use super::presence::Presence;
use super::presence_feed::PresenceFeed;
use super::store::Store;
use crate::error::ApiError;

#[derive(Clone)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub config: Arc<Config>,
    pub store: Arc<dyn Store>,
    pub presence: Arc<Presence>,
    /// Presence changes and snapshots on their way to sockets, coalesced.
    pub presence_feed: PresenceFeed,
    pub limits: Arc<Limits>,
    /// Live delivery of committed messages, in seq order.
    pub fanout: Fanout,
    /// The Socket.IO handle, set once the layer exists (it is built from
    /// this state), for the few HTTP paths that act on sockets.
    pub sockets: Arc<OnceLock<SocketIo>>,
    /// Shared files: blob store and upload bounds.
    pub media: Arc<MediaService>,
    /// The store's history epoch, read once at start.
    pub history_epoch: Arc<str>,
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
        .ok_or_else(|| ApiError::new("internal", "the server is not ready; please try again"))
}
