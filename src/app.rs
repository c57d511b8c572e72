//! The HTML shell and the router: which URL renders which page.

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{ParamSegment, SsrMode, StaticSegment};

use crate::components::chat_page::ChatPage;

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

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="leptos" href="/pkg/rtca.css"/>
        <Title text="RTCA chat"/>
        <Router>
            <Routes fallback=|| view! { <p class="not-found">"There is nothing at this address."</p> }>
                // Async: the history and the online list are in the first
                // HTML, so the page reads fine before (or without) the WASM.
                <Route path=StaticSegment("") view=ChatPage ssr=SsrMode::Async/>
                <Route path=(StaticSegment("r"), ParamSegment("room")) view=ChatPage ssr=SsrMode::Async/>
                <Route path=(StaticSegment("dm"), ParamSegment("user")) view=ChatPage ssr=SsrMode::Async/>
            </Routes>
        </Router>
    }
}
