//! How far people have read, held in memory between writes: every
//! [`WRITE_EVERY`], all the marks taken meanwhile go to the store in one
//! transaction. Each tab says what it read at most every 2 s, so a room of
//! a thousand readers would otherwise cost hundreds of small commits a
//! second beside the messages' own. A mark not written yet is read over the
//! store's answers ([`ReadMarks::unwritten`]), so nobody sees a count come
//! back, in this tab or another; a crash loses at most the last
//! [`WRITE_EVERY`] of reading, never a message.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use super::{ReadMark, Store};
use crate::protocol::{ConversationId, UserId};

/// Marks kept between writes at most; past it, a new one is written
/// through at once (`note` says so).
const MAX_PENDING: usize = 100_000;
/// How often the marks are written.
pub const WRITE_EVERY: Duration = Duration::from_secs(2);

type Key = (UserId, ConversationId);

#[derive(Default)]
pub struct ReadMarks {
    pending: Mutex<HashMap<Key, i64>>,
}

impl ReadMarks {
    fn lock(&self) -> MutexGuard<'_, HashMap<Key, i64>> {
        // A poisoned lock only means a panic mid-insert of a plain map.
        self.pending.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// `user` read `conversation` up to `seq`: how far the marks now say
    /// they read (never back), or `None` when the marks are full and the
    /// caller must write this one itself.
    pub fn note(&self, user: UserId, conversation: &ConversationId, seq: i64) -> Option<i64> {
        let mut pending = self.lock();
        let key = (user, conversation.clone());
        if let Some(mark) = pending.get_mut(&key) {
            *mark = (*mark).max(seq);
            return Some(*mark);
        }
        if pending.len() >= MAX_PENDING {
            return None;
        }
        pending.insert(key, seq);
        Some(seq)
    }

    /// How far `user` read `conversation` by a mark not written yet (0:
    /// none).
    pub fn unwritten(&self, user: UserId, conversation: &ConversationId) -> i64 {
        self.lock().get(&(user, conversation.clone())).copied().unwrap_or(0)
    }

    /// Writes the marks taken so far, in one transaction. They stay
    /// readable (`unwritten`) until it has committed, and then go unless a
    /// newer one came meanwhile; on failure they all stay (and it is
    /// logged), to go with the next write. A write cut short loses nothing.
    pub async fn write(&self, store: &dyn Store) {
        let marks: Vec<ReadMark> =
            self.lock().iter().map(|((user, conversation), seq)| ReadMark::new(*user, conversation, *seq)).collect();
        if marks.is_empty() {
            return;
        }
        if let Err(error) = store.mark_reads(&marks).await {
            tracing::warn!(%error, marks = marks.len(), "could not write how far people have read; trying again");
            return;
        }
        let mut pending = self.lock();
        for mark in marks {
            let key = (mark.user, mark.conversation);
            if pending.get(&key).is_some_and(|seq| *seq <= mark.seq) {
                pending.remove(&key);
            }
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
    fn marks_never_move_back_and_stay_bounded() {
        let marks = ReadMarks::default();
        let lobby = ConversationId::room("lobby");
        assert_eq!(marks.note(1, &lobby, 5), Some(5));
        assert_eq!(marks.note(1, &lobby, 3), Some(5), "a tab that read less, later");
        assert_eq!(marks.note(1, &lobby, 9), Some(9));
        assert_eq!((marks.unwritten(1, &lobby), marks.unwritten(2, &lobby)), (9, 0));
        let mut pending = marks.lock();
        for user in 0..MAX_PENDING as UserId {
            pending.insert((user + 10, lobby.clone()), 1);
        }
        drop(pending);
        assert_eq!(marks.note(5, &lobby, 4), None, "full: the caller writes it");
        assert_eq!(marks.note(1, &lobby, 10), Some(10), "one already held still moves on");
    }
}
