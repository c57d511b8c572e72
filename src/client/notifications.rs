//! Desktop notifications: while the tab is hidden, a message that should
//! notify me (`ChatState::should_notify`: private messages and mentions by
//! default, as I chose per conversation) shows one through the browser's
//! Notification API. One per conversation at a time (its `tag`), the
//! newest replacing the one before; a click brings the tab forward and
//! opens the message. Coming back to the tab closes them all: I am here.
//!
//! Permission is asked only when I press the button for it
//! (`components::notify_switch`): browsers refuse the question otherwise.

use std::cell::RefCell;
use std::collections::HashMap;

use gloo_timers::future::TimeoutFuture;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Notification, NotificationOptions, NotificationPermission};

use super::session;
use crate::chat_state::{ChatState, Conversation};
use crate::i18n::{fill, words};
use crate::protocol::{event, ChatMessage, ConversationId, Message, SecretMessage};

/// A notification's text stops here (in characters).
const MAX_BODY_CHARS: usize = 160;

/// A notification on screen, with the handler of its click (dropped with
/// it, when it is replaced or closed).
type Shown = (Notification, Closure<dyn FnMut()>);

thread_local! {
    /// The notifications shown, by tag (one per conversation).
    static SHOWN: RefCell<HashMap<String, Shown>> = RefCell::new(HashMap::new());
}

/// Whether the browser has notifications at all (an old or locked-down one
/// may not: then no button offers them).
pub fn supported() -> bool {
    web_sys::window()
        .is_some_and(|window| js_sys::Reflect::has(&window, &JsValue::from_str("Notification")).unwrap_or(false))
}

/// What the reader said to notifications: "granted", "denied" or
/// "default" (not asked yet); "unsupported" where there are none.
pub fn answer() -> &'static str {
    if !supported() {
        return "unsupported";
    }
    match Notification::permission() {
        NotificationPermission::Granted => "granted",
        NotificationPermission::Default => "default",
        _ => "denied",
    }
}

/// Asks the reader (on a press of theirs); `then` hears the answer.
pub fn ask_permission(then: impl FnOnce(&'static str) + 'static) {
    if !supported() {
        return then(answer());
    }
    let Ok(asking) = Notification::request_permission() else { return then(answer()) };
    leptos::task::spawn_local(async move {
        let _ = wasm_bindgen_futures::JsFuture::from(asking).await;
        then(answer());
    });
}

/// Closes every notification shown when the tab is seen again.
pub fn follow() {
    let Some(document) = web_sys::window().and_then(|window| window.document()) else { return };
    let seen = Closure::<dyn FnMut()>::new(move || {
        if web_sys::window().and_then(|window| window.document()).is_some_and(|document| !document.hidden()) {
            close_all();
        }
    });
    let _ = document.add_event_listener_with_callback("visibilitychange", seen.as_ref().unchecked_ref());
    // For the page's life, like the page.
    seen.forget();
}

/// A live event just applied: if it is a message that should notify me
/// and the tab is hidden, shows it.
pub fn consider(chat: ChatState, name: &str, data: &str) {
    if name != event::MESSAGE && name != event::SECRET {
        return;
    }
    let hidden = web_sys::window().and_then(|window| window.document()).is_some_and(|document| document.hidden());
    if !hidden || answer() != "granted" {
        return;
    }
    let message: Option<Message> = if name == event::MESSAGE {
        serde_json::from_str::<ChatMessage>(data).ok().map(Into::into)
    } else {
        serde_json::from_str::<SecretMessage>(data).ok().map(Into::into)
    };
    if let Some(message) = message.filter(|message| chat.should_notify(message)) {
        show(chat, &message);
    }
}

fn show(chat: ChatState, message: &Message) {
    let sender = chat.display_name(&message.from);
    let (title, opens) = match &message.conversation {
        ConversationId::Room(room) => (
            fill(words().notify_in_room().inner(), &[("name", &sender), ("room", room)]),
            Conversation::Room(room.clone()),
        ),
        ConversationId::Pair(..) => (sender, Conversation::Direct(message.from.clone())),
    };
    let body = if message.text.is_empty() && message.media.is_some() {
        words().notify_sent_file().inner().to_owned()
    } else {
        message.text.chars().take(MAX_BODY_CHARS).collect()
    };
    let tag = tag_of(&message.conversation);
    let options = NotificationOptions::new();
    options.set_body(&body);
    options.set_tag(&tag);
    options.set_icon("/icons/rtca-192.png");
    let Ok(notification) = Notification::new_with_options(&title, &options) else { return };
    let (id, seq) = (message.id, message.seq);
    let shown = notification.clone();
    let clicked = Closure::<dyn FnMut()>::new(move || {
        if let Some(window) = web_sys::window() {
            let _ = window.focus();
        }
        shown.close();
        let opens = opens.clone();
        leptos::task::spawn_local(open_message(chat, opens, id, seq));
    });
    notification.set_onclick(Some(clicked.as_ref().unchecked_ref()));
    let replaced = SHOWN.with(|all| all.borrow_mut().insert(tag, (notification, clicked)));
    drop(replaced);
}

/// Opens `conversation` and goes to the message `id` once its latest page
/// is here.
async fn open_message(chat: ChatState, conversation: Conversation, id: i64, seq: i64) {
    let Some(key) = conversation.id(chat.me_id()) else { return };
    session::open(chat, conversation);
    for _ in 0..50 {
        if chat.holds_latest(&key) {
            break;
        }
        TimeoutFuture::new(100).await;
    }
    session::jump_to(chat, id, seq).await;
}

fn close_all() {
    let shown = SHOWN.with(|all| std::mem::take(&mut *all.borrow_mut()));
    for (notification, _) in shown.values() {
        notification.close();
    }
}

/// One tag per conversation: a new message replaces its notification.
fn tag_of(conversation: &ConversationId) -> String {
    match conversation {
        ConversationId::Room(room) => format!("rtca-room-{room}"),
        ConversationId::Pair(a, b) => format!("rtca-pair-{a}-{b}"),
    }
}
