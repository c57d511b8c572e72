//! Registered accounts: sign-up, sign-in and sign-out, with passwords
//! hashed by argon2id (OWASP's parameters, the crate's defaults: 19 MiB,
//! two passes). Hashing is deliberately slow, so it runs on the blocking
//! pool, at most a few at a time, and never on the async runtime.
//!
//! Sign-in answers "wrong name or password" for both an unknown name and a
//! wrong password, and takes as long for either, so it does not reveal
//! which names are registered. Attempts are rate limited per address and
//! per account.

use std::net::IpAddr;
use std::sync::OnceLock;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use tokio::sync::Semaphore;

use super::identity::{check_name_unheld, hash_token, start_session};
use crate::error::ChatError;
use crate::protocol::{validate_name, User, MAX_NAME_CHARS, MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS};
use crate::server::clock::now_ms;
use crate::server::metrics;
use crate::server::names::{name_key, NameKeys};
use crate::server::state::AppState;
use crate::server::store::NewMember;
/// Hashes computed at once; each takes 19 MiB and a core for a moment.
const CONCURRENT_HASHES: usize = 2;
/// Sign-ins and sign-ups with a hash running or waiting for one; past it,
/// the next is told `rate_limited` at once. Sign-in attempts from many
/// addresses (each within its own limit) can then make a few people retry,
/// never a queue that grows until the server runs out of memory.
const HASH_PLACES: usize = 64;

static HASHING: HashQueue = HashQueue::new(CONCURRENT_HASHES, HASH_PLACES);

/// A bounded queue of blocking hashes.
struct HashQueue {
    running: Semaphore,
    places: Semaphore,
}

impl HashQueue {
    const fn new(running: usize, places: usize) -> HashQueue {
        HashQueue { running: Semaphore::const_new(running), places: Semaphore::const_new(places) }
    }

    /// Runs `work` on the blocking pool once a hash may run, or refuses it
    /// at once if every place is taken. The permits travel with the work,
    /// so a request that is dropped while its hash runs still holds its
    /// place until the hash is done.
    async fn run<T: Send + 'static>(&'static self, work: impl FnOnce() -> T + Send + 'static) -> Result<T, ChatError> {
        let place = self.places.try_acquire().map_err(|_| {
            metrics::rate_limited();
            ChatError::RateLimited
        })?;
        let permit = self.running.acquire().await.map_err(|_| ChatError::Internal)?;
        tokio::task::spawn_blocking(move || {
            let done = work();
            drop((permit, place));
            done
        })
        .await
        .map_err(|_| ChatError::Internal)
    }
}

pub fn validate_password(password: &str) -> Result<(), ChatError> {
    let chars = password.chars().count();
    if !(MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&chars) {
        return Err(ChatError::WeakPassword { min: MIN_PASSWORD_CHARS, max: MAX_PASSWORD_CHARS });
    }
    Ok(())
}

/// Runs `work` on the blocking pool, one of [`CONCURRENT_HASHES`] at a
/// time, with at most [`HASH_PLACES`] running or waiting.
async fn hashing<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T, ChatError> {
    HASHING.run(work).await
}

async fn hash_password(password: String) -> Result<String, ChatError> {
    hashing(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default().hash_password(password.as_bytes(), &salt).map(|hash| hash.to_string())
    })
    .await?
    .map_err(|error| {
        tracing::error!(%error, "password hashing failed");
        ChatError::Internal
    })
}

/// A hash of nothing in particular, verified against when the name is
/// unknown so that answer takes as long as a wrong password.
fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default().hash_password(b"decoy password", &salt).map(|hash| hash.to_string()).unwrap_or_default()
    })
}

async fn verify_password(password: String, stored: Option<String>) -> Result<bool, ChatError> {
    hashing(move || {
        let known = stored.is_some();
        let stored = stored.unwrap_or_else(|| decoy_hash().to_owned());
        let matches = PasswordHash::new(&stored)
            .map(|hash| Argon2::default().verify_password(password.as_bytes(), &hash).is_ok())
            .unwrap_or(false);
        known && matches
    })
    .await
}

