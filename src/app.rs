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
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};

use crate::components::chat_page::ChatPage;
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
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
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

/// A refused form post comes back to the page it was sent from with
/// `?__err=…&__path=…` (what server functions do for a browser without
/// JavaScript, and for our plain forms): this puts the error where the
/// server action for `__path` reads it.
fn provide_refused_post(query: &str) {
    // The last pair: each refusal appends its own to the address it was
    // sent from, which may hold an earlier one.
    let param = |name: &str| {
        query.split('&').rev().find_map(|pair| {
            let (key, value) = pair.split_once('=')?;
            (key == name).then(|| decode(&value.replace('+', " ")))
        })
    };
    if let (Some(error), Some(path)) = (param("__err"), param("__path")) {
        provide_context(leptos::server::ServerActionError::new(&path, &error));
    }
}

/// Percent-decoding. Room names are plain ASCII, so an encoded one is a
/// name that does not exist; decoding it still shows the reader the name
/// they typed in the notice.
fn decode(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1).and_then(|&b| hex(b)), bytes.get(i + 2).and_then(|&b| hex(b))) {
            (b'%', Some(high), Some(low)) => {
                out.push((high * 16 + low) as u8);
                i += 3;
            }
            (byte, _, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The path and the query (without `?`) this page was asked for.
fn current_address() -> (String, String) {
    #[cfg(feature = "ssr")]
    {
        use_context::<axum::http::request::Parts>()
            .map(|parts| (parts.uri.path().to_owned(), parts.uri.query().unwrap_or_default().to_owned()))
            .unwrap_or_default()
    }
    #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
    {
        let location = web_sys::window().map(|window| window.location());
        let path = location.as_ref().and_then(|l| l.pathname().ok()).unwrap_or_default();
        let search = location.and_then(|l| l.search().ok()).unwrap_or_default();
        (path, search.strip_prefix('?').unwrap_or(&search).to_owned())
    }
    #[cfg(not(any(feature = "ssr", feature = "hydrate")))]
    {
        (String::from("/"), String::new())
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let (path, query) = current_address();
    provide_refused_post(&query);
    let page = match Page::from_path(&path) {
        // The page's handler read the room or the conversation from the
        // address, and loaded what the page shows (server::http::chat_page).
        Page::Chat { .. } => view! { <ChatPage/> }.into_any(),
        Page::NotFound => view! { <p class="not-found">"There is nothing at this address."</p> }.into_any(),
    };
    view! {
        <Stylesheet id="leptos" href="/pkg/rtca.css"/>
        <Title text="RTCA chat"/>
        {page}
    }
}

#[cfg(test)]
mod tests {
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

    #[test]
    fn a_refused_post_reaches_its_server_action() {
        Owner::new_root(None).with(|| {
            provide_refused_post("x=1&__err=wrong+name%20or%2Fpassword&__path=%2Fapi%2Flogin");
            let refused =
                use_context::<leptos::server::ServerActionError>().map(|e| (e.path().to_owned(), e.err().to_owned()));
            assert_eq!(refused, Some(("/api/login".to_owned(), "wrong name or/password".to_owned())));
        });
        Owner::new_root(None).with(|| {
            provide_refused_post("__err=first&__path=%2Fapi%2Fjoin&__err=second&__path=%2Fapi%2Flogin");
            let refused =
                use_context::<leptos::server::ServerActionError>().map(|e| (e.path().to_owned(), e.err().to_owned()));
            assert_eq!(refused, Some(("/api/login".to_owned(), "second".to_owned())));
        });
        Owner::new_root(None).with(|| {
            provide_refused_post("__err=only");
            assert!(use_context::<leptos::server::ServerActionError>().is_none());
        });
    }
}
