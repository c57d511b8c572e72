//! Keeps the drafts (`chat_state::drafts`) in the tab's session storage,
//! so a reload, a language switch or a sign-in form's round trip gives
//! them back. Session storage, not local: it is this tab's alone and ends
//! with the tab's session (a browser's "reopen closed tab" may bring it
//! back, for the same account only). The drafts are kept with whose they
//! are: someone else signed in, in this page or the next, or nobody,
//! finds them dropped. The changes waiting to be sent (`client::changes`)
//! are dropped at that moment too: this is where the page notices.

use leptos::prelude::*;

use crate::chat_state::ChatState;
use crate::protocol::{ConversationId, UserId, MAX_TEXT_CHARS};

const KEY: &str = "rtca-drafts";

/// Gives back what an earlier page of this tab kept, then keeps every
/// change from now on.
pub fn follow(chat: ChatState) {
    let Some(storage) = storage() else { return };
    let me = chat.me_id();
    let kept = storage.get_item(KEY).ok().flatten().and_then(|value| read(&value, me?));
    match kept {
        Some(drafts) => chat.restore_drafts(drafts),
        None => {
            let _ = storage.remove_item(KEY);
        }
    }
    Effect::new(move |whose: Option<Option<UserId>>| {
        chat.draft.track();
        chat.active.track();
        let me = chat.me.with(|me| me.as_ref().map(|me| me.id));
        if whose.is_some_and(|whose| whose.is_some() && whose != me) {
            chat.forget_drafts();
            super::changes::forget();
        }
        let drafts = me.map(|_| chat.drafts()).unwrap_or_default();
        // Too much for the storage (or nothing): keep nothing rather than
        // an older copy, which a reload would give back as if unsent.
        let kept = match me.filter(|_| !drafts.is_empty()) {
            Some(me) => storage.set_item(KEY, &write(me, &drafts)).is_ok(),
            None => false,
        };
        if !kept {
            let _ = storage.remove_item(KEY);
        }
        me
    });
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.session_storage().ok().flatten()
}

/// `[me, conversation, text, conversation, text, …]` as JSON: strings
/// only, which the bundle already knows how to write and read.
fn write(me: UserId, drafts: &[(ConversationId, String)]) -> String {
    let mut flat = vec![me.to_string()];
    // One no message could carry (4 bytes a character at most) is kept in
    // the page only, so each write stays small.
    for (id, text) in drafts.iter().filter(|(_, text)| text.len() <= 4 * MAX_TEXT_CHARS) {
        flat.push(key_of(id));
        flat.push(text.clone());
    }
    serde_json::to_string(&flat).unwrap_or_default()
}

/// The drafts kept for `me`; none if they are someone else's, or unreadable.
fn read(value: &str, me: UserId) -> Option<Vec<(ConversationId, String)>> {
    let flat: Vec<String> = serde_json::from_str(value).ok()?;
    let (whose, pairs) = flat.split_first()?;
    if whose.parse::<UserId>().ok()? != me {
        return None;
    }
    Some(pairs.chunks_exact(2).filter_map(|pair| Some((id_of(&pair[0])?, pair[1].clone()))).collect())
}

fn key_of(id: &ConversationId) -> String {
    match id {
        ConversationId::Room(name) => format!("r:{name}"),
        ConversationId::Pair(a, b) => format!("p:{a}:{b}"),
    }
}

fn id_of(key: &str) -> Option<ConversationId> {
    if let Some(name) = key.strip_prefix("r:") {
        return Some(ConversationId::room(name));
    }
    let (a, b) = key.strip_prefix("p:")?.split_once(':')?;
    Some(ConversationId::pair(a.parse().ok()?, b.parse().ok()?))
}
