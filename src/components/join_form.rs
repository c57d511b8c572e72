//! Picking a display name: a plain form posting to a server function, so it
//! works before the WASM loads (or without JavaScript at all).

use leptos::prelude::*;

use crate::chat_state::ChatState;
use crate::error::ApiError;
use crate::protocol::{User, MAX_NAME_CHARS};

/// Creates a guest identity named `name` and sets the session cookie.
#[server(prefix = "/api", endpoint = "join")]
pub async fn join(name: String) -> Result<User, ApiError> {
    use crate::server::identity::{join_as_guest, request_is_https, session_cookie};
    use crate::server::state::app_state;
    use axum::http::{header, HeaderMap, HeaderValue};

    let state = app_state()?;
    let headers: HeaderMap = leptos_axum::extract().await.unwrap_or_default();
    let (user, token) = join_as_guest(&state, &name).await?;
    let cookie = session_cookie(&token, &state, request_is_https(&headers));
    let cookie = HeaderValue::from_str(&cookie)
        .map_err(|_| ApiError::new("internal", "could not set the session"))?;
    expect_context::<leptos_axum::ResponseOptions>().append_header(header::SET_COOKIE, cookie);
    Ok(user)
}

#[component]
pub fn JoinForm() -> impl IntoView {
    let chat = expect_context::<ChatState>();
    let action = ServerAction::<Join>::new();
    Effect::new(move |_| {
        if let Some(Ok(user)) = action.value().get() {
            chat.me.set(Some(user));
            #[cfg(feature = "hydrate")]
            crate::client::session::reconnect();
        }
    });
    let error = move || match action.value().get() {
        Some(Err(error)) => Some(error.message),
        _ => None,
    };
    view! {
        <ActionForm action=action attr:class="join">
            <label for="join-name">"Pick a name to join the chat"</label>
            <div class="row">
                <input
                    id="join-name"
                    type="text"
                    name="name"
                    required
                    maxlength=MAX_NAME_CHARS.to_string()
                    autocomplete="nickname"
                    placeholder="Your name"
                />
                <button type="submit" disabled=move || action.pending().get()>"Join"</button>
            </div>
            <p class="form-error" role="alert" data-testid="join-error">{error}</p>
        </ActionForm>
    }
}