/// Creates an account and a session for it; returns the user and token.
pub async fn register(
    state: &AppState,
    name: &str,
    password: &str,
    address: Option<IpAddr>,
) -> Result<(User, String), ChatError> {
    let name = validate_name(name)?;
    validate_password(password)?;
    state.limits.address_joins(address)?;
    // An online guest holds it: they would keep using it.
    state.presence.check_name_free(name, None)?;
    // Refuse a taken name before the slow hash; the unique index still
    // settles a race between two sign-ups.
    let keys = NameKeys::of(name);
    check_name_unheld(state, &keys, None).await?;
    let hash = hash_password(password.to_owned()).await?;
    let member = NewMember { name, keys: &keys, password_hash: &hash, at: now_ms() };
    let user = state.store.create_member(member).await?.ok_or(ChatError::NameRegistered)?;
    tracing::info!(user = user.id, "account created");
    let token = start_session(state, &user).await?;
    Ok((user, token))
}

/// Checks a name and password; returns the user and a new session token.
pub async fn login(
    state: &AppState,
    name: &str,
    password: &str,
    address: Option<IpAddr>,
) -> Result<(User, String), ChatError> {
    if name.chars().count() > MAX_NAME_CHARS || password.chars().count() > MAX_PASSWORD_CHARS {
        return Err(ChatError::BadCredentials);
    }
    let key = name_key(name);
    state.limits.login_attempt(address, &key)?;
    let member = state.store.member(&key).await?;
    let (user, stored) = match member {
        Some((user, hash)) => (Some(user), Some(hash)),
        None => (None, None),
    };
    let verified = verify_password(password.to_owned(), stored).await?;
    let user = user.filter(|_| verified).ok_or(ChatError::BadCredentials)?;
    let token = start_session(state, &user).await?;
    Ok((user, token))
}

/// Ends the session behind `token`, and closes the sockets opened with it
/// (other sessions of the same user stay).
pub async fn logout(state: &AppState, token: &str) -> Result<(), ChatError> {
    let hash = hash_token(token);
    state.store.delete_session(&hash).await?;
    state.outbound.close_session(&hash).await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_have_a_length_range() {
        assert!(validate_password("short").is_err());
        assert!(validate_password("eight ch").is_ok());
        assert!(validate_password(&"x".repeat(MAX_PASSWORD_CHARS + 1)).is_err());
        // Characters, not bytes.
        assert!(validate_password("ééééééé").is_err());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_full_hash_queue_refuses_at_once_and_frees_its_places() {
        static QUEUE: HashQueue = HashQueue::new(1, 3);
        let slow = || std::thread::sleep(std::time::Duration::from_millis(200));
        let jobs: Vec<_> = (0..5).map(|_| tokio::spawn(QUEUE.run(slow))).collect();
        let mut outcomes = Vec::new();
        for job in jobs {
            outcomes.push(job.await.map_err(|_| ChatError::Internal).and_then(|done| done));
        }
        assert_eq!(outcomes.iter().filter(|done| done.is_ok()).count(), 3, "{outcomes:?}");
        assert_eq!(outcomes.iter().filter(|done| **done == Err(ChatError::RateLimited)).count(), 2, "{outcomes:?}");
        // Every place is free again.
        assert_eq!(QUEUE.run(|| 7).await, Ok(7));
        assert_eq!(QUEUE.places.available_permits(), 3);
    }

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let hash = hash_password("correct horse".into()).await.unwrap_or_default();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(verify_password("correct horse".into(), Some(hash.clone())).await.unwrap_or(false));
        assert!(!verify_password("wrong horse".into(), Some(hash)).await.unwrap_or(true));
        assert!(!verify_password("decoy password".into(), None).await.unwrap_or(true));
    }
}
