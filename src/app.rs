//! The HTML shell and which address renders what: `/` (the lobby),
//! `/r/{room}` and `/dm/{user}` show the chat; anything else says there is
//! nothing there.
//!
//! Why no router: the page never navigates. Opening a room or a private
//! conversation only changes the address (`client::address`), so the one
//! decision is made once, from the address the page was loaded at:
//! the request's on the server, the browser's when hydrating (the same
//! address, so both render the same view). leptos_router cost 54 KB of the
//! gzipped WASM for that (docs/performance.md, finding 22).

use leptos::prelude::*;

use crate::components::chat_page::ChatPage;
use crate::i18n::{current, tag};
use crate::preferences::Theme;
use crate::protocol::Page;

/// The document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        // The reader's theme, from its cookie, so the first paint is right.
        // The page's language (crate::i18n), which the browser reads back.
        <html lang=tag(current()) data-theme=Theme::current().attribute()>
            <head>
                <meta charset="utf-8"/>
                // The page reaches under a phone's notch and rounded corners (the
                // stylesheet pads by the safe-area insets), and shrinks with the
                // on-screen keyboard where the browser can (Chrome).
                <meta name="viewport"
                    content="width=device-width, initial-scale=1, viewport-fit=cover, interactive-widget=resizes-content"/>
                <meta name="color-scheme" content="light dark"/>
                <link rel="icon" href="/favicon.ico"/>
                // Installable: the manifest, and its icon for iOS.
                <link rel="manifest" href="/manifest.webmanifest"/>
                <link rel="apple-touch-icon" href="/icons/rtca-180.png"/>
                <meta name="theme-color" content="#256ae0"/>
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
        Page::NotFound => view! { <p class="not-found">{crate::i18n::words().not_found().inner()}</p> }.into_any(),
    }
}
