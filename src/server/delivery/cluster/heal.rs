//! Healing: what the relay missed, read from the store. A gap a later
//! item reveals is filled once it has been open for [`GAP_WAIT`]; a lost
//! last message, which nothing later reveals, is found by comparing the
//! store's newest numbers with what was delivered every [`TAIL_CHECK`]
//! (`relay`'s docs say why twice in a row).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use super::order::Place;
use super::relay::Node;
use crate::protocol::ConversationId;
use crate::server::delivery::Encoded;
use crate::server::metrics;
use crate::server::store::Cursor;

/// How long a gap may stay open before it is filled from the store: long
/// enough for a publish that was only late.
pub(super) const GAP_WAIT: Duration = Duration::from_millis(200);
/// How often the store's newest numbers are compared with what was
/// delivered (the bound on a lost last message).
pub(super) const TAIL_CHECK: Duration = Duration::from_secs(1);
/// Conversations heard within this are checked against the store.
pub(super) const RECENTLY: Duration = Duration::from_secs(600);
/// Items read from the store per conversation per heal.
const HEAL_PAGE: usize = 200;
/// Conversations checked against the store in one read.
const MAX_TAIL_CHECK: usize = 1000;

impl Node {
    /// Fills every gap open for [`GAP_WAIT`] from the store.
    pub(super) async fn heal_gaps(&mut self, now: Instant) {
        for (conversation, seq, change) in self.order.gaps(now, GAP_WAIT) {
            self.heal(&conversation, seq, change).await;
        }
    }

    /// Compares the store's newest numbers with what was delivered, for
    /// the conversations heard most lately, and fills a conversation the
    /// store was ahead of at the last check too, with nothing delivered
    /// since: what a publish lost. (Ahead once is no news: this node's own
    /// commits reach the store before they reach the relay.)
    pub(super) async fn check_tails(&mut self, now: Instant) {
        let mut lines = self.order.recent(now, RECENTLY);
        lines.truncate(MAX_TAIL_CHECK);
        if lines.is_empty() {
            self.behind.clear();
            return;
        }
        let conversations: Vec<ConversationId> = lines.iter().map(|(conversation, ..)| conversation.clone()).collect();
        let heads = match self.store.heads(&conversations).await {
            Ok(heads) => heads,
            Err(error) => return tracing::warn!(%error, "could not read the store's newest numbers"),
        };
        let mut behind = HashMap::new();
        for ((conversation, seq, change), (last_seq, last_change)) in lines.into_iter().zip(heads) {
            let ahead = seq.is_some_and(|seq| last_seq > seq) || change.is_some_and(|change| last_change > change);
            if !ahead {
                continue;
            }
            if self.behind.get(&conversation) == Some(&(seq, change)) {
                self.heal(&conversation, seq, change).await;
            } else {
                behind.insert(conversation, (seq, change));
            }
        }
        self.behind = behind;
    }

    /// Reads what the store has past `seq` and `change` (the numbers
    /// delivered last) and delivers it, in order.
    async fn heal(&mut self, conversation: &ConversationId, seq: Option<i64>, change: Option<i64>) {
        let mut read = Vec::new();
        if let Some(seq) = seq {
            match self.store.page(conversation, Cursor::After(seq), HEAL_PAGE).await {
                Ok(messages) => read.extend(messages.into_iter().map(|m| (Place::New(m.seq), m, false))),
                Err(error) => return tracing::warn!(%error, "could not read missed messages"),
            }
        }
        if let Some(change) = change {
            match self.store.changed_since(conversation, change, HEAL_PAGE).await {
                Ok(messages) => read.extend(
                    messages.into_iter().map(|m| (Place::Change { change: m.revision.change, seq: m.seq }, m, true)),
                ),
                Err(error) => return tracing::warn!(%error, "could not read missed changes"),
            }
        }
        let read: Vec<(Place, Encoded)> = read
            .into_iter()
            .filter_map(|(place, message, changed)| Encoded::of(message, changed).map(|encoded| (place, encoded)))
            .collect();
        metrics::relay_healed(read.len());
        for ready in self.order.healed(conversation, read, Instant::now()) {
            self.outbound.deliver_encoded(&ready).await;
        }
    }
}
