//! Who is online, in the browser: the server's list, then its changes,
//! batched and numbered (`version`) or one event each (a server that does
//! not batch). A skipped batch is a gap the session fills by asking for the
//! list again.

use leptos::prelude::*;

use super::{ChatState, Gap};
use crate::protocol::{by_name, PresenceChanges, PresenceList, User};

impl ChatState {
    /// The people who go by the same name as someone else I can see now:
    /// who is online, and my private conversations. Names are kept apart
    /// on the server, but a restored session keeps its name, and a
    /// conversation keeps the name of a guest long gone. (Not every
    /// message's author: that would be work on every message.)
    pub(super) fn find_namesakes(&self) -> Vec<User> {
        let mut people = self.online.get();
        self.conversations.with(|list| people.extend(list.iter().map(|c| c.with.clone())));
        // The list's own order: one name's people side by side.
        people.sort_unstable_by(by_name);
        people.dedup_by(|a, b| a.id == b.id);
        let named_alike = |at: usize, other: Option<usize>| {
            other.and_then(|o| people.get(o)).is_some_and(|o| o.name == people[at].name)
        };
        (0..people.len())
            .filter(|&at| named_alike(at, at.checked_sub(1)) || named_alike(at, Some(at + 1)))
            .map(|at| people[at].clone())
            .collect()
    }

    /// Keeps [`ChatState::namesakes`] current, from the first render on.
    pub(super) fn follow_namesakes(&self) {
        let chat = *self;
        chat.namesakes.set(untrack(|| chat.find_namesakes()));
        Effect::new(move |_| {
            let now = chat.find_namesakes();
            if chat.namesakes.with_untracked(|known| *known != now) {
                chat.namesakes.set(now);
            }
        });
    }

    /// `user`'s name as shown: with their id when someone else I can see
    /// goes by the same name ("Alicia #17"), so the two are told apart.
    pub fn display_name(&self, user: &User) -> String {
        if self.namesakes.with(|people| people.iter().any(|other| other.name == user.name)) {
            format!("{} #{}", user.name, user.id)
        } else {
            user.name.clone()
        }
    }

    pub(super) fn set_presence(&self, list: PresenceList) {
        self.presence_version.set_value(Some(list.version));
        self.online.set(list.users);
    }

    /// Applies a batch; returns [`Gap::Presence`] if the one before it never
    /// came.
    pub(super) fn change_presence(&self, changes: PresenceChanges) -> Option<Gap> {
        // Version 0: a server that does not number its batches.
        let version = changes.version;
        let skipped =
            version != 0 && self.presence_version.get_value().is_some_and(|last| last.checked_add(1) != Some(version));
        self.presence_version.set_value((version != 0).then_some(version));
        self.online.update(|online| apply_changes(online, changes));
        skipped.then_some(Gap::Presence)
    }

    pub(super) fn came_online(&self, user: User) {
        self.online.update(|online| {
            replace_or_add(online, user);
            sort_users(online);
        });
    }

    pub(super) fn went_offline(&self, user: &User) {
        self.online.update(|online| online.retain(|u| u.id != user.id));
    }

    /// A new connection: the server numbers presence anew for it (its list
    /// comes with the connection's first flush), so the last `version` seen
    /// on the old one would only make the first batch look like a loss.
    pub fn reconnected(&self) {
        self.presence_version.set_value(None);
        // Who was typing is stale: the lists start again with the next news.
        self.typists.set_value(Default::default());
        self.typing.set(Vec::new());
    }
}

fn replace_or_add(users: &mut Vec<User>, user: User) {
    match users.iter_mut().find(|u| u.id == user.id) {
        Some(existing) => *existing = user,
        None => users.push(user),
    }
}

/// The server's order ([`by_name`]), kept as changes come in. Unstable is
/// safe: no two entries compare equal (ids are unique), and the bundle is
/// smaller for it.
fn sort_users(users: &mut [User]) {
    users.sort_unstable_by(by_name);
}

/// A batch from the server: each user appears at most once in it, so the
/// order of removing and adding does not matter; one sort for the lot.
fn apply_changes(users: &mut Vec<User>, changes: PresenceChanges) {
    users.retain(|u| !changes.offline.iter().any(|gone| gone.id == u.id));
    for user in changes.online {
        replace_or_add(users, user);
    }
    sort_users(users);
}
