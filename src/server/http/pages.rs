//! The chat's pages: `/`, `/r/{room}` and `/dm/{user}`. Their data is
//! loaded before the first byte (`chat::snapshot`), so history and who is
//! online are in the first HTML, and the page reads fine before, or
//! without, the WASM. The page carries the same data for hydration
//! (`components::chat_page`).

use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::response::Response;
use leptos::nonce::Nonce;
use leptos::prelude::provide_context;
use leptos_axum::render_app_async_with_context;

use crate::app::shell;
use crate::components::chat_page::PageSnapshot;
use crate::error::{code, ApiError};
use crate::protocol::{ChatSnapshot, Page, RoomsRequest};
use crate::server::chat::identity::{session_cookie, token_from_headers, user_for_token};
use crate::server::chat::snapshot;
use crate::server::delivery::wire::Peer;
use crate::server::http::headers::ScriptNonce;
use crate::server::http::refusals;
use crate::server::state::AppState;

/// A chat page: the snapshot first, then the render. A reader whose
/// address has read its fill of history lately gets a short 429 instead.
pub async fn chat_page(State(state): State<AppState>, request: Request) -> Response {
    let reader = request.extensions().get::<ConnectInfo<Peer>>().map(|ConnectInfo(peer)| peer.addr.ip());
    if let Err(refused) = state.limits.may_read(reader) {
        return super::too_many_requests(refused);
    }
    // The page's language, read from the request once (crate::i18n).
    let locale = {
        let headers = request.headers();
        let header = |name| headers.get(name).and_then(|value| value.to_str().ok());
        crate::i18n::from_headers(header(axum::http::header::COOKIE), header(axum::http::header::ACCEPT_LANGUAGE))
    };
    let loaded = match Page::from_path(request.uri().path()) {
        Page::Chat { room, with } => {
            let me = match token_from_headers(request.headers(), session_cookie(&state.config)) {
                Some(token) => user_for_token(&state, &token).await.map_err(ApiError::from),
                None => Ok(None),
            };
            let refused = request.uri().query().and_then(refusals::verified);
            match me {
                Ok(me) => snapshot::load(&state, reader, me, room, with, rooms_asked_for(request.uri()), locale)
                    .await
                    .map(|snapshot| ChatSnapshot { refused, ..snapshot }),
                Err(error) => Err(error),
            }
        }
        // Not routed here (only CHAT_PATHS are), and the app renders its
        // not-found page without a snapshot.
        Page::NotFound => Err(ApiError::new(code::NOT_FOUND, "There is nothing at this address.")),
    };
    let page = PageSnapshot(Arc::new(loaded));
    let options = state.leptos_options.clone();
    // The hydration loader's nonce, for the page's Content-Security-Policy.
    let nonce = Nonce::new();
    let script_nonce = ScriptNonce(nonce.to_string());
    let render = render_app_async_with_context(
        move || {
            provide_context(state.clone());
            provide_context(page.clone());
            provide_context(nonce.clone());
            provide_context(locale);
        },
        move || shell(options.clone()),
    );
    let mut response = render(request).await;
    response.extensions_mut().insert(script_nonce);
    response
}

/// The room search and page a chat address asks for (`?query=&after=`);
/// anything else in the query is someone else's (a refused form's).
fn rooms_asked_for(uri: &axum::http::Uri) -> RoomsRequest {
    let asked = axum::extract::Query::<RoomsRequest>::try_from_uri(uri).map(|query| query.0).unwrap_or_default();
    RoomsRequest { after: asked.after.filter(|after| !after.is_empty()), ..asked }
}
