//! The chat page: loads the snapshot the server renders from, sets up the
//! chat state, and lays out the header, the people list and the
//! conversation.

use leptos::prelude::*;

use super::account::{AccountForm, SignOut};
use super::composer::RoomGate;
use super::connection_status::ConnectionStatus;
use super::conversation::ConversationView;
use super::join_form::JoinForm;
use super::language_switch::LanguageSwitch;
use super::people::People;
use super::theme_switch::ThemeSwitch;
use super::thread::ThreadPanel;
use crate::actions::{Actions, ChatActions};
use crate::chat_state::ChatState;
use crate::error::{code, ApiError};
use crate::i18n::{fill, words};
use crate::protocol::{ChatSnapshot, UserId};

/// How far a finger must go sideways for a swipe to move the drawer.
const SWIPE_PX: i32 = 60;
/// How near the screen's left edge a swipe that opens the drawer starts.
const EDGE_PX: i32 = 32;

/// What the page starts from, as JSON: me (from the session cookie), the
/// rooms I can see, who is online, my private conversations, and the latest
/// page of the conversation the URL names: `room` (default the lobby) or,
/// with `with` (a user id), my private conversation with that user. Pages
/// don't use it (they carry their snapshot); it is the same read path for
/// clients of the HTTP API.
#[server(prefix = "/api", endpoint = "chat")]
pub async fn load_chat(room: Option<String>, with: Option<UserId>) -> Result<ChatSnapshot, ApiError> {
    use crate::server::chat::identity::{request_address, request_user};
    use crate::server::chat::snapshot;
    use crate::server::state::app_state;

    let state = app_state()?;
    let me = request_user(&state).await?;
    snapshot::load(&state, request_address().await, me, room, with, Default::default(), crate::i18n::current()).await
}

/// The snapshot the page handler loaded before rendering
/// (`server::http::pages`), provided as context.
#[cfg(feature = "ssr")]
#[derive(Clone)]
pub struct PageSnapshot(pub std::sync::Arc<Result<ChatSnapshot, ApiError>>);

/// The element the page carries its snapshot in, for hydration.
const SNAPSHOT_ID: &str = "rtca-snapshot";

/// The chat page for `/`, `/r/{room}` and `/dm/{user}`. The server renders
/// it from the snapshot its handler loaded, and writes that snapshot into
/// the page as JSON; the browser hydrates from the same JSON. The address
/// never changes under a rendered page, so nothing is fetched again. No
/// resource and no suspense: their machinery, and the server function's
/// HTTP client with a second decoder of the snapshot, cost about 31 KB of
/// the gzipped WASM (docs/performance.md, finding 23).
#[component]
pub fn ChatPage() -> impl IntoView {
    match page_snapshot() {
        Ok((snapshot, json)) => {
            super::forms::provide_refused_post(snapshot.refused.clone());
            view! {
            <script type="application/json" id=SNAPSHOT_ID inner_html=json></script>
            <Chat snapshot/>
            }
            .into_any()
        }
        Err(error) => view! {
            <p class="page-error" role="alert">{fill(words().page_load_failed().inner(), &[("why", &error.message)])}</p>
            <p class="page-error"><a href="/" rel="external">{words().page_go_to_lobby().inner()}</a></p>
        }
        .into_any(),
    }
}

/// The snapshot and its JSON, on the server: `<` is escaped, so no message
/// text can close the script element early (`</script>`, `<!--`).
#[cfg(feature = "ssr")]
fn page_snapshot() -> Result<(ChatSnapshot, String), ApiError> {
    let loaded = use_context::<PageSnapshot>()
        .ok_or_else(|| ApiError::new(code::INTERNAL, "the page was rendered without its data"))?;
    let snapshot = loaded.0.as_ref().clone()?;
    let json = serde_json::to_string(&snapshot).map_err(|e| ApiError::new(code::INTERNAL, e.to_string()))?;
    Ok((snapshot, json.replace('<', "\\u003c")))
}

/// The snapshot and its JSON, in the browser: read back from the page.
#[cfg(not(feature = "ssr"))]
fn page_snapshot() -> Result<(ChatSnapshot, String), ApiError> {
    let reload = |why: &str| ApiError::new(code::RELOAD, format!("{why} Reload the page."));
    let json = leptos::prelude::document()
        .get_element_by_id(SNAPSHOT_ID)
        .and_then(|element| element.text_content())
        .ok_or_else(|| reload("The page arrived incomplete."))?;
    let snapshot = serde_json::from_str(&json).map_err(|_| reload("The page arrived damaged."))?;
    Ok((snapshot, json))
}

