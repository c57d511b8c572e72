//! What can be done to a message once it is sent: reacting (the chips
//! under it, and a menu of quick emoji), and editing or deleting one's
//! own. Each is a plain form that posts to its server function below, so
//! it works without JavaScript; with the WASM loaded, the form goes over
//! the socket instead (`ChatActions::submit_change`, by its
//! `data-change`), and the change shows when it comes back live.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;

use super::forms::refused_post;
use crate::actions::{use_actions, ChatActions};
use crate::chat_state::ChatState;
use crate::error::ApiError;
use crate::protocol::{Reaction, UserId, MAX_EMOJI_BYTES, QUICK_REACTIONS};

/// Edits a message of the signed-in user's (forms without JavaScript).
#[server(prefix = "/api", endpoint = "edit_message")]
pub async fn edit_message(id: i64, text: String) -> Result<(), ApiError> {
    change_by_form(id, crate::server::chat::changes::Change::Edit(&text)).await
}

/// Deletes a message of the signed-in user's, for everyone.
#[server(prefix = "/api", endpoint = "delete_message")]
pub async fn delete_message(id: i64) -> Result<(), ApiError> {
    change_by_form(id, crate::server::chat::changes::Change::Delete).await
}

/// The signed-in user's reaction `emoji` on a message, on or off.
#[server(prefix = "/api", endpoint = "react")]
pub async fn react(id: i64, emoji: String) -> Result<(), ApiError> {
    change_by_form(id, crate::server::chat::changes::Change::React(&emoji)).await
}

/// One change by the request's user: delivered by the store's commit, like
/// every change.
#[cfg(feature = "ssr")]
async fn change_by_form(id: i64, change: crate::server::chat::changes::Change<'_>) -> Result<(), ApiError> {
    use crate::error::ChatError;
    use crate::server::chat::identity::request_user;
    use crate::server::state::app_state;

    let state = app_state()?;
    let user = request_user(&state).await?.ok_or(ChatError::NotOnline)?;
    crate::server::chat::changes::change(&state, &user, id, change, None).await?;
    Ok(())
}

/// Why a change posted without JavaScript was refused, if the page came
/// back with one.
pub fn refused_change() -> Option<String> {
    [<EditMessage as ServerFn>::PATH, <DeleteMessage as ServerFn>::PATH, <React as ServerFn>::PATH]
        .into_iter()
        .find_map(refused_post)
}

/// The emoji on a message with their counts; pressing one adds mine, or
/// takes it back.
#[component]
pub fn Reactions(id: i64, reactions: Vec<Reaction>) -> impl IntoView {
    let chat = expect_context::<ChatState>();
    let actions = use_actions();
    let chips = reactions
        .into_iter()
        .map(|Reaction { emoji, users }| {
            let count = users.len();
            let label = format!("{emoji} {count}: {}", chat.reacted_by(&users));
            let mine = move || chat.me.with(|me| me.as_ref().is_some_and(|me| users.contains(&me.id))).to_string();
            let value = emoji.clone();
            view! {
                <button type="submit" name="emoji" value=value class="reaction" aria-pressed=mine title=label.clone() aria-label=label>
                    {emoji} " " {count}
                </button>
            }
        })
        .collect_view();
    let react_path = <React as ServerFn>::PATH;
    view! {
        <form class="reactions" method="post" action=react_path data-change="react" data-testid="reactions" on:submit=move |ev| actions.submit_change(&ev)>
            <input type="hidden" name="id" value=id/>
            {chips}
        </form>
    }
}

/// The menu of a message: react with one click or any emoji, and, on my
/// own, edit or delete it.
#[component]
pub fn MessageMenu(id: i64, author: UserId, text: String) -> impl IntoView {
    let chat = expect_context::<ChatState>();
    let actions = use_actions();
    let submit = move |ev: leptos::ev::SubmitEvent| actions.submit_change(&ev);
    let mine = move || chat.me.with(|me| me.as_ref().is_some_and(|me| me.id == author));
    let react_path = <React as ServerFn>::PATH;
    let (edit_path, delete_path) = (<EditMessage as ServerFn>::PATH, <DeleteMessage as ServerFn>::PATH);
    let quick = QUICK_REACTIONS
        .map(|emoji| view! { <button type="submit" name="emoji" value=emoji aria-label=format!("React with {emoji}")>{emoji}</button> });
    view! {
        <details class="message-menu" data-testid="message-menu">
            <summary aria-label="Message actions" title="React, edit or delete">"⋯"</summary>
            <div class="menu">
                <form class="quick-reactions" method="post" action=react_path data-change="react" on:submit=submit>
                    <input type="hidden" name="id" value=id/>
                    {quick}
                </form>
                <form class="other-reaction" method="post" action=react_path data-change="react" on:submit=submit>
                    <input type="hidden" name="id" value=id/>
                    <input name="emoji" required maxlength=MAX_EMOJI_BYTES aria-label="Another emoji" placeholder="Other emoji"/>
                    <button type="submit">"React"</button>
                </form>
                <Show when=mine>
                    <form class="edit-message" method="post" action=edit_path data-change="edit" on:submit=submit>
                        <input type="hidden" name="id" value=id/>
                        <textarea name="text" rows="3" aria-label="Edit message" data-testid="edit-text">{text.clone()}</textarea>
                        <button type="submit">"Save edit"</button>
                    </form>
                    <details class="delete-message">
                        <summary>"Delete…"</summary>
                        <form method="post" action=delete_path data-change="delete" on:submit=submit>
                            <input type="hidden" name="id" value=id/>
                            <button type="submit" class="danger">"Delete for everyone"</button>
                        </form>
                    </details>
                </Show>
            </div>
        </details>
    }
}
