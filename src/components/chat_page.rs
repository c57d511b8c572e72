//! The chat page: loads the snapshot the server renders from, sets up the
//! chat state, and lays out the header, the people list and the
//! conversation.

use leptos::prelude::*;

use super::account::{AccountForm, SignOut};
use super::composer::RoomGate;
use super::connection_status::ConnectionStatus;
use super::conversation::ConversationView;
use super::join_form::JoinForm;
use super::people::People;
use crate::chat_state::{ChatSnapshot, ChatState};
use crate::error::ApiError;
use crate::protocol::UserId;

/// What the page starts from, as JSON: me (from the session cookie), the
/// rooms I can see, who is online, my private conversations, and the latest
/// page of the conversation the URL names: `room` (default the lobby) or,
/// with `with` (a user id), my private conversation with that user. Pages
/// don't use it (they carry their snapshot); it is the same read path for
/// clients of the HTTP API.
#[server(prefix = "/api", endpoint = "chat")]
pub async fn load_chat(room: Option<String>, with: Option<UserId>) -> Result<ChatSnapshot, ApiError> {
    use crate::server::identity::request_user;
    use crate::server::state::app_state;

    let state = app_state()?;
    let me = request_user(&state).await?;
    load_snapshot(&state, me, room, with).await
}

/// The snapshot for `me` at the address naming `room` or `with`.
#[cfg(feature = "ssr")]
pub async fn load_snapshot(
    state: &crate::server::state::AppState,
    me: Option<crate::protocol::User>,
    room: Option<String>,
    with: Option<UserId>,
) -> Result<ChatSnapshot, ApiError> {
    use crate::error::ChatError;
    use crate::protocol::{HISTORY_PAGE, LOBBY, MAX_CONVERSATIONS};
    use crate::server::identity::internal;
    use crate::server::rooms::{check_can_read, list_for};
    use crate::server::store::{dm_room, StoredMessage};

    let me_id = me.as_ref().map(|u| u.id);
    // What the address asks for, if this visitor may see it; otherwise the
    // lobby, with a word on why (a link to a room that is gone, a private
    // conversation after signing out).
    let mut notice = None;
    let mut room = room.unwrap_or_else(|| LOBBY.to_owned());
    let mut direct = None;
    let mut secrets = Vec::new();
    match (with, me_id) {
        (Some(peer), Some(me_id)) => match state.store.user(peer).await.map_err(internal)? {
            Some(peer) => {
                let page = state.store.recent(&dm_room(me_id, peer.id), HISTORY_PAGE).await.map_err(internal)?;
                secrets = page.into_iter().filter_map(StoredMessage::into_secret).collect();
                direct = Some(peer);
            }
            None => notice = Some(ChatError::NoSuchUser.to_string()),
        },
        (Some(_), None) => notice = Some("Sign in to see your private conversations.".to_owned()),
        (None, _) => {
            if let Err(refused) = check_can_read(state, me_id, &room).await {
                notice = Some(refused.to_string());
                room = LOBBY.to_owned();
            }
        }
    }
    if direct.is_some() {
        room = LOBBY.to_owned();
    }
    let messages = match direct {
        Some(_) => Vec::new(),
        None => state
            .store
            .recent(&room, HISTORY_PAGE)
            .await
            .map_err(internal)?
            .into_iter()
            .map(StoredMessage::into_chat)
            .collect(),
    };
    let conversations = match me_id {
        Some(me_id) => state.store.conversations(me_id, MAX_CONVERSATIONS).await.map_err(internal)?,
        None => Vec::new(),
    };
    Ok(ChatSnapshot {
        rooms: list_for(state, me_id).await?,
        me,
        room,
        direct,
        notice,
        messages,
        secrets,
        online: state.presence.users(),
        conversations,
        epoch: state.history_epoch.to_string(),
        allow_guests: state.config.allow_guests,
        max_upload_bytes: state.config.max_upload_bytes,
    })
}

/// The snapshot the page handler loaded before rendering
/// (`server::http::chat_page`), provided as context.
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
        Ok((snapshot, json)) => view! {
            <script type="application/json" id=SNAPSHOT_ID inner_html=json></script>
            <Chat snapshot/>
        }
        .into_any(),
        Err(error) => view! {
            <p class="page-error" role="alert">{format!("The chat could not be loaded: {}", error.message)}</p>
            <p class="page-error"><a href="/" rel="external">"Go to the lobby"</a></p>
        }
        .into_any(),
    }
}

/// The snapshot and its JSON, on the server: `<` is escaped, so no message
/// text can close the script element early (`</script>`, `<!--`).
#[cfg(feature = "ssr")]
fn page_snapshot() -> Result<(ChatSnapshot, String), ApiError> {
    let loaded = use_context::<PageSnapshot>()
        .ok_or_else(|| ApiError::new("internal", "the page was rendered without its data"))?;
    let snapshot = loaded.0.as_ref().clone()?;
    let json = serde_json::to_string(&snapshot).map_err(|e| ApiError::new("internal", e.to_string()))?;
    Ok((snapshot, json.replace('<', "\\u003c")))
}

/// The snapshot and its JSON, in the browser: read back from the page.
#[cfg(not(feature = "ssr"))]
fn page_snapshot() -> Result<(ChatSnapshot, String), ApiError> {
    let reload = |why: &str| ApiError::new("reload", format!("{why} Reload the page."));
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
    provide_context(chat);
    #[cfg(feature = "hydrate")]
    Effect::new(move |started: Option<()>| {
        if started.is_none() {
            crate::client::session::start(chat);
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
        #[cfg(feature = "hydrate")]
        if let Some(files) = ev.data_transfer().and_then(|data| data.files()) {
            crate::client::upload::send_files(chat, &files);
        }
    };
    view! {
        <div class="app">
            <header class="topbar">
                <h1 class="brand">"RTCA"</h1>
                <ConnectionStatus/>
                <Show when=signed_in>
                    <span class="me">
                        "Signed in as "
                        <strong data-testid="me">{move || chat.me.get().map(|u| u.name).unwrap_or_default()}</strong>
                    </span>
                    <SignOut/>
                </Show>
            </header>
            <aside class="sidebar">
                <People/>
            </aside>
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
            </main>
        </div>
    }
    .into_any()
}

/// An error the server pushed with no ack to carry it, until dismissed.
#[component]
fn Notice() -> impl IntoView {
    let chat = expect_context::<ChatState>();
    view! {
        <Show when=move || chat.notice.with(Option::is_some)>
            <div class="notice" role="alert" data-testid="notice">
                <span>{move || chat.notice.get().unwrap_or_default()}</span>
                <button type="button" aria-label="Dismiss" on:click=move |_| chat.notice.set(None)>"×"</button>
            </div>
        </Show>
    }
}
