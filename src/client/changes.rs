//! Changes to messages (edit, delete, react): sent at once while
//! connected, and otherwise kept in order until the next reconnect, as
//! messages are (the outbox). A change made on a train is not lost to a
//! tunnel.
//!
//! A change is sent again only when it never went out (`disconnected`,
//! `busy`) or the server refused it before acting (`unavailable`). One
//! whose answer was lost (`timeout`, the connection dropped after it went
//! out) is not: a reaction toggles, and sending it twice would undo it.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;

use gloo_timers::future::TimeoutFuture;
use leptos::prelude::*;

use super::session::{ask_until_accepted, payload, UNAVAILABLE_RETRY_MS};
use crate::chat_state::{ChatState, ConnStatus};
use crate::error::{code, ApiError};
use crate::i18n::words;
use crate::protocol::{event, DeleteRequest, EditRequest, ReactRequest};

/// What a message's form asks for.
#[derive(Clone, Debug)]
pub enum MessageChange {
    Edit { id: i64, text: String },
    Delete { id: i64 },
    React { id: i64, emoji: String },
}

/// The most changes kept while offline; past this, the reader is told to
/// wait until they are back online.
const MAX_WAITING: usize = 50;

thread_local! {
    static WAITING: RefCell<VecDeque<MessageChange>> = const { RefCell::new(VecDeque::new()) };
    static FLUSHING: Cell<bool> = const { Cell::new(false) };
}

/// Edits, deletes or reacts to a message, or keeps the change for the next
/// reconnect while the page is not connected (the notice says which). The
/// change itself comes back live (`message_changed`, `secret_changed`), to
/// every tab alike.
pub async fn change_message(chat: ChatState, change: MessageChange) {
    let connected = chat.status.get_untracked() == ConnStatus::Connected;
    if !connected || waiting() > 0 || FLUSHING.with(Cell::get) {
        // Behind those already waiting, so they land in the order made.
        let kept = keep(change);
        if !kept {
            chat.notice.set(Some(words().changes_full_offline().inner().to_owned()));
        } else if !connected {
            chat.notice.set(Some(words().change_waits().inner().to_owned()));
        } else {
            flush(chat);
        }
        return;
    }
    if let Err(problem) = send(change).await {
        chat.notice.set(Some(problem.message));
    }
}

/// Sends what waits, oldest first and one at a time. Called on every
/// reconnect. A refusal (the message was deleted meanwhile) is shown and
/// dropped; a change that did not go through for now goes back first in
/// line, until the next reconnect or a moment later (as long as a message
/// refused for now waits, `UNAVAILABLE_RETRY_MS`).
pub fn flush(chat: ChatState) {
    if FLUSHING.with(|flushing| flushing.replace(true)) {
        return;
    }
    leptos::task::spawn_local(async move {
        let mut retry = false;
        while let Some(next) = WAITING.with(|waiting| waiting.borrow_mut().pop_front()) {
            match send(next.clone()).await {
                Ok(()) => {}
                Err(error) if matches!(error.code.as_str(), code::DISCONNECTED | code::BUSY | code::UNAVAILABLE) => {
                    WAITING.with(|waiting| waiting.borrow_mut().push_front(next));
                    retry = error.code != code::DISCONNECTED;
                    break;
                }
                // Its answer was lost: shown, not sent again; the rest
                // waits a moment rather than following it into a link
                // that may be dead.
                Err(error) if error.code == code::TIMEOUT => {
                    chat.notice.set(Some(error.message));
                    retry = true;
                    break;
                }
                Err(error) => chat.notice.set(Some(error.message)),
            }
        }
        FLUSHING.with(|flushing| flushing.set(false));
        if retry {
            TimeoutFuture::new(UNAVAILABLE_RETRY_MS).await;
            if chat.status.get_untracked() == ConnStatus::Connected {
                flush(chat);
            }
        }
    });
}

/// Forgets every change waiting: someone else is signed in now (or
/// nobody), and they were not theirs to make.
pub fn forget() {
    WAITING.with(|waiting| waiting.borrow_mut().clear());
}

fn waiting() -> usize {
    WAITING.with(|waiting| waiting.borrow().len())
}

/// Keeps `change` for the next reconnect; false when too many wait.
fn keep(change: MessageChange) -> bool {
    WAITING.with(|waiting| {
        let mut waiting = waiting.borrow_mut();
        if waiting.len() >= MAX_WAITING {
            return false;
        }
        waiting.push_back(change);
        true
    })
}

async fn send(change: MessageChange) -> Result<(), ApiError> {
    let (name, request) = match change {
        MessageChange::Edit { id, text } => (event::EDIT, payload(&EditRequest { id, text })?),
        MessageChange::Delete { id } => (event::DELETE, payload(&DeleteRequest { id })?),
        MessageChange::React { id, emoji } => (event::REACT, payload(&ReactRequest { id, emoji })?),
    };
    ask_until_accepted(name, request).await.map(|_| ())
}
