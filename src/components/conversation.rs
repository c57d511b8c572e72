//! The conversation on screen: a room, or a private conversation with one
//! person, as a list of messages in `seq` order.

use leptos::prelude::*;

use super::announcer::Announcer;
use super::icons;
use super::image_viewer::{ImageViewer, ImageViewerView};
use super::message::{laid_out, row_key, MessageRow, Reader};
use super::notify_switch::NotifySwitch;
use super::room_members::RoomMembersPanel;
use crate::actions::{use_actions, ChatActions};
use crate::chat_state::{typing_line, ChatState, Conversation, Outgoing};
use crate::i18n::{fill, words};
use crate::protocol::{ConversationId, Message, User, UserId, LOBBY};
use crate::rich_text::to_html;

#[component]
pub fn ConversationView() -> impl IntoView {
    let chat = expect_context::<ChatState>();
    let actions = use_actions();
    // One list per change, shared by the list, the empty notice and the scroll.
    // A thread's replies show in the thread, and here only those sent here too.
    let rows = Memo::new(move |_| -> Vec<Message> {
        let Some(id) = chat.active_id() else { return Vec::new() };
        chat.messages.with(|all| {
            let held = all.get(&id).map(Vec::as_slice).unwrap_or_default();
            held.iter().filter(|m| m.in_thread.is_none_or(|t| t.in_conversation)).cloned().collect()
        })
    });
    let private = move || chat.active.with(|a| matches!(a, Conversation::Direct(_)));
    let title = move || match chat.active.get() {
        Conversation::Room(room) => format!("# {}", chat.room_title(&room)),
        Conversation::Direct(peer) => fill(words().private_title().inner(), &[("name", &chat.display_name(&peer))]),
    };
    // A room I joined (not the lobby, which nobody leaves) can be left.
    let leavable = move || match chat.active.get() {
        Conversation::Room(room) if room != LOBBY => chat.joined(&room).then_some(room),
        _ => None,
    };
    let leave = move |_| {
        let Some(room) = leavable() else { return };
        leptos::task::spawn_local(async move {
            match actions.leave_room(room).await {
                // Back in the lobby, whose composer takes the focus the
                // Leave button had.
                Ok(()) => actions.return_to_composer(),
                Err(problem) => chat.notice.set(Some(problem.message)),
            }
        });
    };
    // Older messages exist when the first one shown is not the first ever.
    let first_seq = move || rows.with(|rows| rows.first().map(|row| row.seq));
    let has_earlier = move || first_seq().is_some_and(|seq| seq > 1);
    let loading_earlier = RwSignal::new(false);
    let list: NodeRef<leptos::html::Ol> = NodeRef::new();
    let load_earlier = move |_| {
        let Some(before) = first_seq() else { return };
        loading_earlier.set(true);
        let conversation = chat.active.get_untracked();
        // The page goes in above what is on screen: keep that where it is,
        // measured from the bottom, which the new page does not move.
        let from_bottom = list.get_untracked().map(|list| list.scroll_height() - list.scroll_top());
        leptos::task::spawn_local(async move {
            actions.load_earlier(conversation, before).await;
            loading_earlier.set(false);
            if let (Some(list), Some(from_bottom)) = (list.get_untracked(), from_bottom) {
                request_animation_frame(move || list.set_scroll_top(list.scroll_height() - from_bottom));
            }
        });
    };
    // Following the conversation: a reader at the bottom stays there as
    // messages come; one who scrolled up stays put, and a pill counts what
    // came since. Opening a conversation, or sending, goes to the newest.
    let at_bottom = StoredValue::new(true);
    let unseen = RwSignal::new(0usize);
    let to_newest = move || {
        unseen.set(0);
        at_bottom.set_value(true);
        if let Some(list) = list.get_untracked() {
            // After the rows that changed are in the page.
            request_animation_frame(move || list.set_scroll_top(list.scroll_height()));
        }
    };
    let on_scroll = move |_| {
        let Some(list) = list.get_untracked() else { return };
        let bottom = list.scroll_height() - list.scroll_top() - list.client_height() < 48;
        at_bottom.set_value(bottom);
        if bottom {
            unseen.set(0);
        }
    };
    // A window made smaller (a phone turned, its keyboard opened, the
    // header wrapping onto another line) keeps a reader at the bottom there.
    let resized = window_event_listener(leptos::ev::resize, move |_| {
        if let Some(list) = list.get_untracked().filter(|_| at_bottom.get_value()) {
            list.set_scroll_top(list.scroll_height());
        }
    });
    on_cleanup(move || resized.remove());
    let newest = Memo::new(move |_| rows.with(|rows| rows.last().map(|row| (row.id, row.from.id))));
    // My messages still on their way, in this conversation.
    let pending = move || {
        let active = chat.active.get();
        let here = |m: &&Outgoing| m.to == active && m.thread.is_none_or(|t| t.in_conversation);
        chat.outbox.with(|outbox| outbox.iter().filter(here).cloned().collect::<Vec<Outgoing>>())
    };
    // How many of those there are, without copying them.
    let waiting = move || chat.active.with(|active| chat.outbox.with(|o| o.iter().filter(|m| m.to == *active).count()));
    let announcer = Announcer::new();
    let view_announcer = announcer.view();
    // What the view last followed: the conversation, its newest message,
    // how many messages it held, and how many of mine were on their way.
    type Followed = (Option<ConversationId>, Option<(i64, UserId)>, usize, usize);
    Effect::new(move |before: Option<Followed>| -> Followed {
        let now: Followed = (chat.active_id(), newest.get(), rows.with(Vec::len), waiting());
        let (switched, grew, sending) = match &before {
            None => (true, false, false),
            Some((conversation, newest, _, pending)) => (*conversation != now.0, *newest != now.1, now.3 > *pending),
        };
        let mine = now.1.is_some_and(|(_, from)| chat.me_id() == Some(from));
        if grew && !switched && !mine {
            rows.with_untracked(|rows| {
                if let Some(newest) = rows.last() {
                    let what =
                        newest.media.as_ref().filter(|_| newest.text.is_empty()).map_or(&newest.text, |m| &m.name);
                    announcer.message(&chat.display_name(&newest.from), what);
                }
            });
        }
        if switched || sending || (grew && (mine || at_bottom.get_value())) {
            to_newest();
        } else if grew && now.1.is_some() {
            let came = before.map_or(1, |(_, _, held, _)| now.2.saturating_sub(held).max(1));
            unseen.update(|n| *n += came);
        }
        now
    });
    // Reading: what is on screen is read; where I had read up to when it
    // opened is marked, and a private conversation says what the other
    // one has read.
    Effect::new(move |_| {
        newest.track();
        chat.active.track();
        actions.mark_read();
    });
    let reader = move || Reader {
        clock: chat.clock.get(),
        me: chat.me.with(|me| me.as_ref().map(|me| me.id)),
        unread_after: chat.unread_after.get(),
        peer_seen: chat.active_id().and_then(|id| chat.peer_seen.with(|seen| seen.get(&id).copied())),
    };
    let jump = move |_| {
        let conversation = chat.active.get_untracked();
        leptos::task::spawn_local(async move {
            // Earlier pages until the first news is here (a few at most).
            for _ in 0..10 {
                let first = rows.with_untracked(|rows| rows.first().map(|row| row.seq));
                let (Some(after), Some(first)) = (chat.unread_after.get_untracked(), first) else { break };
                if first <= after + 1 {
                    break;
                }
                actions.load_earlier(conversation.clone(), first).await;
            }
            request_animation_frame(move || {
                let line = list.get_untracked().and_then(|list| list.query_selector(".unread-line").ok().flatten());
                if let Some(line) = line {
                    line.scroll_into_view();
                }
            });
        });
    };
    // Images open in the page; the arrow keys go through this
    // conversation's images.
    let viewer = ImageViewer { open: RwSignal::new(None) };
    provide_context(viewer);
    view! {
        <section class="messages-pane" class:private=private data-testid="conversation">
            <ImageViewerView viewer rows/>
            <header class="conversation-title">
                <h2 data-testid="conversation-title">{title}</h2>
                <Show when=private>
                    <span class="private-note">{words().private_note().inner()}</span>
                </Show>
                {move || match chat.active.get() {
                    Conversation::Room(room) if room != LOBBY => Some(view! { <RoomMembersPanel room/> }),
                    _ => None,
                }}
                <NotifySwitch/>
                <Show when=move || chat.unread_after.with(Option::is_some)>
                    <button type="button" class="jump-unread" data-testid="jump-unread" on:click=jump>
                        {words().jump_to_unread().inner()}
                    </button>
                </Show>
                <Show when=move || leavable().is_some()>
                    <Invite/>
                    <button type="button" class="leave" on:click=leave>{words().leave_room().inner()}</button>
                </Show>
            </header>
            // Focusable, so the keyboard can scroll it when no message in
            // view holds a control (a visitor's page, say).
            <ol
                class="messages"
                node_ref=list
                tabindex="0"
                aria-label=words().messages_label().inner()
                data-testid="messages"
                on:scroll=on_scroll
                on:submit=move |ev| actions.submit_change(&ev)
                on:click=move |ev| actions.message_click(&ev)
                on:keydown=move |ev| actions.message_key(&ev)
            >
                <Show when=has_earlier>
                    <li class="earlier">
                        <button type="button" on:click=load_earlier disabled=move || loading_earlier.get()>
                            {words().load_earlier().inner()}
                        </button>
                    </li>
                </Show>
                <For
                    each=move || rows.with(|rows| laid_out(rows, reader()))
                    key=|(message, place)| row_key(message, *place)
                    let:row
                >
                    <MessageRow message=row.0 place=row.1/>
                </For>
                <For each=pending key=|m| (m.cid.clone(), m.refused.clone()) let:outgoing>
                    <PendingRow outgoing/>
                </For>
            </ol>
            {view_announcer}
            <p class="typing" data-testid="typing" aria-live="polite">
                {move || {
                    let names: Vec<String> = chat.typing.with(|users| users.iter().map(|u| chat.display_name(u)).collect());
                    typing_line(&names)
                }}
            </p>
            <button
                type="button"
                class="new-messages"
                data-testid="new-messages"
                hidden=move || unseen.get() == 0
                on:click=move |_| to_newest()
            >
                {move || match unseen.get() {
                    1 => words().new_message_one().inner().to_owned(),
                    n => fill(words().new_messages_many().inner(), &[("count", &n.to_string())]),
                }}
            </button>
            <Show when=move || rows.with(Vec::is_empty)>
                <p class="empty">{words().no_messages().inner()}</p>
            </Show>
        </section>
    }
    .into_any()
}

