//! Messages that changed after they were sent, in the browser: an edit, a
//! deletion or a reaction replaces the message I hold by its current
//! state, and the newest change number I know of per conversation says
//! when one was missed (a live change that skips a number) and what to
//! ask for after a reconnect (`changes {after}`).

use leptos::prelude::*;

use super::{ChatState, Gap};
use crate::i18n::{fill, words};
use crate::protocol::{ConversationId, Message, User, UserId};

/// Names a reaction's label lists before "and N others".
const NAMED_REACTORS: usize = 5;
/// Live changes kept per conversation until its first page: the changes
/// that can arrive while that page is on its way.
const MAX_EARLY_CHANGES: usize = 10;

impl ChatState {
    /// A message's new state, live: replaces the copy I hold. Returns the
    /// gap it revealed, if its change number skips one after the newest I
    /// knew of in its conversation.
    pub fn changed(&self, message: Message) -> Option<Gap> {
        let id = message.conversation.clone();
        let change = message.revision.change;
        let seen = self.known_change(&id);
        self.uncount_deleted(&message);
        self.replace_held(message.clone());
        let Some(seen) = seen else {
            // No page of it yet: the first may have been read before this.
            self.changes_early.update_value(|early| {
                let list = early.entry(id).or_default();
                if list.len() == MAX_EARLY_CHANGES {
                    list.remove(0);
                }
                list.push(message);
            });
            return None;
        };
        if change > seen + 1 {
            return Some(Gap::Changes { id, seen });
        }
        self.note_change(&id, change);
        None
    }

    /// A message that called me, deleted before I read it, calls me no
    /// more: one fewer in its conversation's mention count.
    fn uncount_deleted(&self, message: &Message) {
        let id = &message.conversation;
        let Some(me) = self.me_id() else { return };
        if !message.revision.deleted || message.seq <= self.read_seq(id) {
            return;
        }
        let called = self.messages.with_untracked(|all| {
            let held = all.get(id).and_then(|held| held.iter().find(|m| m.id == message.id));
            held.is_some_and(|old| !old.revision.deleted && old.from.id != me && old.mentions.call(me))
        });
        if called && self.mentioned.with_untracked(|counts| counts.contains_key(id)) {
            self.mentioned.update(|counts| {
                if let Some(count) = counts.get_mut(id) {
                    *count = count.saturating_sub(1);
                    if *count == 0 {
                        counts.remove(id);
                    }
                }
            });
        }
    }

    /// Messages in their current state, from `changes {after}`: replaces
    /// the copies I hold; `upto` is the newest change number they cover.
    pub fn receive_changes(&self, id: &ConversationId, changed: Vec<Message>, upto: i64) {
        for message in changed {
            self.replace_held(message);
        }
        self.note_change(id, upto);
    }

    /// The newest change number I know of in a conversation: `None` until
    /// I have read a page of it (what I hold then is current up to it).
    pub fn known_change(&self, id: &ConversationId) -> Option<i64> {
        self.changes_seen.with_value(|seen| seen.get(id).copied())
    }

    /// Moves the newest change number known of `id` on to `change`.
    pub(super) fn note_change(&self, id: &ConversationId, change: i64) {
        self.changes_seen.update_value(|seen| {
            let known = seen.entry(id.clone()).or_default();
            *known = (*known).max(change);
        });
    }

    /// A page's change number counts only for a conversation I knew none
    /// of: a page shows its own messages as they are, not the changes to
    /// others I hold that I may have missed. The changes that came live
    /// before it are applied over it, those after `change` counted.
    pub(super) fn first_change(&self, id: &ConversationId, change: i64) {
        self.changes_seen.update_value(|seen| {
            seen.entry(id.clone()).or_insert(change);
        });
        let early = self.changes_early.try_update_value(|early| early.remove(id)).flatten();
        for message in early.unwrap_or_default() {
            if message.revision.change <= change {
                continue;
            }
            // A skipped number shows again with the next live change.
            let _ = self.changed(message);
        }
    }

