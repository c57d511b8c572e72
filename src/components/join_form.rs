//! Picking a display name.
//!
//! With the WASM loaded, the form goes `online` over the socket (the public
//! contract), then hands the session token to [`adopt_session`] so an
//! HttpOnly cookie keeps the identity across reloads. Without JavaScript the
//! same form posts to [`join`], which sets the cookie and redirects back;
//! its errors come back in the URL and show in the same place.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;

use crate::chat_state::ChatState;
use crate::error::ApiError;
use crate::protocol::{User, MAX_NAME_CHARS};

/// Creates a guest identity named `name` and sets the session cookie (the
/// path for browsers without JavaScript).
#[server(prefix = "/api", endpoint = "join")]
pub async fn join(name: String) -> Result<User, ApiError> {
    use crate::server::identity::{join_as_guest, request_address, set_session_cookie};
    use crate::server::state::app_state;

    let state = app_state()?;
    let (user, token) = join_as_guest(&state, &name, request_address().await).await?;
    set_session_cookie(&state, &token).await?;
    Ok(user)
}

/// Turns a session token (from an `online` ack) into the HttpOnly session
/// cookie, which JavaScript cannot set or read itself.
#[server(prefix = "/api", endpoint = "adopt_session")]
pub async fn adopt_session(token: String) -> Result<User, ApiError> {
    use crate::error::ChatError;
    use crate::server::identity::{internal, set_session_cookie, user_for_token};
    use crate::server::state::app_state;

    let state = app_state()?;
    let user = user_for_token(&state, &token).await.map_err(internal)?.ok_or(ChatError::InvalidSession)?;
    set_session_cookie(&state, &token).await?;
    Ok(user)
}

/// [`adopt_session`] from the browser: a `fetch` POST with a form-encoded
/// body that asks for JSON (so the server function answers, where a browser
/// form would be redirected back). The generated client would bring leptos'
/// whole server-function client into the bundle for this one call
/// (docs/performance.md, finding 23).
#[cfg(feature = "hydrate")]
pub async fn adopt_session_cookie(token: &str) -> Result<(), ApiError> {
    let failed = |why: String| ApiError::new("request_failed", format!("Could not keep you signed in: {why}"));
    let response = gloo_net::http::Request::post(<AdoptSession as ServerFn>::PATH)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "application/json")
        .body(format!("token={}", String::from(js_sys::encode_uri_component(token))))
        .map_err(|e| failed(e.to_string()))?
        .send()
        .await
        .map_err(|e| failed(e.to_string()))?;
    if response.ok() {
        return Ok(());
    }
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    Err(serde_json::from_str::<ApiError>(&body).unwrap_or_else(|_| failed(format!("the server answered {status}"))))
}

#[component]
pub fn JoinForm() -> impl IntoView {
    let chat = expect_context::<ChatState>();
    let refused = crate::app::refused_post(<Join as ServerFn>::PATH);
    let error = RwSignal::new(None::<String>);
    let pending = RwSignal::new(false);
    let name_input: NodeRef<leptos::html::Input> = NodeRef::new();

    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        #[cfg(feature = "hydrate")]
        {
            ev.prevent_default();
            let Some(name) = name_input.get_untracked().map(|input| input.value()) else { return };
            pending.set(true);
            error.set(None);
            leptos::task::spawn_local(async move {
                if let Err(problem) = crate::client::session::go_online(chat, name).await {
                    error.set(Some(problem.message));
                }
                pending.set(false);
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (ev, chat, name_input);
    };
    let shown_error = move || error.get().or_else(|| refused.clone());
    let join_path = <Join as ServerFn>::PATH;
    view! {
        <form class="join" method="post" action=join_path on:submit=on_submit>
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
                    node_ref=name_input
                />
                <button type="submit" disabled=move || pending.get()>"Join"</button>
            </div>
            <p class="form-error" role="alert" data-testid="join-error">{shown_error}</p>
        </form>
    }
}
