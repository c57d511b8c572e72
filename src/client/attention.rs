//! The tab calls for attention while something unread is for me: private
//! messages, and messages that call me in rooms. Its title counts them,
//! "(3) RTCA chat", and its icon shows a dot, so a tab in the background
//! says so.

use leptos::prelude::*;

use crate::chat_state::ChatState;
use crate::protocol::ConversationId;

/// The page's title when nothing is waiting (the shell's, `app.rs`).
const TITLE: &str = "RTCA chat";

/// Keeps the tab's title and icon in step with what is waiting for me.
pub fn follow(chat: ChatState) {
    Effect::new(move |_| {
        let private: usize = chat.unread.with(|unread| {
            unread.iter().filter(|(id, _)| matches!(id, ConversationId::Pair(..))).map(|(_, n)| n).sum()
        });
        let called: usize = chat.mentioned.with(|mentioned| {
            mentioned.iter().filter(|(id, _)| matches!(id, ConversationId::Room(_))).map(|(_, n)| n).sum()
        });
        show(private + called);
    });
}

fn show(waiting: usize) {
    let Some(document) = web_sys::window().and_then(|window| window.document()) else { return };
    let title = match waiting {
        0 => TITLE.to_owned(),
        n => format!("({n}) {TITLE}"),
    };
    if document.title() != title {
        document.set_title(&title);
    }
    let icon = if waiting == 0 { "/favicon.ico" } else { "/favicon-unread.svg" };
    if let Ok(Some(link)) = document.query_selector("link[rel=icon]") {
        if link.get_attribute("href").as_deref() != Some(icon) {
            let _ = link.set_attribute("href", icon);
        }
    }
}
