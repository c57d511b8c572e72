//! Registered accounts in the UI: the sign-in / create-account form and the
//! sign-out button, with the server functions they post to.
//!
//! Both are plain HTML forms that the browser submits itself, with or
//! without JavaScript: the server function sets or clears the session
//! cookie and redirects back, and the page reloads as the new identity
//! (its socket reconnects with the new cookie). A refusal comes back in the
//! redirect and shows in the form.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;

use crate::error::ApiError;
use crate::protocol::{User, MAX_NAME_CHARS, MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS};

/// Creates an account and signs it in.
#[server(prefix = "/api", endpoint = "register")]
pub async fn register(name: String, password: String) -> Result<User, ApiError> {
    use crate::server::chat::accounts;
    use crate::server::chat::identity::{request_address, set_session_cookie};
    use crate::server::state::app_state;

    let state = app_state()?;
    let (user, token) = accounts::register(&state, &name, &password, request_address().await).await?;
    set_session_cookie(&state, &token).await?;
    Ok(user)
}

/// Signs in to an existing account.
#[server(prefix = "/api", endpoint = "login")]
pub async fn login(name: String, password: String) -> Result<User, ApiError> {
    use crate::server::chat::accounts;
    use crate::server::chat::identity::{request_address, set_session_cookie};
    use crate::server::state::app_state;

    let state = app_state()?;
    let (user, token) = accounts::login(&state, &name, &password, request_address().await).await?;
    set_session_cookie(&state, &token).await?;
    Ok(user)
}

/// Ends this browser's session: the token is revoked on the server and the
/// cookie cleared.
#[server(prefix = "/api", endpoint = "logout")]
pub async fn logout() -> Result<(), ApiError> {
    use crate::server::chat::accounts;
    use crate::server::chat::identity::{clear_session_cookie, request_token};
    use crate::server::state::app_state;

    let state = app_state()?;
    if let Some(token) = request_token(&state).await {
        accounts::logout(&state, &token).await?;
    }
    clear_session_cookie(&state).await
}

#[component]
pub fn AccountForm() -> impl IntoView {
    let (login_path, register_path) = (<Login as ServerFn>::PATH, <Register as ServerFn>::PATH);
    let error = super::forms::refused_post(login_path).or_else(|| super::forms::refused_post(register_path));
    view! {
        <form class="join account" method="post" action=login_path>
            <label for="account-name">"Or use an account"</label>
            <div class="row">
                <input
                    id="account-name"
                    type="text"
                    name="name"
                    required
                    maxlength=MAX_NAME_CHARS.to_string()
                    autocomplete="username"
                    placeholder="Account name"
                    aria-label="Account name"
                />
                <input
                    id="account-password"
                    type="password"
                    name="password"
                    required
                    maxlength=MAX_PASSWORD_CHARS.to_string()
                    autocomplete="current-password"
                    placeholder=format!("Password ({MIN_PASSWORD_CHARS} characters or more)")
                    aria-label="Password"
                />
            </div>
            <div class="row">
                <button type="submit">"Sign in"</button>
                <button type="submit" class="secondary" formaction=register_path>"Create account"</button>
            </div>
            <p class="form-error" role="alert" data-testid="account-error">{error}</p>
        </form>
    }
}

#[component]
pub fn SignOut() -> impl IntoView {
    let logout_path = <Logout as ServerFn>::PATH;
    view! {
        <form class="sign-out" method="post" action=logout_path>
            <button type="submit">"Sign out"</button>
        </form>
    }
}
