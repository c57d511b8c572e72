//! Who is online, counted per user rather than per socket: the same user in
//! two tabs is one online user, and goes offline only when the last of their
//! connections closes.
//!
//! A plain `std::sync::Mutex`: every operation is a short map update, and no
//! caller holds the guard across an `.await`.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use crate::error::ChatError;
use crate::protocol::{User, UserId};

#[derive(Default)]
pub struct Presence {
    online: Mutex<HashMap<UserId, Online>>,
}

struct Online {
    user: User,
    connections: usize,
}

/// Whether an online user other than `claimant` holds `name`. Names compare
/// case-insensitively: `Alice` and `alice` are one name.
fn held_by_other(online: &HashMap<UserId, Online>, name: &str, claimant: Option<UserId>) -> bool {
    let name = name.to_lowercase();
    online.values().any(|o| Some(o.user.id) != claimant && o.user.name.to_lowercase() == name)
}

impl Presence {
    fn lock(&self) -> MutexGuard<'_, HashMap<UserId, Online>> {
        // A poisoned lock only means another thread panicked mid-update of a
        // plain counter map; the data is still usable.
        self.online.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Fails with `name_taken` when another online user holds `name`.
    pub fn check_name_free(&self, name: &str, claimant: Option<UserId>) -> Result<(), ChatError> {
        let online = self.lock();
        if held_by_other(&online, name, claimant) {
            return Err(ChatError::NameTaken);
        }
        Ok(())
    }

    /// Counts one more connection for `user`. Returns true when this is their
    /// first, i.e. they just came online. With `claim_name`, fails instead if
    /// another online user holds the name (checked under the same lock, so two
    /// racing claims cannot both win).
    pub fn connect(&self, user: &User, claim_name: bool) -> Result<bool, ChatError> {
        let mut online = self.lock();
        if claim_name && held_by_other(&online, &user.name, Some(user.id)) {
            return Err(ChatError::NameTaken);
        }
        let entry = online.entry(user.id).or_insert_with(|| Online { user: user.clone(), connections: 0 });
        entry.user.name.clone_from(&user.name);
        entry.connections += 1;
        Ok(entry.connections == 1)
    }

    /// Counts one connection fewer. Returns the user when that was their last.
    pub fn disconnect(&self, user: UserId) -> Option<User> {
        let mut online = self.lock();
        let entry = online.get_mut(&user)?;
        entry.connections = entry.connections.saturating_sub(1);
        if entry.connections == 0 {
            return online.remove(&user).map(|o| o.user);
        }
        None
    }

    /// Records a new display name for an online user, unless another online
    /// user holds it (checked and applied under one lock).
    pub fn rename(&self, user: &User) -> Result<(), ChatError> {
        let mut online = self.lock();
        if held_by_other(&online, &user.name, Some(user.id)) {
            return Err(ChatError::NameTaken);
        }
        if let Some(entry) = online.get_mut(&user.id) {
            entry.user.name.clone_from(&user.name);
        }
        Ok(())
    }

    /// Everyone online, by name.
    pub fn users(&self) -> Vec<User> {
        let mut users: Vec<User> = self.lock().values().map(|o| o.user.clone()).collect();
        users.sort_by(|a, b| a.name.to_lowercase().cmp(&b.name.to_lowercase()).then(a.id.cmp(&b.id)));
        users
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn user(id: i64, name: &str) -> User {
        User { id, name: name.into() }
    }

    #[test]
    fn two_tabs_are_one_online_user() {
        let p = Presence::default();
        assert!(p.connect(&user(1, "alice"), true).unwrap());
        assert!(!p.connect(&user(1, "alice"), true).unwrap());
        assert_eq!(p.users().len(), 1);
        assert_eq!(p.disconnect(1), None);
        assert_eq!(p.disconnect(1), Some(user(1, "alice")));
        assert!(p.users().is_empty());
        assert_eq!(p.disconnect(1), None);
    }

    #[test]
    fn names_are_taken_case_insensitively() {
        let p = Presence::default();
        p.connect(&user(1, "Alice"), true).unwrap();
        assert_eq!(p.connect(&user(2, "alice"), true), Err(ChatError::NameTaken));
        assert_eq!(p.check_name_free("ALICE", None), Err(ChatError::NameTaken));
        assert!(p.check_name_free("alice", Some(1)).is_ok());
        p.disconnect(1);
        assert!(p.connect(&user(2, "alice"), true).unwrap());
    }
}
