//! The room list in the sidebar: the lobby and the rooms I joined, with
//! unread counts; apart from them, public rooms to browse, with a search
//! that finds any room I can see (the lists become the server's answer as
//! I type) and the next page (both work without JavaScript, as a GET of the
//! page with `?query=&after=`); and a form to create a room, opened on
//! demand.
//! Joining and leaving happen in the conversation itself (see `composer`
//! and `conversation`).

use std::collections::HashMap;

use leptos::prelude::*;

use super::icons;
use crate::actions::{use_actions, ChatActions};
use crate::chat_state::{ChatState, Conversation};
use crate::i18n::{fill, input_refusal, words};
use crate::protocol::{
    percent_encode, validate_room_title, ConversationId, RoomInfo, RoomsRequest, LOBBY, MAX_ROOM_TITLE_CHARS,
};

#[component]
pub fn RoomList() -> impl IntoView {
    let chat = expect_context::<ChatState>();
    let actions = use_actions();
    let query = chat.room_query;
    let find = move |after: Option<String>| {
        let query = Some(query.get_untracked()).filter(|q| !q.trim().is_empty());
        leptos::task::spawn_local(async move {
            // A refused search (too long, too often) leaves the list as it
            // was, and the notice says why.
            if let Err(problem) = actions.find_rooms(RoomsRequest { query, after }).await {
                chat.notice.set(Some(problem.message));
            }
        });
    };
    let more_href = move || {
        let after = chat.rooms_after.get().unwrap_or_default();
        format!("?query={}&after={after}", query.with(|q| percent_encode(q.trim())))
    };
    let w = words();
    view! {
        <nav class="rooms" aria-label=w.rooms().inner() data-testid="rooms">
            <h2>{w.rooms().inner()}</h2>
            <ul data-testid="my-rooms">
                <RoomGroup joined=true/>
            </ul>
            <Show when=move || chat.me.with(Option::is_some)>
                <details class="new-room-panel">
                    <summary>{w.new_room().inner()}</summary>
                    <NewRoom/>
                </details>
            </Show>
            <h2>{w.browse_rooms().inner()}</h2>
            <form class="find-room" method="get" role="search" aria-label=w.find_rooms_landmark().inner() on:submit=move |ev| {
                ev.prevent_default();
                find(None);
            }>
                <input
                    type="search"
                    name="query"
                    aria-label=w.find_room().inner()
                    placeholder=w.find_room().inner()
                    maxlength=MAX_ROOM_TITLE_CHARS.to_string()
                    prop:value=move || query.get()
                    on:input=move |ev| {
                        query.set(event_target_value(&ev));
                        find(None);
                    }
                />
            </form>
            <ul class="browse-rooms" data-testid="browse-rooms">
                <RoomGroup joined=false/>
            </ul>
            <a
                class="more-rooms"
                href=more_href
                hidden=move || chat.rooms_after.with(Option::is_none)
                on:click=move |ev| {
                    ev.prevent_default();
                    find(chat.rooms_after.get_untracked());
                }
            >
                {w.more_rooms().inner()}
            </a>
        </nav>
    }
}

/// The rooms I am in (`joined`: the lobby is everyone's), or the others.
#[component]
fn RoomGroup(joined: bool) -> impl IntoView {
    let chat = expect_context::<ChatState>();
    let rooms = move || {
        let mine = |room: &RoomInfo| room.joined || room.name == LOBBY;
        chat.rooms.with(|rooms| rooms.iter().filter(|room| mine(room) == joined).cloned().collect::<Vec<_>>())
    };
    view! {
        <For
            each=rooms
            key=|room| (room.name.clone(), room.title.clone(), room.joined, room.private, room.members, room.online)
            let:room
        >
            <RoomRow room/>
        </For>
    }
}

#[component]
fn RoomRow(room: RoomInfo) -> impl IntoView {
    let chat = expect_context::<ChatState>();
    let name = room.name.clone();
    let active = {
        let name = name.clone();
        move || chat.active.with(|a| matches!(a, Conversation::Room(r) if *r == name))
    };
    let id = ConversationId::room(name.as_str());
    let count_in = move |counts: RwSignal<HashMap<ConversationId, usize>>| {
        let id = id.clone();
        move || counts.with(|counts| counts.get(&id).copied().unwrap_or(0))
    };
    let (unread, mentioned) = (count_in(chat.unread), count_in(chat.mentioned));
    let title_of = room.shown_title().to_owned();
    let twin = move || chat.rooms.with(|rooms| rooms.iter().filter(|r| r.shown_title() == title_of).count() > 1);
    let summary = if room.private { words().private_room_summary() } else { words().public_room_summary() };
    let title = fill(summary.inner(), &[("members", &room.members.to_string()), ("online", &room.online.to_string())]);
    let actions = use_actions();
    let open = {
        let name = name.clone();
        move |_| actions.open(Conversation::Room(name.clone()))
    };
    view! {
        <li>
            <button
                class="room"
                class:active=active
                class:joined=room.joined
                data-room=name.clone()
                title=title
                on:click=open
            >
                <span class="sigil">
                    {if room.private { icons::lock().into_any() } else { "#".into_any() }}
                </span>
                <span class="name">{room.shown_title().to_owned()}</span>
                // Two rooms that read alike are told apart by their names.
                {
                    let key = format!("#{name}");
                    move || twin().then(|| view! { <span class="room-key">{key.clone()}</span> })
                }
                {move || {
                    let count = unread();
                    (count > 0).then(|| {
                        let label = fill(words().unread_messages().inner(), &[("count", &count.to_string())]);
                        view! { <span class="badge" aria-label=label>{count}</span> }
                    })
                }}
                // Beside the count, as Slack's red one: how many call me.
                {move || {
                    let count = mentioned();
                    (count > 0).then(|| {
                        let label = fill(words().unread_mentions().inner(), &[("count", &count.to_string())]);
                        view! { <span class="badge mention-badge" aria-label=label data-testid="mention-badge">{"@"}{count}</span> }
                    })
                }}
            </button>
        </li>
    }
}

#[component]
fn NewRoom() -> impl IntoView {
    let name = RwSignal::new(String::new());
    let private = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let actions = use_actions();
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let draft = name.get_untracked().trim().to_owned();
        if let Err(problem) = validate_room_title(&draft) {
            error.set(Some(input_refusal(&problem)));
            return;
        }
        error.set(None);
        leptos::task::spawn_local(async move {
            match actions.create_room(draft, private.get_untracked()).await {
                Ok(()) => {
                    name.set(String::new());
                    private.set(false);
                    // The form was for that room: it folds away.
                    if let Ok(Some(panel)) = document().query_selector("details.new-room-panel") {
                        let _ = panel.remove_attribute("open");
                    }
                }
                Err(problem) => error.set(Some(problem.message)),
            }
        });
    };
    view! {
        <form class="new-room" on:submit=create>
            <input
                type="text"
                aria-label=words().new_room_name().inner()
                placeholder=words().room_name_placeholder().inner()
                maxlength=MAX_ROOM_TITLE_CHARS.to_string()
                prop:value=move || name.get()
                on:input=move |ev| name.set(event_target_value(&ev))
            />
            <label class="private">
                <input type="checkbox" aria-label=words().private_room().inner() prop:checked=move || private.get() on:change=move |ev| private.set(event_target_checked(&ev))/>
                {words().private_checkbox().inner()}
            </label>
            <button type="submit">{words().create().inner()}</button>
            <p class="form-error" role="alert" data-testid="room-error">{move || error.get()}</p>
        </form>
    }
}
