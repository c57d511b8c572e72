//! Who is in a room: a panel in the room's header that lists its members
//! when opened, online ones first (their dot follows presence live), the
//! others with when they were last seen. Asked of the server each time it
//! opens. The lobby's members are everyone online: the sidebar lists them.

use leptos::prelude::*;
use leptos::wasm_bindgen::JsCast;

use crate::actions::{use_actions, ChatActions};
use crate::chat_state::ChatState;
use crate::i18n::{fill, words};
use crate::protocol::RoomMember;

#[component]
pub fn RoomMembersPanel(room: String) -> impl IntoView {
    let chat = expect_context::<ChatState>();
    let actions = use_actions();
    let members = RwSignal::new(Vec::<RoomMember>::new());
    let problem = RwSignal::new(None::<String>);
    let more = RwSignal::new(false);
    let toggled = move |ev: leptos::ev::Event| {
        let panel = ev.target().and_then(|target| target.dyn_into::<leptos::web_sys::Element>().ok());
        if !panel.is_some_and(|panel| panel.has_attribute("open")) {
            return;
        }
        let room = room.clone();
        leptos::task::spawn_local(async move {
            match actions.room_members(room).await {
                Ok(list) => {
                    problem.set(None);
                    more.set(list.more);
                    members.set(list.members);
                }
                Err(refused) => problem.set(Some(refused.message)),
            }
        });
    };
    let member_row = move |member: RoomMember| {
        let id = member.id;
        let online = move || chat.online.with(|online| online.iter().any(|u| u.id == id));
        let status = move || match (online(), member.last_seen) {
            (true, _) => words().member_online().inner().to_owned(),
            (false, Some(at)) => fill(words().member_last_seen().inner(), &[("when", &chat.clock_now().when(at))]),
            (false, None) => words().member_offline().inner().to_owned(),
        };
        view! {
            <li class="person" class:offline=move || !online() data-user-id=id.to_string()>
                <span class="presence-dot" aria-hidden="true"></span>
                <span class="name">{member.name}</span>
                <span class="seen">{status}</span>
            </li>
        }
    };
    view! {
        <details class="room-members" on:toggle=toggled>
            <summary>{words().members().inner()}</summary>
            <div class="room-members-list">
                <p class="form-error" role="alert">{move || problem.get()}</p>
                <ul data-testid="room-members">
                    // Unkeyed: the list is replaced whole, each time the panel opens.
                    {move || members.get().into_iter().map(member_row).collect_view()}
                </ul>
                <p class="more-members" hidden=move || !more.get()>{words().and_more().inner()}</p>
            </div>
        </details>
    }
}
