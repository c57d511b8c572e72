//! Who is who: guest sign-up, session tokens, and turning a token or the
//! session cookie back into a user.
//!
//! Tokens are 256 random bits, shown to the client once and stored only as
//! their SHA-256, so a leaked database does not leak live sessions.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::http::HeaderMap;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::error::{code, ApiError, ChatError};
use crate::protocol::{validate_name, User, UserId};
use crate::server::clock::now_ms;
use crate::server::config::Config;
use crate::server::delivery::wire::Peer;
use crate::server::names::NameKeys;
use crate::server::socket::presence::Presence;
use crate::server::socket::seat::Seat;
use crate::server::state::AppState;
use crate::server::store::{NameHolder, NewGuest, Store, StoreResult};

/// The session cookie's name; `__Host-` prefixed when people reach RTCA
/// over https (`RTCA_PUBLIC_URL`): the browser then keeps it only if it is
/// `Secure`, for this host and every path, so no other site on the domain
/// or plain-http page can plant one.
pub fn session_cookie(config: &Config) -> &'static str {
    if config.https() {
        "__Host-rtca_session"
    } else {
        "rtca_session"
    }
}

pub fn hash_token(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// The peer address of the request a server function is serving.
pub async fn request_address() -> Option<IpAddr> {
    leptos_axum::extract::<ConnectInfo<Peer>>().await.ok().map(|ConnectInfo(peer)| peer.addr.ip())
}

/// Creates a guest user named `name` with a new session; returns the user
/// and the session token. Refuses a name held by another online user, an
/// account, or a guest whose session is live.
pub async fn join_as_guest(state: &AppState, name: &str, address: Option<IpAddr>) -> Result<(User, String), ChatError> {
    if !state.config.allow_guests {
        return Err(ChatError::GuestsDisabled);
    }
    let name = validate_name(name)?;
    state.presence.check_name_free(name, None)?;
    state.limits.address_joins(address)?;
    let keys = NameKeys::of(name);
    check_name_unheld(state, &keys, None).await?;
    let now = now_ms();
    let token = new_token();
    let guest =
        NewGuest { name, keys: &keys, at: now, token_hash: &hash_token(&token), expires_at: expires(state, now) };
    let user = state.store.create_guest_with_session(guest).await?;
    Ok((user, token))
}

/// Renames the guest `current` (seated at `seat`) to `name`, in presence
/// and in the store: both, or neither. Registered accounts keep their
/// name, and no guest takes a registered one.
pub async fn rename(state: &AppState, seat: &Seat, current: &User, name: &str) -> Result<User, ChatError> {
    // One rename at a time: two racing renames of one user (two tabs, or
    // two events on one socket) could otherwise undo each other's name in
    // presence while the store keeps the other. Renames are rare (and
    // limited per connection), and each is one short write.
    static RENAMING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    let _one_at_a_time = RENAMING.lock().await;
    if state.store.is_registered(current.id).await? {
        return Err(ChatError::MemberRename);
    }
    let keys = NameKeys::of(name);
    check_name_unheld(state, &keys, Some(current.id)).await?;
    let renamed = User { id: current.id, name: name.to_owned() };
    // Claimed in presence first, under its lock, so that two racing claims
    // of one name cannot both win; given back if the store fails, so that
    // live messages and history never carry different names.
    seat.rename(&renamed, &state.presence)?;
    if let Err(error) = state.store.rename_user(renamed.id, name, &keys).await {
        seat.restore_name(current, &state.presence);
        return Err(error.into());
    }
    Ok(renamed)
}

/// When a session started at `now` ends.
fn expires(state: &AppState, now: i64) -> i64 {
    let ttl = i64::try_from(state.config.session_ttl.as_millis()).unwrap_or(i64::MAX);
    now.saturating_add(ttl)
}

/// Fails with `name_registered` if an account holds the name `keys`, and
/// with `name_taken` if a guest other than `except` does while their
/// session is live: a guest who went offline comes back to their name,
/// not to an impostor's.
pub async fn check_name_unheld(state: &AppState, keys: &NameKeys, except: Option<UserId>) -> Result<(), ChatError> {
    match state.store.name_holder(keys, except, now_ms()).await? {
        Some(NameHolder::Member) => Err(ChatError::NameRegistered),
        Some(NameHolder::Guest) => Err(ChatError::NameTaken),
        None => Ok(()),
    }
}

/// A new session token for an existing user.
pub async fn start_session(state: &AppState, user: &User) -> StoreResult<String> {
    let token = new_token();
    let now = now_ms();
    state.store.create_session(&hash_token(&token), user.id, now, expires(state, now)).await?;
    Ok(token)
}

/// The session `known` renewed, if it is `user`'s and live; otherwise a
/// new one. An `online` repeated on an identified socket must not mint a
/// session each time: they would pile up for a month each.
pub async fn renew_session(state: &AppState, user: &User, known: Option<&str>) -> StoreResult<String> {
    if let Some(known) = known {
        let now = now_ms();
        let hash = hash_token(known);
        let theirs = state.store.session_user(&hash, now).await?.is_some_and(|owner| owner.id == user.id);
        if theirs && state.store.renew_session(&hash, now, expires(state, now)).await? {
            return Ok(known.to_owned());
        }
    }
    start_session(state, user).await
}

/// How old a guest must be before the sweep may forget them: a guest and
/// their first session are made in one commit, so this only spares the
/// moments around it from any doubt.
const GUEST_GRACE: Duration = Duration::from_secs(3600);

/// Every `every`, for the server's life: forgets expired sessions, then
/// the guests nobody can speak for any more (see
/// `IdentityStore::delete_abandoned_guests`), so neither table only grows.
pub async fn sweep_identities(store: Arc<dyn Store>, presence: Arc<Presence>, every: Duration) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        match store.delete_expired_sessions(now_ms()).await {
            Ok(0) => {}
            Ok(sessions) => tracing::info!(sessions, "forgot expired sessions"),
            Err(error) => tracing::warn!(%error, "the session sweep failed; it will try again"),
        }
        let created_before = now_ms().saturating_sub(i64::try_from(GUEST_GRACE.as_millis()).unwrap_or(i64::MAX));
        match store.delete_abandoned_guests(created_before, &presence.online_ids()).await {
            Ok(0) => {}
            Ok(guests) => tracing::info!(guests, "forgot guests with no session who never posted"),
            Err(error) => tracing::warn!(%error, "the guest sweep failed; it will try again"),
        }
    }
}

