//! The chat page: loads the snapshot the server renders from, sets up the
//! chat state, and lays out the header, the people list and the
//! conversation.

use leptos::prelude::*;

use super::account::{AccountForm, SignOut};
use super::composer::Composer;
use super::connection_status::ConnectionStatus;
use super::conversation::ConversationView;
use super::join_form::JoinForm;
use super::people::People;
use crate::chat_state::{ChatSnapshot, ChatState};
use crate::error::ApiError;

/// What the page starts from: me (from the session cookie), the lobby's
/// last page of history, who is online, and my private conversations.
#[server(prefix = "/api", endpoint = "chat")]
pub async fn load_chat() -> Result<ChatSnapshot, ApiError> {
    use crate::protocol::{HISTORY_PAGE, LOBBY, MAX_CONVERSATIONS};
    use crate::server::identity::{internal, request_user};
    use crate::server::state::app_state;

    let state = app_state()?;
    let me = request_user(&state).await?;
    let lobby = state.store.recent(LOBBY, HISTORY_PAGE).await.map_err(internal)?;
    let conversations = match &me {
        Some(me) => state.store.conversations(me.id, MAX_CONVERSATIONS).await.map_err(internal)?,
        None => Vec::new(),
    };
    Ok(ChatSnapshot {
        me,
        lobby: lobby.into_iter().map(|m| m.into_chat()).collect(),
        online: state.presence.users(),
        conversations,
        epoch: state.history_epoch.to_string(),
        allow_guests: state.config.allow_guests,
    })
}

#[component]
pub fn ChatPage() -> impl IntoView {
    let snapshot = Resource::new(|| (), |_| load_chat());
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading the chat…"</p> }>
            {move || Suspend::new(async move {
                match snapshot.await {
                    Ok(snapshot) => view! { <Chat snapshot/> }.into_any(),
                    Err(error) => view! {
                        <p class="page-error" role="alert">{format!("The chat could not be loaded: {}", error.message)}</p>
                    }.into_any(),
                }
            })}
        </Suspense>
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
            <main class="conversation">
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
                    <Composer/>
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
