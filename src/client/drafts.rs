//! Keeps the drafts (`chat_state::drafts`) in the tab's session storage,
//! so a reload, a language switch or a sign-in form's round trip gives
//! them back. Session storage, not local: it is this tab's alone and goes
//! with it, so nothing typed outlives the tab on a shared computer. The
//! drafts are kept with whose they are, and someone else signed in (or
//! nobody) finds them dropped.

use leptos::prelude::*;

use crate::chat_state::ChatState;
use crate::protocol::{ConversationId, UserId};

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
    Effect::new(move |_| {
        chat.draft.track();
        chat.active.track();
        let Some(me) = chat.me.with(|me| me.as_ref().map(|me| me.id)) else { return };
        let drafts = chat.drafts();
        let _ = if drafts.is_empty() { storage.remove_item(KEY) } else { storage.set_item(KEY, &write(me, &drafts)) };
    });
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.session_storage().ok().flatten()
}

/// `[me, conversation, text, conversation, text, …]` as JSON: strings
/// only, which the bundle already knows how to write and read.
fn write(me: UserId, drafts: &[(ConversationId, String)]) -> String {
    let mut flat = vec![me.to_string()];
    for (id, text) in drafts {
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
