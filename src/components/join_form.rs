//! Picking a display name.
//!
//! With the WASM loaded, the form goes `online` over the socket (the public
//! contract), then hands the session token to [`adopt_session`] so an
//! HttpOnly cookie keeps the identity across reloads (`client::session`).
//! Without JavaScript the same form posts to [`join`], which sets the
//! cookie and redirects back; its errors come back in the URL and show in
//! the same place.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;

use crate::actions::{use_actions, ChatActions};
use crate::error::ApiError;
use crate::i18n::words;
#[cfg(doc)]
use crate::protocol::ADOPT_SESSION_PATH;
use crate::protocol::{User, MAX_NAME_CHARS};

/// Creates a guest identity named `name` and sets the session cookie (the
/// path for browsers without JavaScript).
#[server(prefix = "/api", endpoint = "join")]
pub async fn join(name: String) -> Result<User, ApiError> {
    use crate::server::chat::identity::{join_as_guest, request_address, set_session_cookie};
    use crate::server::state::app_state;

    let state = app_state()?;
    let (user, token) = join_as_guest(&state, &name, request_address().await).await?;
    set_session_cookie(&state, &token).await?;
    Ok(user)
}

/// Turns a session token (from an `online` ack) into the HttpOnly session
/// cookie, which JavaScript cannot set or read itself. The browser calls it
/// at [`ADOPT_SESSION_PATH`] (`client::session`).
#[server(prefix = "/api", endpoint = "adopt_session")]
pub async fn adopt_session(token: String) -> Result<User, ApiError> {
    use crate::error::ChatError;
    use crate::server::chat::identity::{set_session_cookie, user_for_token};
    use crate::server::state::app_state;

    let state = app_state()?;
    let user = user_for_token(&state, &token).await?.ok_or(ChatError::InvalidSession)?;
    set_session_cookie(&state, &token).await?;
    Ok(user)
}

#[component]
pub fn JoinForm() -> impl IntoView {
    let actions = use_actions();
    let refused = super::forms::refused_post(<Join as ServerFn>::PATH);
    let error = RwSignal::new(None::<String>);
    let pending = RwSignal::new(false);
    let name_input: NodeRef<leptos::html::Input> = NodeRef::new();

    // With the WASM loaded, the name goes over the socket; without it, the
    // form posts itself (no handler runs then).
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(name) = name_input.get_untracked().map(|input| input.value()) else { return };
        pending.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            if let Err(problem) = actions.go_online(name).await {
                error.set(Some(problem.message));
            }
            pending.set(false);
        });
    };
    let shown_error = move || error.get().or_else(|| refused.clone());
    let join_path = <Join as ServerFn>::PATH;
    let w = words();
    view! {
        <form class="join" method="post" action=join_path on:submit=on_submit>
            <label for="join-name">{w.join_label().inner()}</label>
            <div class="row">
                <input
                    id="join-name"
                    type="text"
                    name="name"
                    required
                    maxlength=MAX_NAME_CHARS.to_string()
                    autocomplete="nickname"
                    placeholder=w.join_placeholder().inner()
                    node_ref=name_input
                />
                <button type="submit" disabled=move || pending.get()>{w.join_button().inner()}</button>
            </div>
            <p class="form-error" role="alert" data-testid="join-error">{shown_error}</p>
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_browser_finds_adopt_session_where_it_is_served() {
        assert_eq!(<AdoptSession as ServerFn>::PATH, crate::protocol::ADOPT_SESSION_PATH);
    }
}
