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

/// What the page starts from: me (from the session cookie), the rooms I can
/// see, who is online, my private conversations, and the latest page of the
/// conversation the URL names: `room` (default the lobby) or, with `with`
/// (a user id), my private conversation with that user.
#[server(prefix = "/api", endpoint = "chat")]
pub async fn load_chat(room: Option<String>, with: Option<UserId>) -> Result<ChatSnapshot, ApiError> {
    use crate::error::ChatError;
    use crate::protocol::{HISTORY_PAGE, LOBBY, MAX_CONVERSATIONS};
    use crate::server::identity::{internal, request_user};
    use crate::server::rooms::{check_can_read, list_for};
    use crate::server::state::app_state;
    use crate::server::store::{dm_room, StoredMessage};

    let state = app_state()?;
    let me = request_user(&state).await?;
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
            if let Err(refused) = check_can_read(&state, me_id, &room).await {
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
        rooms: list_for(&state, me_id).await?,
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

/// The page for `/`, `/r/{room}` and `/dm/{user}`: `room` (`None` for the
/// lobby) or my private conversation `with` a user.
#[component]
pub fn ChatPage(room: Option<String>, with: Option<UserId>) -> impl IntoView {
    let snapshot = Resource::new(move || (room.clone(), with), |(room, with)| snapshot_for(room, with));
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading the chat…"</p> }>
            {move || Suspend::new(async move {
                match snapshot.await {
                    Ok(snapshot) => view! { <Chat snapshot/> }.into_any(),
                    Err(error) => view! {
                        <p class="page-error" role="alert">{format!("The chat could not be loaded: {}", error.message)}</p>
                        <p class="page-error"><a href="/" rel="external">"Go to the lobby"</a></p>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The snapshot the page renders from. The server loads it, and the page
/// carries it to the browser, where the resource reads it back. The address
/// never changes under a rendered page, so the browser never asks again:
/// leaving `load_chat`'s HTTP client out of the bundle also leaves out a
/// second decoder for the whole snapshot (about 35 KB before compression).
async fn snapshot_for(room: Option<String>, with: Option<UserId>) -> Result<ChatSnapshot, ApiError> {
    #[cfg(feature = "ssr")]
    return load_chat(room, with).await;
    #[cfg(not(feature = "ssr"))]
    {
        let _ = (room, with);
        Err(ApiError::new("reload", "Reload the page to see the chat."))
    }
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