/// The user behind a token, if the session is live.
pub async fn user_for_token(state: &AppState, token: &str) -> StoreResult<Option<User>> {
    if token.is_empty() || token.len() > 128 {
        return Ok(None);
    }
    state.store.session_user(&hash_token(token), now_ms()).await
}

/// The session token in a request's `Cookie` header (the cookie named
/// `name`: see [`session_cookie`]), if any.
pub fn token_from_headers(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find_map(|value| crate::preferences::cookie_value(value, name))
        .map(str::to_owned)
}

/// The user a plain HTTP request (an upload, a media download) speaks
/// for: `Authorization: Bearer <token>` from clients outside a browser, or
/// else the session cookie.
pub async fn http_user(state: &AppState, headers: &HeaderMap) -> Result<Option<User>, ChatError> {
    let bearer = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(|token| token.trim().to_owned());
    let cookie = session_cookie(&state.config);
    let Some(token) = bearer.or_else(|| token_from_headers(headers, cookie)) else { return Ok(None) };
    Ok(user_for_token(state, &token).await?)
}

/// The user whose session cookie came with the current server-function or
/// page request, if any.
pub async fn request_user(state: &AppState) -> Result<Option<User>, ApiError> {
    let headers: HeaderMap = leptos_axum::extract()
        .await
        .map_err(|e| ApiError::new(code::BAD_REQUEST, format!("unreadable request: {e}")))?;
    let Some(token) = token_from_headers(&headers, session_cookie(&state.config)) else {
        return Ok(None);
    };
    Ok(user_for_token(state, &token).await?)
}

/// Sets the session cookie on the current server-function response:
/// HttpOnly and SameSite=Lax, and Secure when people reach us over https
/// (`RTCA_PUBLIC_URL`, or a proxy that says so).
pub async fn set_session_cookie(state: &AppState, token: &str) -> Result<(), ApiError> {
    write_session_cookie(&state.config, token, state.config.session_ttl.as_secs()).await
}

/// Tells the browser to forget the session cookie (sign-out).
pub async fn clear_session_cookie(state: &AppState) -> Result<(), ApiError> {
    write_session_cookie(&state.config, "", 0).await
}

/// The session token the current server-function request carries, if any.
pub async fn request_token(state: &AppState) -> Option<String> {
    let headers: HeaderMap = leptos_axum::extract().await.ok()?;
    token_from_headers(&headers, session_cookie(&state.config))
}

async fn write_session_cookie(config: &Config, token: &str, max_age: u64) -> Result<(), ApiError> {
    let headers: HeaderMap = leptos_axum::extract().await.unwrap_or_default();
    let proxied_https = headers.get("x-forwarded-proto").and_then(|v| v.to_str().ok()) == Some("https");
    let secure = if config.https() || proxied_https { "; Secure" } else { "" };
    let name = session_cookie(config);
    let cookie = format!("{name}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}");
    let cookie = axum::http::HeaderValue::from_str(&cookie)
        .map_err(|_| ApiError::new(code::INTERNAL, "could not set the session cookie"))?;
    let response = leptos::prelude::use_context::<leptos_axum::ResponseOptions>()
        .ok_or_else(|| ApiError::new(code::INTERNAL, "could not set the session cookie"))?;
    response.append_header(axum::http::header::SET_COOKIE, cookie);
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn tokens_are_long_random_and_hash_stably() {
        let (a, b) = (new_token(), new_token());
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert_eq!(hash_token(&a), hash_token(&a));
        assert_ne!(hash_token(&a), hash_token(&b));
    }

    #[test]
    fn finds_the_session_cookie_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(axum::http::header::COOKIE, "a=1; rtca_session=tok; b=2".parse().unwrap());
        assert_eq!(token_from_headers(&headers, "rtca_session").as_deref(), Some("tok"));
        assert_eq!(token_from_headers(&headers, "__Host-rtca_session"), None, "a plain cookie under https");
        assert_eq!(token_from_headers(&HeaderMap::new(), "rtca_session"), None);
    }
}
