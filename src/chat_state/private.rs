//! My private conversations in the browser: their messages, the list of
//! conversations (newest first) with the last `seq` known of each, and
//! unread counts per person.

use leptos::prelude::*;

use super::{insert_by_seq, ChatState, Conversation, Gap};
use crate::protocol::{ConversationSummary, SecretMessage, User, UserId};

impl ChatState {
    /// Shows a private message that is new to me (live, or missed while I
    /// was away), counting it unread unless I am looking at it. Returns the
    /// gap before it, if it skipped some `seq` after the newest I knew of in
    /// that conversation.
    pub(super) fn add_secret(&self, secret: SecretMessage) -> Option<Gap> {
        let me = self.me.get_untracked()?;
        let peer = secret.peer(me.id).clone();
        let incoming = secret.from.id != me.id;
        let known = self.secrets.with_untracked(|all| all.iter().any(|m| m.id == secret.id));
        let seen = self.last_private_seq(peer.id);
        let gap = (secret.seq > seen.unwrap_or(0) + 1).then_some(Gap::Direct { peer: peer.id, seen });
        self.note_conversation(&peer, secret.seq, secret.at);
        if known {
            return None;
        }
        // Ids grow with every stored message, so id order is seq order
        // within each conversation.
        self.secrets.update(|all| {
            insert_by_seq(all, secret, |m| m.id, |m| m.id);
        });
        let watching = self.active.with_untracked(|a| matches!(a, Conversation::Direct(u) if u.id == peer.id));
        if incoming && !watching {
            self.unread.update(|unread| *unread.entry(peer.id).or_default() += 1);
        }
        gap
    }

    /// Messages of my private conversations that I missed (after a
    /// reconnect, or to fill a gap): shown and counted unread like live ones.
    pub fn receive_missed_secrets(&self, missed: Vec<SecretMessage>) {
        for secret in missed {
            self.add_secret(secret);
        }
    }

    /// Merges a page of private history that I asked for (opening a
    /// conversation, scrolling back): nothing in it counts as unread.
    pub fn merge_secrets(&self, page: Vec<SecretMessage>) {
        let Some(me) = self.me.get_untracked().map(|u| u.id) else { return };
        if let Some(newest) = page.last() {
            self.note_conversation(newest.peer(me), newest.seq, newest.at);
        }
        self.secrets.update(|all| {
            for message in page {
                insert_by_seq(all, message, |m| m.id, |m| m.id);
            }
        });
    }

    /// Keeps `with` in my conversation list, newest first, remembering the
    /// highest `seq` seen there.
    pub fn note_conversation(&self, with: &User, seq: i64, at: i64) {
        self.conversations.update(|list| {
            let summary = match list.iter().position(|c| c.with.id == with.id) {
                Some(known) => {
                    let known = list.remove(known);
                    let (last_seq, last_at) = (known.last_seq.max(seq), known.last_at.max(at));
                    ConversationSummary { with: with.clone(), last_seq, last_at }
                }
                None => ConversationSummary { with: with.clone(), last_seq: seq, last_at: at },
            };
            // The list is in order already: put this one back in its place.
            let before = |c: &ConversationSummary| (c.last_at, summary.with.id) > (summary.last_at, c.with.id);
            let place = list.partition_point(before);
            list.insert(place, summary);
        });
    }

    /// The newest `seq` I know of in my private conversation with `peer`.
    pub fn last_private_seq(&self, peer: UserId) -> Option<i64> {
        self.conversations.with_untracked(|list| list.iter().find(|c| c.with.id == peer).map(|c| c.last_seq))
    }

    /// Replaces what I have of my private conversation with `peer`.
    /// Keeps what arrived live after the page was read.
    pub fn restart_private(&self, peer: UserId, page: Vec<SecretMessage>) {
        let Some(me) = self.me.get_untracked().map(|u| u.id) else { return };
        let newest = page.iter().map(|m| m.seq).max();
        self.secrets.update(|all| all.retain(|m| m.peer(me).id != peer || newest.is_some_and(|n| m.seq > n)));
        self.merge_secrets(page);
    }
}
