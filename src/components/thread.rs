//! A thread beside the conversation: its root, its replies, and a composer
//! of its own, whose replies can go to the conversation as well. Replies
//! are the conversation's messages like any other (they arrive, resume and
//! change the same way); the conversation shows only those sent there too.

use leptos::prelude::*;

use super::message::{row_key, MessageRow, Place};
use crate::actions::{use_actions, ChatActions};
use crate::chat_state::ChatState;
use crate::i18n::{input_refusal, words};
use crate::protocol::{validate_text, Message};

#[component]
pub fn ThreadPanel() -> impl IntoView {
    let chat = expect_context::<ChatState>();
    let actions = use_actions();
    // The root and its replies, in seq order, from what I hold.
    let shown = Memo::new(move |_| -> Vec<Message> {
        let (Some(root), Some(id)) = (chat.thread.get(), chat.active_id()) else { return Vec::new() };
        chat.messages.with(|all| {
            let held = all.get(&id).map(Vec::as_slice).unwrap_or_default();
            held.iter().filter(|m| m.id == root || m.in_thread.is_some_and(|t| t.root == root)).cloned().collect()
        })
    });
    // Opening a thread loads the replies I do not hold.
    Effect::new(move |_| {
        if let Some(root) = chat.thread.get() {
            leptos::task::spawn_local(async move { actions.load_thread(root).await });
        }
    });
    let draft = chat.thread_draft;
    let also = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let send = move || {
        let Some(root) = chat.thread.get_untracked() else { return };
        let text = draft.get_untracked();
        let answer = match validate_text(&text) {
            Err(problem) => Some(input_refusal(&problem)),
            Ok(text) if !actions.send_in_thread(text.to_owned(), root, also.get_untracked()) => {
                Some(words().outbox_full().inner().to_owned())
            }
            Ok(_) => {
                draft.set(String::new());
                None
            }
        };
        error.set(answer);
    };
    // Focus goes back to the conversation's composer.
    let close = move || {
        chat.show_thread(None);
        actions.return_to_composer();
    };
    view! {
        <Show when=move || chat.thread.with(Option::is_some)>
            // Esc closes it, unless it closed a message's menu first.
            <aside class="thread-panel" data-testid="thread" aria-label=words().thread().inner() on:keydown=move |ev| {
                if ev.key() == "Escape" && !ev.default_prevented() {
                    close();
                } else if ev.key() == "Tab" && actions.is_shown(".drawer-toggle") {
                    // On a phone it covers the conversation: the focus
                    // stays in it (Esc leaves), never on what it hides.
                    actions.keep_tab_within(&ev, "[data-testid=thread]");
                }
            }>
                <header>
                    <h3>{words().thread().inner()}</h3>
                    <button type="button" aria-label=words().close_thread().inner() on:click=move |_| close()>"×"</button>
                </header>
                <ol
                    class="messages thread-messages"
                    tabindex="0"
                    aria-label=words().thread().inner()
                    on:click=move |ev| actions.message_click(&ev)
                    on:keydown=move |ev| actions.message_key(&ev)
                    on:submit=move |ev| actions.submit_change(&ev)
                >
                    <For each=move || shown.get() key=|m| row_key(m, Place::default()) let:message>
                        <MessageRow message place=Default::default()/>
                    </For>
                </ol>
                <form class="composer thread-composer" on:submit=move |ev| {
                    ev.prevent_default();
                    send();
                }>
                    <textarea
                        rows="1"
                        aria-label=words().reply_in_thread_label().inner()
                        placeholder=words().reply_placeholder().inner()
                        data-testid="thread-composer"
                        prop:value=move || draft.get()
                        on:input=move |ev| draft.set(event_target_value(&ev))
                        on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                            if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() {
                                ev.prevent_default();
                                send();
                            }
                        }
                    ></textarea>
                    <button type="submit">{words().reply().inner()}</button>
                    <label class="also">
                        <input type="checkbox" prop:checked=move || also.get() on:change=move |ev| also.set(event_target_checked(&ev))/>
                        {words().also_to_conversation().inner()}
                    </label>
                    <p class="form-error" role="alert">{move || error.get()}</p>
                </form>
            </aside>
        </Show>
    }
}
