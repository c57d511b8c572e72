//! How far I have read, in the browser: the server keeps it (`read`,
//! `reads`), so unread counts survive a reload and agree across my tabs;
//! where the conversation on screen was read up to when I opened it (the
//! "New messages" line); and in a private conversation, how far the other
//! one has read ("Seen").

use std::collections::HashMap;

use leptos::prelude::*;

use super::ChatState;
use crate::protocol::{ConversationId, Message, ReadState, Seen, MAX_UNREAD};

impl ChatState {
    /// Where I am in each conversation, as the server says (a page's
    /// snapshot, `reads` after a reconnect, `read` from another tab).
    pub fn apply_reads(&self, reads: Vec<ReadState>) {
        let active = self.active_id_untracked();
        for read in reads {
            let Some(id) = read.conversation() else { continue };
            self.read_seqs.update_value(|seqs| {
                let known = seqs.entry(id.clone()).or_default();
                *known = (*known).max(read.seq);
            });
            if let Some(peer) = read.peer_seq {
                self.seen(&id, peer);
            }
            // On screen, what is unread shows as the line instead.
            if active.as_ref() != Some(&id) {
                set_count(self.mentioned, &id, read.mentions.min(MAX_UNREAD));
                set_count(self.unread, &id, read.unread.min(MAX_UNREAD));
            }
        }
    }

    /// The other party of a private conversation read it up to `seq`.
    pub(super) fn peer_read(&self, seen: Seen) {
        if self.me_id() != Some(seen.user) {
            self.seen(&ConversationId::pair(seen.pair[0], seen.pair[1]), seen.seq);
        }
    }

    fn seen(&self, id: &ConversationId, seq: i64) {
        if self.peer_seen.with_untracked(|seen| seen.get(id).is_none_or(|known| *known < seq)) {
            self.peer_seen.update(|seen| {
                seen.insert(id.clone(), seq);
            });
        }
    }

    /// How far I have read `id`, as far as I know.
    pub fn read_seq(&self, id: &ConversationId) -> i64 {
        self.read_seqs.with_value(|seqs| seqs.get(id).copied().unwrap_or(0))
    }

    /// The newest message on screen I have not said I read, if the tab is
    /// seen: it is read now (the caller tells the server).
    pub fn take_unread_seq(&self, visible: bool) -> Option<(ConversationId, i64)> {
        let id = self.active_id_untracked()?;
        self.me_id()?;
        let newest = self.messages.with_untracked(|all| all.get(&id).and_then(|list| list.last()).map(|m| m.seq))?;
        if !visible || newest <= self.read_seq(&id) {
            return None;
        }
        self.read_seqs.update_value(|seqs| {
            seqs.insert(id.clone(), newest);
        });
        Some((id, newest))
    }

    /// Where the "New messages" line goes in the conversation now opened:
    /// after what I had read, if others wrote since.
    pub(super) fn mark_first_unread(&self) {
        let after = self.active_id_untracked().and_then(|id| {
            let read = self.read_seq(&id);
            let unread = self.unread.with_untracked(|unread| unread.get(&id).copied().unwrap_or(0)) > 0;
            let held = self
                .messages
                .with_untracked(|all| all.get(&id).is_some_and(|list| list.iter().any(|m| self.is_news(m, read))));
            (unread || held).then_some(read)
        });
        self.unread_after.set(after);
    }

    /// Whether `message` is news to me, who read up to `read`.
    pub fn is_news(&self, message: &Message, read: i64) -> bool {
        message.seq > read && Some(message.from.id) != self.me_id()
    }
}

/// Sets one conversation's count, none for zero, touching the signal only
/// when it changes.
fn set_count(counts: RwSignal<HashMap<ConversationId, usize>>, id: &ConversationId, now: usize) {
    if counts.with_untracked(|counts| counts.get(id).copied().unwrap_or(0) != now) {
        counts.update(|counts| {
            if now == 0 {
                counts.remove(id);
            } else {
                counts.insert(id.clone(), now);
            }
        });
    }
}
