//! The HTML shell and which address renders what: `/` (the lobby),
//! `/r/{room}` and `/dm/{user}` show the chat; anything else says there is
//! nothing there.
//!
//! Why no router: the page never navigates. Opening a room or a private
//! conversation only replaces the address (`client::session::open`), so
//! the one decision is made once, from the address the page was loaded at:
//! the request's on the server, the browser's when hydrating (the same
//! address, so both render the same view). leptos_router cost 54 KB of the
//! gzipped WASM for that (docs/performance.md, finding 22).

use leptos::prelude::*;

use crate::components::chat_page::ChatPage;
use crate::components::forms::percent_decode as decode;
use crate::protocol::UserId;

/// The document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                <link rel="icon" href="/favicon.ico"/>
                // Static, so in the shell: leptos_meta's components cost the
                // WASM bundle 5.8 KB gzipped for a title that never changes.
                // The id is the one cargo-leptos reloads the CSS by.
                <title>"RTCA chat"</title>
                <link rel="stylesheet" id="leptos" href="/pkg/rtca.css"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The addresses the server renders the chat at (axum's syntax); every
/// other one gets the not-found page from the fallback.
pub const CHAT_PATHS: [&str; 3] = ["/", "/r/{room}", "/dm/{user}"];

/// What an address asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Page {
    /// A room (`None`: the lobby), or my private conversation with a user.
    /// A `/dm/` address whose id is not a number opens the lobby, as a
    /// user who is gone does.
    Chat {
        room: Option<String>,
        with: Option<UserId>,
    },
    NotFound,
}

impl Page {
    /// Exact segments: `/r/general/` (a trailing slash) is not a room.
    pub fn from_path(path: &str) -> Page {
        let segments: Vec<&str> = path.strip_prefix('/').unwrap_or(path).split('/').collect();
        match segments.as_slice() {
            [""] => Page::Chat { room: None, with: None },
            ["r", room] if !room.is_empty() => Page::Chat { room: Some(decode(room)), with: None },
            ["dm", user] if !user.is_empty() => Page::Chat { room: None, with: user.parse().ok() },
            _ => Page::NotFound,
        }
    }
}

/// The path this page was asked for.
fn current_path() -> String {
    #[cfg(feature = "ssr")]
    {
        use_context::<axum::http::request::Parts>().map(|parts| parts.uri.path().to_owned()).unwrap_or_default()
    }
    #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
    {
        web_sys::window().and_then(|window| window.location().pathname().ok()).unwrap_or_default()
    }
    #[cfg(not(any(feature = "ssr", feature = "hydrate")))]
    {
        String::from("/")
    }
}

#[component]
pub fn App() -> impl IntoView {
    let path = current_path();
    match Page::from_path(&path) {
        // The page's handler read the room or the conversation from the
        // address, and loaded what the page shows (server::http::chat_page).
        Page::Chat { .. } => view! { <ChatPage/> }.into_any(),
        Page::NotFound => view! { <p class="not-found">"There is nothing at this address."</p> }.into_any(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn addresses_name_pages() {
        let chat = |room: Option<&str>, with: Option<UserId>| Page::Chat { room: room.map(str::to_owned), with };
        assert_eq!(Page::from_path("/"), chat(None, None));
        assert_eq!(Page::from_path("/r/general"), chat(Some("general"), None));
        assert_eq!(Page::from_path("/r/caf%C3%A9"), chat(Some("café"), None));
        assert_eq!(Page::from_path("/dm/42"), chat(None, Some(42)));
        assert_eq!(Page::from_path("/dm/bob"), chat(None, None));
        for nowhere in ["/r", "/r/", "/r/general/", "/dm/", "/x", "/r/a/b", "//"] {
            assert_eq!(Page::from_path(nowhere), Page::NotFound, "{nowhere}");
        }
    }
}
