//! When each user was last seen: noted in memory as their last connection
//! closes, and written to the store every few seconds, all in one
//! transaction. A crowd going at once (a restart, a network blip) then
//! costs a write or two, not one write each competing with the messages'
//! commits. A member list reads the notes not written yet too.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use crate::protocol::UserId;
use crate::server::store::Store;

/// Notes kept between writes at most; past it a note waits for the next
/// user to go, which is harmless (last seen is a courtesy, not a record).
const MAX_PENDING: usize = 100_000;
/// How often the notes are written.
pub const WRITE_EVERY: Duration = Duration::from_secs(2);

#[derive(Default)]
pub struct LastSeen {
    pending: Mutex<HashMap<UserId, i64>>,
}

impl LastSeen {
    fn lock(&self) -> MutexGuard<'_, HashMap<UserId, i64>> {
        // A poisoned lock only means a panic mid-insert of a plain map.
        self.pending.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// `user`'s last connection closed at `at`.
    pub fn note(&self, user: UserId, at: i64) {
        let mut pending = self.lock();
        if pending.len() < MAX_PENDING || pending.contains_key(&user) {
            pending.insert(user, at);
        }
    }

    /// A note about `user` not written yet.
    pub fn unwritten(&self, user: UserId) -> Option<i64> {
        self.lock().get(&user).copied()
    }

    /// Writes the notes taken so far, in one transaction; on failure they
    /// are dropped (and logged), never retried forever.
    pub async fn write(&self, store: &dyn Store) {
        let notes: Vec<(UserId, i64)> = std::mem::take(&mut *self.lock()).into_iter().collect();
        if notes.is_empty() {
            return;
        }
        if let Err(error) = store.set_last_seen(&notes).await {
            tracing::warn!(%error, users = notes.len(), "could not note when users were last seen");
        }
    }

    /// Every [`WRITE_EVERY`], for the server's life.
    pub async fn write_every(self: Arc<Self>, store: Arc<dyn Store>) {
        crate::server::clock::every(WRITE_EVERY, || self.write(store.as_ref())).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_keep_the_latest_time_per_user() {
        let seen = LastSeen::default();
        seen.note(1, 10);
        seen.note(1, 20);
        seen.note(2, 15);
        assert_eq!(seen.unwritten(1), Some(20));
        assert_eq!(seen.unwritten(3), None);
        assert_eq!(seen.lock().len(), 2);
    }
}