    /// The replies I hold to `original` quote it as it is now: edited, or
    /// deleted (then nothing of it is left in them either).
    fn requote(&self, original: &Message) {
        let id = original.conversation.clone();
        let stale = |m: &Message| m.reply_to.as_ref().is_some_and(|q| q.id == original.id);
        if !self.messages.with_untracked(|all| all.get(&id).is_some_and(|list| list.iter().any(stale))) {
            return;
        }
        self.messages.update(|all| {
            for reply in all.get_mut(&id).into_iter().flatten() {
                if let Some(quote) = reply.reply_to.as_mut().filter(|q| q.id == original.id) {
                    *quote = original.quote();
                }
            }
        });
    }

    /// Who reacted, for a reaction's label: "Alice, Bob and 3 others",
    /// by the names I know (me, people online, authors of what I hold);
    /// `users` are the first of the `count` who did.
    pub fn reacted_by(&self, users: &[UserId], count: usize) -> String {
        let words = words();
        let name = |id: UserId| {
            let known = |list: &[User]| list.iter().find(|u| u.id == id).map(|u| self.display_name(u));
            self.me
                .with_untracked(|me| {
                    me.as_ref().filter(|me| me.id == id).map(|_| words.reacted_you().inner().to_owned())
                })
                .or_else(|| self.online.with_untracked(|online| known(online)))
                .or_else(|| {
                    self.messages.with_untracked(|all| {
                        all.values().flatten().find(|m| m.from.id == id).map(|m| self.display_name(&m.from))
                    })
                })
                .unwrap_or_else(|| words.reacted_someone().inner().to_owned())
        };
        let named = users.len().min(NAMED_REACTORS);
        let others = count.saturating_sub(named);
        let mut said = String::new();
        for (n, &id) in users[..named].iter().enumerate() {
            let last = n + 1 == named;
            if n > 0 {
                said.push_str(if last && others == 0 { words.list_and().inner() } else { words.list_comma().inner() });
            }
            said.push_str(&name(id));
        }
        match others {
            0 => {}
            1 => said.push_str(words.reacted_one_other().inner()),
            n => said.push_str(&fill(words.reacted_others().inner(), &[("count", &n.to_string())])),
        }
        said
    }

    /// Replaces the copy of `message` I hold, if I hold one and it is not
    /// newer: a message I do not hold is read in its current state when
    /// its page is.
    fn replace_held(&self, message: Message) {
        self.requote(&message);
        let id = message.conversation.clone();
        let held = self.messages.with_untracked(|all| {
            all.get(&id).is_some_and(|list| {
                list.iter().any(|m| m.id == message.id && m.revision.change < message.revision.change)
            })
        });
        if held {
            self.messages.update(|all| {
                if let Some(old) = all.get_mut(&id).and_then(|list| list.iter_mut().find(|m| m.id == message.id)) {
                    *old = message;
                }
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use leptos::prelude::*;

    use crate::chat_state::ChatState;
    use crate::protocol::{ChatSnapshot, User};

    #[test]
    fn a_reaction_says_who_by_the_names_known() {
        Owner::new_root(None).with(|| {
            let user = |id, name: &str| User { id, name: name.into() };
            let snapshot = ChatSnapshot {
                me: Some(user(1, "me")),
                online: vec![user(2, "Ann"), user(3, "Bo"), user(4, "Cy"), user(5, "Di"), user(6, "Ed")],
                ..ChatSnapshot::default()
            };
            let chat = ChatState::new(snapshot);
            assert_eq!(chat.reacted_by(&[2], 1), "Ann");
            assert_eq!(chat.reacted_by(&[2, 1], 2), "Ann and you");
            assert_eq!(chat.reacted_by(&[2, 3, 99], 3), "Ann, Bo and someone");
            assert_eq!(chat.reacted_by(&[2, 3, 4, 5, 6, 1], 6), "Ann, Bo, Cy, Di, Ed and 1 other");
            assert_eq!(chat.reacted_by(&[2, 3, 4, 5, 6, 1, 7, 8], 8), "Ann, Bo, Cy, Di, Ed and 3 others");
            assert_eq!(chat.reacted_by(&[2, 3], 1000), "Ann, Bo and 998 others", "the first listed of many");
        });
    }
}