/// In a private room I am in: add someone who is online to it.
#[component]
fn Invite() -> impl IntoView {
    let chat = expect_context::<ChatState>();
    let private_room = move || match chat.active.get() {
        Conversation::Room(room) => {
            chat.rooms.with(|rooms| rooms.iter().any(|r| r.name == room && r.private)).then_some(room)
        }
        Conversation::Direct(_) => None,
    };
    let choice = RwSignal::new(String::new());
    let status = RwSignal::new(None::<String>);
    let candidates = move || {
        let me = chat.me.with(|me| me.as_ref().map(|u| u.id));
        chat.online.with(|online| online.iter().filter(|u| Some(u.id) != me).cloned().collect::<Vec<User>>())
    };
    let actions = use_actions();
    let invite = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (Some(room), Ok(user)) = (private_room(), choice.get_untracked().parse::<i64>()) else { return };
        leptos::task::spawn_local(async move {
            let outcome = actions.invite(room, user).await;
            status.set(Some(outcome.map_or_else(|problem| problem.message, |()| words().invited().inner().to_owned())));
        });
    };
    view! {
        <Show when=move || private_room().is_some()>
            <form class="invite" on:submit=invite>
                <select aria-label=words().invite_label().inner() on:change=move |ev| choice.set(event_target_value(&ev))>
                    <option value="">{words().invite_placeholder().inner()}</option>
                    <For each=candidates key=|user| user.id let:user>
                        <option value=user.id.to_string()>{user.name}</option>
                    </For>
                </select>
                <button type="submit">{words().invite().inner()}</button>
                <span class="invite-status" role="status" data-testid="invite-status">{move || status.get()}</span>
            </form>
        </Show>
    }
}

