//! Who is online, counted per user rather than per socket: the same user in
//! two tabs is one online user, and goes offline only when the last of their
//! connections closes. With several nodes, who is online on each other node
//! is kept beside (`delivery::cluster` fills it): someone with tabs on two
//! nodes is one online user too, and a name held on one node is held on
//! every node.
//!
//! A plain `std::sync::Mutex`: every operation is a short map update, and no
//! caller holds the guard across an `.await`.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use crate::error::ChatError;
use crate::protocol::{by_name, User, UserId};
use crate::server::names::NameKeys;

#[derive(Default)]
pub struct Presence {
    online: Mutex<Online>,
    /// Who is online on each other node (`delivery::cluster`): empty
    /// while this node is alone. Someone online anywhere is online, and
    /// holds their name everywhere. Its own lock, never held with
    /// `online`'s.
    remote: Mutex<Remote>,
}

/// The other nodes' people.
#[derive(Default)]
struct Remote {
    /// By node.
    nodes: HashMap<String, HashMap<UserId, User>>,
    /// Each node's people by both name keys, for name checks.
    names: HashMap<String, Names>,
}

#[derive(Default)]
struct Names {
    folded: HashMap<String, Vec<UserId>>,
    skeletons: HashMap<String, Vec<UserId>>,
    keys: HashMap<UserId, NameKeys>,
}

impl Names {
    fn set(&mut self, user: &User) {
        self.unset(user.id);
        let keys = NameKeys::of(&user.name);
        add(&mut self.folded, &keys.folded, user.id);
        add(&mut self.skeletons, &keys.skeleton, user.id);
        self.keys.insert(user.id, keys);
    }

    fn unset(&mut self, id: UserId) {
        if let Some(keys) = self.keys.remove(&id) {
            remove(&mut self.folded, &keys.folded, id);
            remove(&mut self.skeletons, &keys.skeleton, id);
        }
    }

    fn held_by_other(&self, keys: &NameKeys, claimant: Option<UserId>) -> bool {
        held(&self.folded, &keys.folded, claimant) || held(&self.skeletons, &keys.skeleton, claimant)
    }
}

/// Everyone online, by id and by both name keys (see `server::names`), so
/// checking a name costs two map lookups however many are online.
#[derive(Default)]
struct Online {
    users: HashMap<UserId, OnlineUser>,
    /// Folded name key → the online users who hold it. Usually one; two
    /// when a restored session keeps a name someone else claimed meanwhile.
    folded: HashMap<String, Vec<UserId>>,
    /// Skeleton → the online users who hold it, the same way.
    skeletons: HashMap<String, Vec<UserId>>,
}

struct OnlineUser {
    user: User,
    keys: NameKeys,
    connections: usize,
}

/// Whether anyone but `claimant` holds `key` in `index`.
fn held(index: &HashMap<String, Vec<UserId>>, key: &str, claimant: Option<UserId>) -> bool {
    index.get(key).is_some_and(|holders| holders.iter().any(|id| Some(*id) != claimant))
}

fn add(index: &mut HashMap<String, Vec<UserId>>, key: &str, id: UserId) {
    index.entry(key.to_owned()).or_default().push(id);
}

fn remove(index: &mut HashMap<String, Vec<UserId>>, key: &str, id: UserId) {
    if let Some(holders) = index.get_mut(key) {
        holders.retain(|holder| *holder != id);
        if holders.is_empty() {
            index.remove(key);
        }
    }
}

impl Online {
    /// Whether an online user other than `claimant` holds the name `keys`
    /// (either key).
    fn held_by_other(&self, keys: &NameKeys, claimant: Option<UserId>) -> bool {
        held(&self.folded, &keys.folded, claimant) || held(&self.skeletons, &keys.skeleton, claimant)
    }

    fn index(&mut self, keys: &NameKeys, id: UserId) {
        add(&mut self.folded, &keys.folded, id);
        add(&mut self.skeletons, &keys.skeleton, id);
    }

    fn unindex(&mut self, keys: &NameKeys, id: UserId) {
        remove(&mut self.folded, &keys.folded, id);
        remove(&mut self.skeletons, &keys.skeleton, id);
    }
}

impl Presence {
    fn lock(&self) -> MutexGuard<'_, Online> {
        // A poisoned lock only means another thread panicked mid-update of a
        // plain counter map; the data is still usable.
        self.online.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn remote(&self) -> MutexGuard<'_, Remote> {
        self.remote.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// `id` as online on another node, if they are.
    fn remote_user(&self, id: UserId) -> Option<User> {
        self.remote().nodes.values().find_map(|users| users.get(&id).cloned())
    }

