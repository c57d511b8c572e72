//! The connection badge in the header: connected, reconnecting or offline.

use leptos::prelude::*;

use crate::chat_state::ChatState;

#[component]
pub fn ConnectionStatus() -> impl IntoView {
    let chat = expect_context::<ChatState>();
    view! {
        <span
            class="status"
            data-testid="connection-status"
            data-state=move || chat.status.get().key()
            role="status"
            aria-live="polite"
        >
            <span class="dot" aria-hidden="true"></span>
            {move || chat.status.get().label()}
        </span>
    }
}
