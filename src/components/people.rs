//! The sidebar: the rooms, who is online, and private conversations.
//! Clicking a person opens a private conversation with them.

use leptos::prelude::*;

use super::rooms::RoomList;
use crate::actions::{use_actions, ChatActions};
use crate::chat_state::{ChatState, ConnStatus, Conversation};
use crate::i18n::{fill, words};
use crate::protocol::ConversationId;
use crate::protocol::User;

#[component]
pub fn People() -> impl IntoView {
    let chat = expect_context::<ChatState>();
    let me = move || chat.me.get().map(|u| u.id);
    // Everyone I have a private conversation with, most recent first,
    // online or not: a conversation keeps its place either way.
    let peers = move || {
        let Some(me) = me() else { return Vec::new() };
        chat.conversations
            .with(|list| list.iter().map(|c| c.with.clone()).filter(|peer| peer.id != me).collect::<Vec<User>>())
    };
    // While the connection is down, the list is who was online when it
    // dropped: it says so, and its dots go grey.
    let stale =
        move || chat.status.with(|status| matches!(status, ConnStatus::Reconnecting { .. } | ConnStatus::Offline));
    view! {
        <RoomList/>
        <section class="people" class:stale=stale aria-label=words().online().inner()>
            <h2>{words().online().inner()} " " <span class="count" data-testid="online-count">{move || chat.online.with(Vec::len)}</span></h2>
            <p class="stale-note" data-testid="online-stale" hidden=move || !stale()>
                {words().online_stale().inner()}
            </p>
            <ul data-testid="online-users">
                <For each=move || chat.online.get() key=|user| (user.id, user.name.clone()) let:user>
                    <PersonRow user listed_online=true/>
                </For>
            </ul>
            <Show when=move || !peers().is_empty()>
                <h2>{words().private_conversations().inner()}</h2>
                <ul data-testid="private-conversations">
                    <For each=peers key=|user| (user.id, user.name.clone()) let:user>
                        <PersonRow user listed_online=false/>
                    </For>
                </ul>
            </Show>
        </section>
    }
    .into_any()
}

/// One person; `listed_online` in the online list, else whether they are
/// online is looked up.
#[component]
fn PersonRow(user: User, listed_online: bool) -> impl IntoView {
    let chat = expect_context::<ChatState>();
    let id = user.id;
    let is_me = move || chat.me.with(|me| me.as_ref().is_some_and(|me| me.id == id));
    let active = move || chat.active.with(|a| matches!(a, Conversation::Direct(u) if u.id == id));
    let unread = move || {
        let me = chat.me.with(|me| me.as_ref().map(|me| me.id));
        let conversation = me.map(|me| ConversationId::pair(me, id));
        chat.unread.with(|u| conversation.and_then(|c| u.get(&c).copied()).unwrap_or(0))
    };
    let has_unread = move || unread() > 0;
    let online = move || listed_online || chat.online.with(|online| online.iter().any(|u| u.id == id));
    let shown = user.clone();
    let name = move || chat.display_name(&shown);
    let actions = use_actions();
    let open = move |_| {
        if chat.me.with_untracked(Option::is_some) && !is_me() {
            actions.open(Conversation::Direct(user.clone()));
        }
    };
    view! {
        <li>
            <button
                class="person"
                class:active=active
                class:offline=move || !online()
                data-user-id=id.to_string()
                title=move || if is_me() { words().this_is_you().inner() } else { words().send_private().inner() }
                on:click=open
            >
                <span class="presence-dot" aria-hidden="true"></span>
                <span class="name">{name}</span>
                <span class="visually-hidden">{move || if online() { "" } else { words().offline_suffix().inner() }}</span>
                <Show when=is_me>
                    <span class="you">{words().you().inner()}</span>
                </Show>
                <Show when=has_unread>
                    <span class="badge" aria-label=move || fill(words().unread_private().inner(), &[("count", &unread().to_string())])>
                        {unread}
                    </span>
                </Show>
            </button>
        </li>
    }
}
