//! Changes to messages (edit, delete, react): sent at once while
//! connected, and otherwise kept in order until the next reconnect, as
//! messages are (the outbox). A change made on a train is not lost to a
//! tunnel.
//!
//! Only a change made while the page knows it is not connected waits
//! here. One whose connection dropped after it went out is not sent again:
//! a reaction toggles, and sending it twice would undo it.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;

use leptos::prelude::*;

use super::session::{ask_until_accepted, payload};
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
    if !connected || waiting() > 0 {
        // Behind those already waiting, so they land in the order made.
        let said = if keep(change) { words().change_waits().inner() } else { words().changes_full_offline().inner() };
        chat.notice.set(Some(said.to_owned()));
        if connected {
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
/// dropped; if the connection is down again, the rest waits on.
pub fn flush(chat: ChatState) {
    if FLUSHING.with(|flushing| flushing.replace(true)) {
        return;
    }
    leptos::task::spawn_local(async move {
        while let Some(next) = WAITING.with(|waiting| waiting.borrow_mut().pop_front()) {
            match send(next.clone()).await {
                Ok(()) => {}
                Err(error)
                    if error.code == code::DISCONNECTED && chat.status.get_untracked() != ConnStatus::Connected =>
                {
                    WAITING.with(|waiting| waiting.borrow_mut().push_front(next));
                    break;
                }
                Err(error) => chat.notice.set(Some(error.message)),
            }
        }
        FLUSHING.with(|flushing| flushing.set(false));
    });
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
