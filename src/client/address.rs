//! The address bar. Each switch of conversation is a history entry, at the
//! same address the server renders (`/`, `/r/{room}`, `/dm/{user}`), so
//! Back and Forward move between conversations, in the page, as they would
//! between pages.

use leptos::prelude::*;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};

use super::session;
use crate::chat_state::{ChatState, Conversation};
use crate::protocol::{Page, User, LOBBY};

/// Says where the page is without a new entry: where the server's render
/// put it (the lobby, for a room that is not there).
pub fn show(conversation: &Conversation) {
    if let Some(history) = history() {
        let _ = history.replace_state_with_url(&state_of(conversation), "", Some(&conversation.path()));
    }
}

/// A new entry for `conversation`, unless the address shows it already.
pub fn push(conversation: &Conversation) {
    let path = conversation.path();
    let here = web_sys::window().and_then(|window| window.location().pathname().ok());
    if here.as_deref() == Some(path.as_str()) {
        return;
    }
    if let Some(history) = history() {
        let _ = history.push_state_with_url(&state_of(conversation), "", Some(&path));
    }
}

/// The message the address opens at, `?around={seq}#m-{id}` (a search
/// hit's link): its id and `seq`.
pub fn asked_message() -> Option<(i64, i64)> {
    let location = web_sys::window()?.location();
    let id = location.hash().ok()?.strip_prefix("#m-")?.parse().ok()?;
    let search = location.search().ok()?;
    let seq = search.trim_start_matches('?').split('&').find_map(|pair| pair.strip_prefix("around="))?.parse().ok()?;
    Some((id, seq))
}

/// Back and Forward open the conversation their entry shows.
pub fn follow_back_and_forward(chat: ChatState) {
    let Some(window) = web_sys::window() else { return };
    let moved = Closure::<dyn Fn()>::new(move || {
        if let Some(conversation) = current(chat) {
            session::switch(chat, conversation);
        }
    });
    let _ = window.add_event_listener_with_callback("popstate", moved.as_ref().unchecked_ref());
    // The listener lives as long as the page.
    moved.forget();
}

fn history() -> Option<web_sys::History> {
    web_sys::window().and_then(|window| window.history().ok())
}

/// An entry's state: the other person's name, for a private conversation
/// (the address holds only their id; see [`current`]).
fn state_of(conversation: &Conversation) -> JsValue {
    match conversation {
        Conversation::Direct(peer) => JsValue::from_str(&peer.name),
        Conversation::Room(_) => JsValue::NULL,
    }
}

/// The conversation the current entry shows. A private one's other person
/// is named by the entry, or else by my conversation list.
fn current(chat: ChatState) -> Option<Conversation> {
    let path = web_sys::window()?.location().pathname().ok()?;
    match Page::from_path(&path) {
        Page::Chat { with: Some(id), .. } => {
            let named = history().and_then(|history| history.state().ok()).and_then(|state| state.as_string());
            let listed = || {
                chat.conversations.with_untracked(|list| {
                    list.iter().find(|c| c.with.id == id).map(|c| c.with.name.clone()).unwrap_or_default()
                })
            };
            Some(Conversation::Direct(User { id, name: named.unwrap_or_else(listed) }))
        }
        Page::Chat { room, .. } => Some(Conversation::Room(room.unwrap_or_else(|| LOBBY.to_owned()))),
        Page::NotFound => None,
    }
}
