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
use crate::i18n::{fill, words};
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

/// Signing in, and creating an account behind a disclosure: two forms, so
/// that each password field tells the browser what it is for (a password
/// manager fills `current-password` and offers to make up a
/// `new-password`).
#[component]
pub fn AccountForm() -> impl IntoView {
    let w = words();
    let (login_path, register_path) = (<Login as ServerFn>::PATH, <Register as ServerFn>::PATH);
    let sign_up_refused = super::forms::refused_post(register_path);
    let signing_up = sign_up_refused.is_some();
    let error = super::forms::refused_post(login_path).or(sign_up_refused);
    view! {
        <form class="join account" method="post" action=login_path>
            <label for="account-name">{w.account_or().inner()}</label>
            <div class="row">
                <input id="account-name" type="text" name="name" required maxlength=MAX_NAME_CHARS.to_string()
                    autocomplete="username" placeholder=w.account_name().inner() aria-label=w.account_name().inner()/>
                <input id="account-password" type="password" name="password" required
                    maxlength=MAX_PASSWORD_CHARS.to_string() autocomplete="current-password" placeholder=w.password().inner()
                    aria-label=w.password().inner()/>
                <button type="submit">{w.sign_in().inner()}</button>
            </div>
        </form>
        <details class="sign-up" open=signing_up>
            <summary>{w.sign_up_open().inner()}</summary>
            <form class="join account" method="post" action=register_path>
                <div class="row">
                    <input type="text" name="name" required maxlength=MAX_NAME_CHARS.to_string()
                        autocomplete="username" placeholder=w.account_name().inner() aria-label=w.new_account_name().inner()/>
                    <input type="password" name="password" required maxlength=MAX_PASSWORD_CHARS.to_string() autocomplete="new-password"
                        placeholder=fill(w.new_password_placeholder().inner(), &[("min", &MIN_PASSWORD_CHARS.to_string())])
                        aria-label=w.new_password().inner()/>
                    <button type="submit">{w.create_account().inner()}</button>
                </div>
            </form>
        </details>
        <p class="form-error account-error" role="alert" data-testid="account-error">{error}</p>
    }
}

#[component]
pub fn SignOut() -> impl IntoView {
    let logout_path = <Logout as ServerFn>::PATH;
    view! {
        <form class="sign-out" method="post" action=logout_path>
            <button type="submit">{words().sign_out().inner()}</button>
        </form>
    }
}
