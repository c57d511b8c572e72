//! The conversation's notification choice, in its header: all messages,
//! mentions only, or nothing (`protocol::notify`), and on a live page whose
//! reader has not answered yet, the button that asks the browser for
//! desktop notifications (`client::notifications`).
//!
//! It is a plain form posting to [`set_notify`], so the choice can be made
//! without JavaScript (it follows the reader to every device, and will
//! decide pushes too); with the WASM loaded, a change is sent over the
//! socket at once and the form's button is hidden.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;

use super::forms::refused_post;
use crate::chat_state::{ChatState, Conversation};
use crate::error::ApiError;
use crate::i18n::words;
use crate::protocol::Notify;

/// Keeps how much of a conversation notifies the signed-in user: the room
/// `room` (default the lobby), or the private conversation `with` someone.
#[server(prefix = "/api", endpoint = "notify")]
pub async fn set_notify(level: String, room: Option<String>, with: Option<String>) -> Result<(), ApiError> {
    use crate::error::ChatError;
    use crate::protocol::UserId;
    use crate::server::chat::identity::request_user;
    use crate::server::state::app_state;

    let state = app_state()?;
    let user = request_user(&state).await?.ok_or(ChatError::NotOnline)?;
    let level = Notify::parse(&level).ok_or_else(|| ChatError::InvalidPayload("unknown notification level".into()))?;
    let with = with.filter(|with| !with.is_empty()).map(|with| with.parse::<UserId>()).transpose();
    let with = with.map_err(|_| ChatError::InvalidPayload("`with` is not a user id".into()))?;
    let room = room.filter(|room| !room.is_empty());
    crate::server::chat::notify::set_notify(&state, &user, room.as_deref(), with, level).await?;
    Ok(())
}

/// A level's name, in the page's language.
fn label(level: Notify) -> &'static str {
    let words = words();
    match level {
        Notify::All => words.notify_all().inner(),
        Notify::Mentions => words.notify_mentions().inner(),
        Notify::Mute => words.notify_mute().inner(),
    }
}

#[component]
pub fn NotifySwitch() -> impl IntoView {
    let chat = expect_context::<ChatState>();
    let path = <SetNotify as ServerFn>::PATH;
    let level = move || chat.active_id().map(|id| chat.notify_level(&id));
    let room = move || match chat.active.get() {
        Conversation::Room(room) => room,
        Conversation::Direct(_) => String::new(),
    };
    let with = move || match chat.active.get() {
        Conversation::Direct(user) => user.id.to_string(),
        Conversation::Room(_) => String::new(),
    };
    let choose = move |ev: leptos::ev::Event| {
        let Some(level) = Notify::parse(&event_target_value(&ev)) else { return };
        choose(chat, level);
    };
    let refused = refused_post(path);
    view! {
        <Show when=move || chat.me.with(Option::is_some) && level().is_some()>
            <form class="notify-switch" method="post" action=path on:submit=|ev| ev.prevent_default()>
                <input type="hidden" name="room" value=room/>
                <input type="hidden" name="with" value=with/>
                <label>
                    <span class="notify-words">{words().notify_label().inner()} " "</span>
                    <select name="level" data-testid="notify-level" prop:value=move || level().map(Notify::as_str)
                        on:change=choose>
                        {Notify::ALL
                            .map(|option| {
                                view! {
                                    <option value=option.as_str() selected=move || level() == Some(option)>
                                        {label(option)}
                                    </option>
                                }
                            })}
                    </select>
                </label>
                <button type="submit" class="notify-save">{words().notify_save().inner()}</button>
                {refused.clone().map(|refusal| view! { <p class="error" role="alert">{refusal}</p> })}
            </form>
            <DesktopNotifications/>
        </Show>
    }
}

/// Sends the choice over the socket; the notice says why if it was refused.
#[cfg(feature = "hydrate")]
fn choose(chat: ChatState, level: Notify) {
    let Some(id) = chat.active.with_untracked(|active| active.id(chat.me_id())) else { return };
    leptos::task::spawn_local(async move {
        if let Err(error) = crate::client::session::set_notify(chat, &id, level).await {
            chat.notice.set(Some(error.message));
        }
    });
}

#[cfg(not(feature = "hydrate"))]
fn choose(_chat: ChatState, _level: Notify) {}

/// Asks for desktop notifications, on a live page where the reader has
/// not said yet; says so when the browser blocks them.
#[component]
fn DesktopNotifications() -> impl IntoView {
    // Nothing on the server's page: whether the browser allows them is
    // the browser's to say, once the WASM runs.
    let answer = RwSignal::new(None::<&'static str>);
    #[cfg(feature = "hydrate")]
    let chat = expect_context::<ChatState>();
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| answer.set(Some(crate::client::notifications::answer())));
    let ask = move |_| {
        #[cfg(feature = "hydrate")]
        crate::client::notifications::ask_permission(move |now| {
            answer.set(Some(now));
            // Allowed: this device can be pushed to when no tab is open.
            crate::client::push::subscribe(chat);
        });
    };
    move || match answer.get() {
        Some("default") => Some(
            view! {
                <button type="button" class="notify-enable" data-testid="notify-enable" on:click=ask>
                    {words().notify_enable().inner()}
                </button>
            }
            .into_any(),
        ),
        Some("denied") => Some(view! { <p class="notify-blocked">{words().notify_blocked().inner()}</p> }.into_any()),
        _ => None,
    }
}