/// One of my messages the server has not confirmed: pending, or refused
/// with the reason and a way to retry.
#[component]
fn PendingRow(outgoing: Outgoing) -> impl IntoView {
    let chat = expect_context::<ChatState>();
    let name = chat.me.get_untracked().map(|me| me.name).unwrap_or_default();
    let refused = outgoing.refused.clone();
    let failed = refused.is_some();
    let state = if failed { words().not_sent().inner() } else { words().sending().inner() };
    let (retry_cid, discard_cid) = (outgoing.cid.clone(), outgoing.cid.clone());
    let actions = use_actions();
    let retry = move |_| actions.retry(&retry_cid);
    let discard = move |_| {
        chat.discard(&discard_cid);
        actions.return_to_composer();
    };
    view! {
        <li class="message mine pending" class:failed=failed data-testid="pending">
            <div class="meta">
                <span class="from">{name}</span>
                <span class="delivery">{state}</span>
            </div>
            {outgoing
                .media
                .map(|media| view! { <p class="text attachment-name">{icons::paper_clip()} " " {media.name}</p> })}
            {(!outgoing.text.is_empty()).then(|| view! { <div class="text" inner_html=to_html(&outgoing.text)></div> })}
            {refused
                .map(|reason| {
                    view! {
                        <p class="failure" role="alert">
                            {reason}
                            " "
                            <button type="button" on:click=retry>{words().retry().inner()}</button>
                            <button type="button" on:click=discard>{words().discard().inner()}</button>
                        </p>
                    }
                })}
        </li>
    }
}