    /// Whether someone other than `claimant` online on another node holds
    /// the name `keys` (as this node last heard).
    fn held_elsewhere(&self, keys: &NameKeys, claimant: Option<UserId>) -> bool {
        self.remote().names.values().any(|names| names.held_by_other(keys, claimant))
    }

    /// Who is online on this node alone (what it tells the others).
    pub fn local_users(&self) -> Vec<User> {
        self.lock().users.values().map(|online| online.user.clone()).collect()
    }

    /// `user` is online on `node` (another one), or no more there. Returns
    /// whether that changes anything of theirs this node knew of `node`.
    pub fn remote_change(&self, node: &str, user: &User, online: bool) -> bool {
        let mut remote = self.remote();
        let Remote { nodes, names } = &mut *remote;
        let users = nodes.entry(node.to_owned()).or_default();
        let names = names.entry(node.to_owned()).or_default();
        if online {
            let changed = users.insert(user.id, user.clone()).as_ref() != Some(user);
            if changed {
                names.set(user);
            }
            changed
        } else {
            names.unset(user.id);
            users.remove(&user.id).is_some()
        }
    }

    /// Everyone online on each other node, as read from all of them at
    /// once (nodes missing from `nodes` are gone). Returns everyone whose
    /// presence on other nodes changed, as they are now or were last.
    pub fn remote_nodes(&self, nodes: HashMap<String, HashMap<UserId, User>>) -> Vec<User> {
        let mut guard = self.remote();
        let Remote { nodes: remote, names } = &mut *guard;
        let mut changed: HashMap<UserId, User> = HashMap::new();
        for (node, users) in remote.iter() {
            let now = nodes.get(node);
            for (id, user) in users {
                if now.and_then(|now| now.get(id)) != Some(user) {
                    changed.insert(*id, user.clone());
                }
            }
        }
        for (node, users) in &nodes {
            let before = remote.get(node);
            for (id, user) in users {
                if before.and_then(|before| before.get(id)) != Some(user) {
                    changed.insert(*id, user.clone());
                }
            }
        }
        // The name index follows, a user at a time where they changed.
        names.retain(|node, _| nodes.contains_key(node));
        for (node, users) in &nodes {
            let index = names.entry(node.clone()).or_default();
            let before = remote.get(node);
            if let Some(before) = before {
                for id in before.keys().filter(|id| !users.contains_key(id)) {
                    index.unset(*id);
                }
            }
            for (id, user) in users {
                if before.and_then(|before| before.get(id)) != Some(user) {
                    index.set(user);
                }
            }
        }
        *remote = nodes;
        changed.into_values().collect()
    }

    /// Fails with `name_taken` when another online user holds `name`.
    pub fn check_name_free(&self, name: &str, claimant: Option<UserId>) -> Result<(), ChatError> {
        let keys = NameKeys::of(name);
        if self.held_elsewhere(&keys, claimant) || self.lock().held_by_other(&keys, claimant) {
            return Err(ChatError::NameTaken);
        }
        Ok(())
    }

    /// Counts one more connection for `user`. Returns true when this is their
    /// first, i.e. they just came online. With `claim_name`, fails instead if
    /// another online user holds the name (checked under the same lock, so two
    /// racing claims cannot both win).
    pub fn connect(&self, user: &User, claim_name: bool) -> Result<bool, ChatError> {
        let key = NameKeys::of(&user.name);
        // Other nodes' people first, under their own lock (a name taken
        // there a moment ago may not be known here yet).
        let elsewhere = claim_name && self.held_elsewhere(&key, Some(user.id));
        let mut online = self.lock();
        if elsewhere || (claim_name && online.held_by_other(&key, Some(user.id))) {
            return Err(ChatError::NameTaken);
        }
        if let Some(entry) = online.users.get_mut(&user.id) {
            entry.connections += 1;
            return Ok(false);
        }
        online.index(&key, user.id);
        online.users.insert(user.id, OnlineUser { user: user.clone(), keys: key, connections: 1 });
        Ok(true)
    }

    /// [`Presence::connect`] under a name the user may not have had online
    /// yet, claimed: fails if another online user holds it; otherwise the
    /// user's other connections, if any, take the name too. One lock for
    /// both, so that no claim can come in between.
    pub fn connect_renamed(&self, user: &User) -> Result<bool, ChatError> {
        let key = NameKeys::of(&user.name);
        let elsewhere = self.held_elsewhere(&key, Some(user.id));
        let mut online = self.lock();
        if elsewhere || online.held_by_other(&key, Some(user.id)) {
            return Err(ChatError::NameTaken);
        }
        let old = match online.users.get_mut(&user.id) {
            Some(entry) => {
                entry.connections += 1;
                entry.user.name.clone_from(&user.name);
                Some(std::mem::replace(&mut entry.keys, key.clone()))
            }
            None => None,
        };
        match old {
            Some(old) => {
                online.unindex(&old, user.id);
                online.index(&key, user.id);
                Ok(false)
            }
            None => {
                online.index(&key, user.id);
                online.users.insert(user.id, OnlineUser { user: user.clone(), keys: key, connections: 1 });
                Ok(true)
            }
        }
    }

