//! Writing a message: Enter sends, Shift+Enter starts a new line. Empty or
//! too-long text is caught here with a clear message; whatever the server
//! refuses is shown the same way and the text is kept.

use leptos::prelude::*;

use crate::chat_state::{ChatState, Conversation};
use crate::protocol::{validate_text, MAX_TEXT_CHARS};

#[component]
pub fn Composer() -> impl IntoView {
    let chat = expect_context::<ChatState>();
    let text = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let sending = RwSignal::new(false);

    // The last send that was not confirmed: sending the same draft to the
    // same place again reuses its cid, so a retry is never stored twice.
    #[cfg(feature = "hydrate")]
    let unconfirmed = StoredValue::new(None::<(String, Conversation, String)>);

    let submit = move || {
        if sending.get_untracked() {
            return;
        }
        let draft = text.get_untracked();
        if let Err(problem) = validate_text(&draft) {
            error.set(Some(problem.to_string()));
            return;
        }
        error.set(None);
        #[cfg(feature = "hydrate")]
        {
            sending.set(true);
            let target = chat.active.get_untracked();
            let cid = unconfirmed
                .with_value(|last| match last {
                    Some((text, to, cid)) if *text == draft && *to == target => Some(cid.clone()),
                    _ => None,
                })
                .unwrap_or_else(crate::client::session::new_cid);
            unconfirmed.set_value(Some((draft.clone(), target.clone(), cid.clone())));
            leptos::task::spawn_local(async move {
                match crate::client::session::send(target, draft.clone(), cid).await {
                    Ok(()) => {
                        unconfirmed.set_value(None);
                        // Keep anything typed while we waited.
                        text.update(|t| {
                            if *t == draft {
                                t.clear();
                            }
                        });
                    }
                    Err(problem) => error.set(Some(problem.message)),
                }
                sending.set(false);
            });
        }
    };
    let placeholder = move || match chat.active.get() {
        Conversation::Lobby => "Message #lobby".to_owned(),
        Conversation::Direct(peer) => format!("Private message to {}", peer.name),
    };
    let remaining = move || MAX_TEXT_CHARS as i64 - text.with(|t| t.chars().count()) as i64;
    let near_limit = move || remaining() < 200;
    let over_limit = move || remaining() < 0;
    view! {
        <form class="composer" on:submit=move |ev| {
            ev.prevent_default();
            submit();
        }>
            <textarea
                name="text"
                rows="1"
                data-testid="composer"
                aria-label="Message"
                placeholder=placeholder
                prop:value=move || text.get()
                on:input=move |ev| {
                    text.set(event_target_value(&ev));
                    if error.with_untracked(Option::is_some) {
                        error.set(None);
                    }
                }
                on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                    if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() {
                        ev.prevent_default();
                        submit();
                    }
                }
            ></textarea>
            <button type="submit" disabled=move || sending.get()>"Send"</button>
            <Show when=near_limit>
                <span class="remaining" class:over=over_limit>{remaining}</span>
            </Show>
            <p class="form-error" role="alert" data-testid="composer-error">{move || error.get()}</p>
        </form>
    }
}
