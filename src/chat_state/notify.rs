//! What notifies me, in the browser: the level I chose for each
//! conversation, as the server keeps it (a page's start, `reads` after a
//! reconnect, `notify` from another tab of mine), and the one rule
//! (`protocol::notifies`) applied to a message that just arrived.

use std::collections::HashMap;

use leptos::prelude::*;

use super::ChatState;
use crate::protocol::{notifies, ConversationId, Message, Notify, NotifySetting};

impl ChatState {
    /// The levels I chose, as the server lists them all (the page's
    /// snapshot, or `reads`): a conversation without one is back to its
    /// default.
    pub fn choose_levels(&self, levels: &[NotifySetting]) {
        let chosen: HashMap<ConversationId, Notify> =
            levels.iter().filter_map(|setting| Some((setting.conversation()?, setting.level))).collect();
        if self.notify_levels.with_untracked(|levels| *levels != chosen) {
            self.notify_levels.set(chosen);
        }
    }

    /// One level, chosen here or in another tab of mine.
    pub fn level_chosen(&self, setting: NotifySetting) {
        let Some(conversation) = setting.conversation() else { return };
        self.notify_levels.update(|levels| {
            if setting.level == Notify::default_for(&conversation) {
                levels.remove(&conversation);
            } else {
                levels.insert(conversation, setting.level);
            }
        });
    }

    /// How much of `conversation` notifies me (tracked).
    pub fn notify_level(&self, conversation: &ConversationId) -> Notify {
        self.notify_levels
            .with(|levels| levels.get(conversation).copied())
            .unwrap_or_else(|| Notify::default_for(conversation))
    }

    /// Whether `message`, just arrived, should notify me.
    pub fn should_notify(&self, message: &Message) -> bool {
        let Some(me) = self.me_id() else { return false };
        let level = self.notify_levels.with_untracked(|levels| levels.get(&message.conversation).copied());
        let level = level.unwrap_or_else(|| Notify::default_for(&message.conversation));
        !message.revision.deleted && notifies(level, me, message.from.id, &message.mentions)
    }
}