    /// Counts one connection fewer. Returns the user when that was their last.
    pub fn disconnect(&self, user: UserId) -> Option<User> {
        let mut online = self.lock();
        let entry = online.users.get_mut(&user)?;
        entry.connections = entry.connections.saturating_sub(1);
        if entry.connections > 0 {
            return None;
        }
        let gone = online.users.remove(&user)?;
        online.unindex(&gone.keys, user);
        Some(gone.user)
    }

    /// Records a new display name for an online user, unless another online
    /// user holds it (checked and applied under one lock).
    pub fn rename(&self, user: &User) -> Result<(), ChatError> {
        self.set_name(user, true)
    }

    /// Gives an online user back a name that was theirs (a rename that
    /// could not be stored), even if someone claimed it meanwhile: as with
    /// a restored session, a name one had stays one's.
    pub fn restore_name(&self, user: &User) {
        let _ = self.set_name(user, false);
    }

    fn set_name(&self, user: &User, claim: bool) -> Result<(), ChatError> {
        let key = NameKeys::of(&user.name);
        let elsewhere = claim && self.held_elsewhere(&key, Some(user.id));
        let mut online = self.lock();
        if elsewhere || (claim && online.held_by_other(&key, Some(user.id))) {
            return Err(ChatError::NameTaken);
        }
        let Some(entry) = online.users.get_mut(&user.id) else { return Ok(()) };
        entry.user.name.clone_from(&user.name);
        let old = std::mem::replace(&mut entry.keys, key.clone());
        online.unindex(&old, user.id);
        online.index(&key, user.id);
        Ok(())
    }

    /// How many of `users` are online (on any node).
    pub fn count_online(&self, users: &[UserId]) -> usize {
        if !self.has_remote() {
            let online = self.lock();
            return users.iter().filter(|id| online.users.contains_key(id)).count();
        }
        let ids = self.online_id_set();
        users.iter().filter(|id| ids.contains(id)).count()
    }

    /// How many users are online (on any node).
    pub fn online_count(&self) -> usize {
        if !self.has_remote() {
            return self.lock().users.len();
        }
        self.online_id_set().len()
    }

    /// Who is online (on any node), in no particular order.
    pub fn online_ids(&self) -> Vec<UserId> {
        if !self.has_remote() {
            return self.lock().users.keys().copied().collect();
        }
        self.online_id_set().into_iter().collect()
    }

    /// Whether anyone is online on another node. When not (a node alone,
    /// always), the queries read this node's map as they did before nodes
    /// were joined, without merging: the presence feed asks for the count
    /// at every flush.
    fn has_remote(&self) -> bool {
        self.remote().nodes.values().any(|users| !users.is_empty())
    }

    fn online_id_set(&self) -> std::collections::HashSet<UserId> {
        let mut ids: std::collections::HashSet<UserId> = self.lock().users.keys().copied().collect();
        ids.extend(self.remote().nodes.values().flat_map(|users| users.keys().copied()));
        ids
    }

    /// Each of `ids` as online now, with their current name, or `None`.
    pub fn online_users(&self, ids: impl Iterator<Item = UserId>) -> Vec<Option<User>> {
        ids.map(|id| self.online_user(id)).collect()
    }

    /// `id` as online now (on any node; this node's name first), with
    /// their current name.
    pub fn online_user(&self, id: UserId) -> Option<User> {
        let here = self.lock().users.get(&id).map(|online| online.user.clone());
        here.or_else(|| self.remote_user(id))
    }