#[component]
fn Chat(snapshot: ChatSnapshot) -> impl IntoView {
    let allow_guests = snapshot.allow_guests;
    let chat = ChatState::new(snapshot);
    // A change to a message posted without JavaScript and refused: its
    // forms sit in every message, so the reason goes above them all.
    if let Some(why) = super::message_actions::refused_change() {
        chat.notice.set(Some(why));
    }
    provide_context(chat);
    let actions = Actions::new(chat);
    provide_context(actions);
    Effect::new(move |started: Option<()>| {
        if started.is_none() {
            actions.start();
        }
    });
    let signed_in = move || chat.me.with(Option::is_some);
    // Files dropped anywhere on the conversation are sent to it.
    let dragging = RwSignal::new(false);
    let drag_over = move |ev: leptos::ev::DragEvent| {
        if signed_in() {
            ev.prevent_default();
            dragging.set(true);
        }
    };
    let dropped = move |ev: leptos::ev::DragEvent| {
        dragging.set(false);
        if !signed_in() {
            return;
        }
        ev.prevent_default();
        actions.send_dropped(&ev);
    };
    // On a phone (with the WASM loaded) the sidebar is a drawer: it opens
    // from the header, and closes on Esc, a tap beside it, or when a
    // conversation is opened from it. Wider screens and pages without
    // JavaScript keep it in place (style/main.css).
    let drawer = RwSignal::new(false);
    let w = words();
    Effect::new(move |_| {
        chat.active.track();
        // The room or person that had the focus is now hidden with the
        // drawer: the focus goes to the conversation's composer.
        if drawer.get_untracked() {
            drawer.set(false);
            actions.return_to_composer();
        }
    });
    let close_drawer = move || {
        if drawer.get_untracked() {
            drawer.set(false);
            // The focus goes back to the drawer's button.
            actions.focus_soon(".drawer-toggle");
        }
    };
    // A swipe, where the drawer is one: from the screen's left edge to the
    // right opens it, and to the left closes it. Mostly sideways, and far
    // enough, so scrolling the conversation never moves it. Heard on the
    // window, where touch listeners are passive: scrolling never waits.
    let swipe_from = StoredValue::new(None::<(i32, i32)>);
    let touch_start =
        window_event_listener(leptos::ev::touchstart, move |ev| swipe_from.set_value(actions.touch_point(&ev)));
    let touch_end = window_event_listener(leptos::ev::touchend, move |ev| {
        let (Some((x0, y0)), Some((x1, y1))) = (swipe_from.get_value(), actions.touch_point(&ev)) else { return };
        swipe_from.set_value(None);
        let (across, down) = (x1 - x0, (y1 - y0).abs());
        if across.abs() < SWIPE_PX || down * 2 > across.abs() || !actions.is_shown(".drawer-toggle") {
            return;
        }
        if across > 0 && x0 <= EDGE_PX && !drawer.get_untracked() {
            drawer.set(true);
        } else if across < 0 {
            close_drawer();
        }
    });
    on_cleanup(move || {
        touch_start.remove();
        touch_end.remove();
    });
    let sidebar_key = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Escape" {
            close_drawer();
        } else if ev.key() == "Tab" && drawer.get_untracked() && actions.is_shown(".drawer-toggle") {
            // Open over the page: the focus stays in it until it closes.
            actions.keep_tab_within(&ev, "#sidebar");
        } else {
            actions.list_key(&ev);
        }
    };
    view! {
        <div class="app">
            // First in the tab order: past the header and the sidebar.
            <a class="skip-link" href=move || if signed_in() { "#composer" } else { "#join-name" }
                on:click=move |ev| actions.skip_to_composer(&ev)>{w.skip_to_composer().inner()}</a>
            <header class="topbar">
                <button type="button" class="drawer-toggle" aria-controls="sidebar"
                    aria-expanded=move || drawer.get().to_string() on:click=move |_| {
                        drawer.update(|open| *open = !*open);
                        if drawer.get_untracked() {
                            // The focus goes into the drawer.
                            actions.focus_soon("#sidebar button.room");
                        }
                    }>
                    <span aria-hidden="true">"☰"</span>
                    <span class="visually-hidden">{w.drawer_toggle().inner()}</span>
                </button>
                <h1 class="brand">"RTCA"</h1>
                <ConnectionStatus/>
                // A plain form: the results are a page of their own, with
                // or without JavaScript (`server::http::search`).
                <form class="search" method="get" action="/search" role="search" aria-label=w.search_landmark().inner()>
                    <input type="search" name="q" aria-label=w.search_label().inner() placeholder=w.search_placeholder().inner()
                        maxlength="200" data-testid="search-input"/>
                </form>
                <Show when=signed_in>
                    // The messages that called me: a page of their own.
                    <a class="mentions-link" href="/mentions" data-testid="mentions-link">{w.mentions_link().inner()}</a>
                    <span class="me">
                        <span class="me-label">{w.signed_in_as().inner()}</span>
                        <strong data-testid="me">{move || chat.me.get().map(|u| u.name).unwrap_or_default()}</strong>
                    </span>
                    <SignOut/>
                </Show>
                <ThemeSwitch/>
                <LanguageSwitch/>
            </header>
            <aside id="sidebar" class="sidebar" class:open=move || drawer.get() on:keydown=sidebar_key>
                <People/>
            </aside>
            <div class="drawer-backdrop" hidden=move || !drawer.get() on:click=move |_| close_drawer()></div>
            <main class="conversation" class:dragging=move || dragging.get() on:dragover=drag_over
                on:dragleave=move |_| dragging.set(false) on:drop=dropped data-testid="drop-zone">
                <Notice/>
                <ConversationView/>
                <Show
                    when=signed_in
                    fallback=move || {
                        view! {
                            <Show when=move || allow_guests>
                                <JoinForm/>
                            </Show>
                            <AccountForm/>
                        }
                    }
                >
                    <RoomGate/>
                </Show>
                <ThreadPanel/>
            </main>
        </div>
    }
    .into_any()
}

/// An error the server pushed with no ack to carry it, until dismissed.
#[component]
fn Notice() -> impl IntoView {
    let chat = expect_context::<ChatState>();
    let actions = crate::actions::use_actions();
    view! {
        <Show when=move || chat.notice.with(Option::is_some)>
            <div class="notice" role="alert" data-testid="notice">
                <span>{move || chat.notice.get().unwrap_or_default()}</span>
                <button type="button" aria-label=words().dismiss().inner() on:click=move |_| {
                    chat.notice.set(None);
                    actions.return_to_composer();
                }>"×"</button>
            </div>
        </Show>
    }
}