    /// Everyone online (on any node, each once), in the order the browser
    /// keeps them ([`by_name`]). Sorted after the locks are released: at
    /// thousands online the sort is the longest part.
    pub fn users(&self) -> Vec<User> {
        if !self.has_remote() {
            let mut users: Vec<User> = self.local_users();
            users.sort_unstable_by(by_name);
            return users;
        }
        let mut users: HashMap<UserId, User> =
            self.lock().users.values().map(|online| (online.user.id, online.user.clone())).collect();
        for remote in self.remote().nodes.values() {
            for (id, user) in remote {
                users.entry(*id).or_insert_with(|| user.clone());
            }
        }
        let mut users: Vec<User> = users.into_values().collect();
        users.sort_unstable_by(by_name);
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
    fn someone_online_on_another_node_is_online_once() {
        let p = Presence::default();
        assert!(p.connect(&user(1, "alice"), true).unwrap());
        assert!(p.remote_change("b", &user(1, "alice"), true), "alice has a tab on node b too");
        assert!(p.remote_change("b", &user(2, "bob"), true));
        assert!(!p.remote_change("b", &user(2, "bob"), true), "nothing new");
        assert_eq!(p.users(), [user(1, "alice"), user(2, "bob")]);
        assert_eq!((p.online_count(), p.count_online(&[1, 2, 3])), (2, 2));
        assert_eq!(p.disconnect(1), Some(user(1, "alice")), "her last tab here");
        assert_eq!(p.online_user(1), Some(user(1, "alice")), "still online on b");
        assert_eq!(p.local_users(), []);
        // Node b read again: bob renamed, alice gone; node c appeared.
        let nodes = HashMap::from([
            ("b".to_owned(), HashMap::from([(2, user(2, "bobby"))])),
            ("c".to_owned(), HashMap::from([(3, user(3, "carol"))])),
        ]);
        let mut changed = p.remote_nodes(nodes);
        changed.sort_by_key(|u| u.id);
        assert_eq!(changed, [user(1, "alice"), user(2, "bobby"), user(3, "carol")]);
        assert_eq!(p.online_user(1), None);
        assert!(p.remote_nodes(HashMap::new()).len() == 2, "every node gone: bobby and carol");
        assert!(p.users().is_empty());
    }

    #[test]
    fn a_name_held_on_another_node_is_held_here() {
        let p = Presence::default();
        assert!(p.remote_change("b", &user(2, "Bob"), true));
        assert_eq!(p.check_name_free("bob", None), Err(ChatError::NameTaken), "case aside");
        assert_eq!(p.connect(&user(3, "BOB"), true), Err(ChatError::NameTaken));
        assert_eq!(p.check_name_free("bob", Some(2)), Ok(()), "his own name, on this node too");
        // Renamed there, then gone: the name is free again.
        assert!(p.remote_change("b", &user(2, "robert"), true));
        assert_eq!(p.check_name_free("bob", None), Ok(()));
        assert_eq!(p.check_name_free("Robert", None), Err(ChatError::NameTaken));
        let mut nodes = HashMap::new();
        nodes.insert("c".to_owned(), HashMap::from([(4, user(4, "dora"))]));
        p.remote_nodes(nodes);
        assert_eq!(p.check_name_free("robert", None), Ok(()), "node b is gone");
        assert_eq!(p.check_name_free("dora", None), Err(ChatError::NameTaken));
        assert!(p.remote_change("c", &user(4, "dora"), false));
        assert!(p.connect(&user(5, "dora"), true).unwrap());
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

    #[test]
    fn names_compare_after_unicode_normalisation() {
        let p = Presence::default();
        p.connect(&user(1, "alice"), true).unwrap();
        assert_eq!(p.connect(&user(2, "ＡＬＩＣＥ"), true), Err(ChatError::NameTaken));
        // A restored session keeps its name; the name stays held until both go.
        assert!(p.connect(&user(3, "Alice"), false).unwrap());
        p.disconnect(1);
        assert_eq!(p.check_name_free("alice", Some(4)), Err(ChatError::NameTaken));
        p.disconnect(3);
        assert!(p.check_name_free("alice", Some(4)).is_ok());
        // Renaming frees the old name and takes the new one.
        p.connect(&user(5, "carol"), true).unwrap();
        p.rename(&user(5, "dave")).unwrap();
        assert!(p.check_name_free("carol", None).is_ok());
        assert_eq!(p.check_name_free("Dave", None), Err(ChatError::NameTaken));
    }

    #[test]
    fn look_alike_names_are_taken_too() {
        let p = Presence::default();
        p.connect(&user(1, "Olivia2"), true).unwrap();
        assert_eq!(p.connect(&user(2, "Olivіa2"), true), Err(ChatError::NameTaken), "a Cyrillic і");
        assert_eq!(p.check_name_free("0livia2", None), Err(ChatError::NameTaken), "a digit zero");
        p.rename(&user(1, "Alice")).unwrap();
        assert_eq!(p.check_name_free("AIice", None), Err(ChatError::NameTaken), "a capital I");
        assert!(p.check_name_free("Olivіa2", None).is_ok(), "the old name's keys went with it");
    }

    #[test]
    fn the_list_is_in_the_order_the_browser_keeps() {
        let p = Presence::default();
        for (id, name) in [(1, "Zed"), (2, "émile"), (3, "adam"), (4, "Eve"), (5, "Emile")] {
            p.connect(&user(id, name), true).unwrap();
        }
        let names: Vec<String> = p.users().into_iter().map(|u| u.name).collect();
        assert_eq!(names, ["adam", "Emile", "émile", "Eve", "Zed"]);
    }
}
