//! Live delivery in order across nodes. Each conversation numbers its new
//! messages (`seq`) and its changes (`change`) without gaps, in commit
//! order, whichever node commits them; but they reach a node by two roads
//! (its own commits, and other nodes' through Redis), so they may come out
//! of order, twice, or not at all. [`Order`] puts them back: per
//! conversation, it hands out each item once, in order of both numbers, a
//! change only after the message it changes; it holds what comes early,
//! drops what came before, and says which conversations have had a gap
//! open for too long, to be healed from the store ([`Order::healed`]).
//!
//! Where a conversation's numbering starts on this node:
//! - **A room this node starts to hear** starts from the store: the relay
//!   reads the room's newest numbers just before it subscribes, and
//!   everything numbered after them goes out in order at once, with no
//!   wait ([`Order::start_at`]); what is missing (committed between that
//!   read and the subscription) is a gap, healed like any other. An item
//!   numbered at or before that start can still come (committed before
//!   the read, published after it, or this node's own commit still on its
//!   way): nothing of it went out here, so it goes out at once, once. The
//!   relay takes in this node's waiting commits right after a start, and
//!   offers again what a forgotten line held, so its own go out in order;
//!   another node's published late may come after a later one.
//! - **Anything else** (a private conversation, a room read from the
//!   store in vain): where it starts is not known until something of it
//!   arrives, and the first to arrive may not be the first committed
//!   (node A commits 1, node B commits 2, and B sees its own 2 first). So
//!   each numbering (new messages, changes) is held for [`SETTLE`] after
//!   its first item, then goes out in order from the lowest
//!   ([`Order::settle`], when [`Order::next_settle`] says). An item later
//!   than that and lower is taken for one delivered already; the client's
//!   own `seq` check fetches it.
//!
//! Pure bookkeeping, no I/O: the relay (`relay`) feeds it and
//! delivers what it returns.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use crate::protocol::ConversationId;

/// Where an item stands in its conversation's numbering.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Place {
    /// A new message, numbered `seq`.
    New(i64),
    /// A change numbered `change`, to the message numbered `seq`.
    Change { change: i64, seq: i64 },
}

/// How long the first items of a conversation new to this node are held,
/// for any earlier one still on its way.
pub const SETTLE: Duration = Duration::from_millis(100);

/// Items held back at most per conversation: past it, the oldest go (the
/// gap they wait behind is healed from the store, which has them too).
const MAX_HELD: usize = 512;

/// Whether `place` comes before the next `seq` and change number to
/// deliver: it was delivered already.
fn repeats(next_seq: Option<i64>, next_change: Option<i64>, place: Place) -> bool {
    match place {
        Place::New(seq) => next_seq.is_some_and(|next| seq < next),
        Place::Change { change, .. } => next_change.is_some_and(|next| change < next),
    }
}

/// One conversation's numbering, as far as this node has delivered it.
struct Line<T> {
    /// The next `seq` to deliver; `None` until the first is seen.
    next_seq: Option<i64>,
    next_change: Option<i64>,
    held: BTreeMap<Place, T>,
    /// Since when something has been held (a gap is open).
    gap_since: Option<Instant>,
    /// Where each numbering (new messages', changes') stands before its
    /// first items go out.
    seq_start: Start,
    change_start: Start,
    /// For a line started from the store: the newest `seq` and change
    /// number it held then. Items at or before them went out nowhere here.
    started_from: Option<(i64, i64)>,
    last_seen: Instant,
}

/// Where one numbering of a conversation stands on this node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Start {
    /// Nothing of it seen yet.
    Unseen,
    /// Its first items are held until then, for an earlier one on its way.
    Settling(Instant),
    /// Counting: `next_seq` or `next_change` says what comes next.
    Started,
}

impl<T> Line<T> {
    fn new(now: Instant) -> Line<T> {
        Line {
            next_seq: None,
            next_change: None,
            held: BTreeMap::new(),
            gap_since: None,
            seq_start: Start::Unseen,
            change_start: Start::Unseen,
            started_from: None,
            last_seen: now,
        }
    }

    /// Whether `place` was committed before this line started from the
    /// store (so never went out here).
    fn before_start(&self, place: Place) -> bool {
        self.started_from.is_some_and(|(seq, change)| match place {
            Place::New(number) => number <= seq,
            Place::Change { change: number, .. } => number <= change,
        })
    }

    /// Whether `place` comes before what has been delivered (a repeat).
    fn delivered_already(&self, place: Place) -> bool {
        repeats(self.next_seq, self.next_change, place)
    }

    /// Whether `place`'s numbering has started (for a change, while its
    /// messages' numbering is not settling either).
    fn started(&self, place: Place) -> bool {
        match place {
            Place::New(_) => self.seq_start == Start::Started,
            Place::Change { .. } => {
                self.change_start == Start::Started && !matches!(self.seq_start, Start::Settling(_))
            }
        }
    }

    /// Holds `place`'s numbering for [`SETTLE`] if this is its first item.
    fn begin(&mut self, place: Place, now: Instant) {
        let start = match place {
            Place::New(_) => &mut self.seq_start,
            Place::Change { .. } => &mut self.change_start,
        };
        if *start == Start::Unseen {
            *start = Start::Settling(now + SETTLE);
        }
    }

    /// Whether `place` is the very next thing to deliver.
    fn is_next(&self, place: Place) -> bool {
        if !self.started(place) {
            return false;
        }
        match place {
            Place::New(seq) => self.next_seq.is_none_or(|next| seq == next),
            // A change waits for its message.
            Place::Change { change, seq } => {
                self.next_change.is_none_or(|next| change == next) && self.next_seq.is_none_or(|next| seq < next)
            }
        }
    }

    fn advance(&mut self, place: Place) {
        match place {
            Place::New(seq) => self.next_seq = Some(seq + 1),
            Place::Change { change, .. } => self.next_change = Some(change + 1),
        }
    }

    /// Moves what is held and now next to `out`, in order.
    fn release(&mut self, out: &mut Vec<T>) {
        loop {
            let (next_seq, next_change) = (self.next_seq, self.next_change);
            self.held.retain(|place, _| !repeats(next_seq, next_change, *place));
            let next = self.held.keys().copied().find(|place| self.is_next(*place));
            let Some(place) = next else { break };
            if let Some(item) = self.held.remove(&place) {
                out.push(item);
            }
            self.advance(place);
        }
    }

    fn note_gap(&mut self, now: Instant) {
        self.gap_since = if self.held.is_empty() { None } else { self.gap_since.or(Some(now)) };
    }
}

/// Every conversation's line.
pub struct Order<T> {
    lines: HashMap<ConversationId, Line<T>>,
    /// The earliest a settling numbering is due (kept as they begin, and
    /// worked out again by each [`Order::settle`]).
    next_settle: Option<Instant>,
}

impl<T> Default for Order<T> {
    fn default() -> Order<T> {
        Order { lines: HashMap::new(), next_settle: None }
    }
}

impl<T> Order<T> {
    /// Takes in one item; returns what may be delivered now, in order
    /// (perhaps nothing, perhaps items held before).
    pub fn offer(&mut self, conversation: &ConversationId, place: Place, item: T, now: Instant) -> Vec<T> {
        let line = self.lines.entry(conversation.clone()).or_insert_with(|| Line::new(now));
        line.last_seen = now;
        let mut out = Vec::new();
        if line.before_start(place) {
            // Committed before the start read: it went out nowhere here,
            // and comes once (a room has one channel).
            out.push(item);
            return out;
        }
        if line.delivered_already(place) {
            return out;
        }
        line.begin(place, now);
        for start in [line.seq_start, line.change_start] {
            if let Start::Settling(until) = start {
                self.next_settle = Some(self.next_settle.map_or(until, |next| next.min(until)));
            }
        }
        if line.is_next(place) {
            out.push(item);
            line.advance(place);
            line.release(&mut out);
        } else {
            line.held.insert(place, item);
            while line.held.len() > MAX_HELD {
                line.held.pop_first();
            }
        }
        line.note_gap(now);
        out
    }

    /// Starts every numbering held for [`SETTLE`], from the lowest of what
    /// it holds; returns what may be delivered now, in order.
    pub fn settle(&mut self, now: Instant) -> Vec<T> {
        let mut out = Vec::new();
        if self.next_settle.is_none_or(|next| now < next) {
            return out;
        }
        self.next_settle = None;
        for line in self.lines.values_mut() {
            let due = |start: Start| matches!(start, Start::Settling(until) if now >= until);
            let (seq_due, change_due) = (due(line.seq_start), due(line.change_start));
            for start in [line.seq_start, line.change_start] {
                if let Start::Settling(until) = start {
                    if now < until {
                        self.next_settle = Some(self.next_settle.map_or(until, |next| next.min(until)));
                    }
                }
            }
            if !seq_due && !change_due {
                continue;
            }
            if seq_due {
                line.seq_start = Start::Started;
                line.next_seq = line.held.keys().find_map(|place| match place {
                    Place::New(seq) => Some(*seq),
                    Place::Change { .. } => None,
                });
            }
            if change_due {
                line.change_start = Start::Started;
                line.next_change = line
                    .held
                    .keys()
                    .filter_map(|place| match place {
                        Place::Change { change, .. } => Some(*change),
                        Place::New(_) => None,
                    })
                    .min();
            }
            line.release(&mut out);
            line.note_gap(now);
        }
        out
    }

    /// When the next settling numbering is due ([`Order::settle`]), if any.
    pub fn next_settle(&self) -> Option<Instant> {
        self.next_settle
    }

    /// Starts `conversation`'s numbering after `seq` and `change`, the
    /// newest the store held just before this node subscribed to it:
    /// what comes after goes out in order at once, with no settling.
    pub fn start_at(&mut self, conversation: &ConversationId, seq: i64, change: i64, now: Instant) {
        let mut line = Line::new(now);
        line.next_seq = Some(seq + 1);
        line.next_change = Some(change + 1);
        line.seq_start = Start::Started;
        line.change_start = Start::Started;
        line.started_from = Some((seq, change));
        self.lines.insert(conversation.clone(), line);
    }

    /// Conversations with a gap open longer than `wait`, with where to
    /// read from: the `seq` and the change number delivered last (`None`
    /// when none was seen yet).
    pub fn gaps(&self, now: Instant, wait: Duration) -> Vec<(ConversationId, Option<i64>, Option<i64>)> {
        self.lines
            .iter()
            .filter(|(_, line)| line.gap_since.is_some_and(|since| now.duration_since(since) >= wait))
            .map(|(conversation, line)| {
                (conversation.clone(), line.next_seq.map(|n| n - 1), line.next_change.map(|n| n - 1))
            })
            .collect()
    }

    /// Conversations seen within `recently`, with the `seq` and change
    /// number delivered last, to compare with the store's, which finds a
    /// lost last message that no later one reveals.
    /// Most lately seen first.
    pub fn recent(&self, now: Instant, recently: Duration) -> Vec<(ConversationId, Option<i64>, Option<i64>)> {
        let mut lines: Vec<(&ConversationId, &Line<T>)> =
            self.lines.iter().filter(|(_, line)| now.duration_since(line.last_seen) < recently).collect();
        lines.sort_by_key(|(_, line)| std::cmp::Reverse(line.last_seen));
        lines
            .into_iter()
            .map(|(conversation, line)| {
                (conversation.clone(), line.next_seq.map(|n| n - 1), line.next_change.map(|n| n - 1))
            })
            .collect()
    }

    /// Takes in what the store holds past this node's numbering (read after
    /// [`Order::gaps`] or [`Order::recent`] named the conversation): new
    /// messages, and messages changed, each with its place. Returns what
    /// may be delivered now, in order: the missing items, then what was
    /// held behind them.
    pub fn healed(&mut self, conversation: &ConversationId, mut read: Vec<(Place, T)>, now: Instant) -> Vec<T> {
        let line = self.lines.entry(conversation.clone()).or_insert_with(|| Line::new(now));
        read.sort_by_key(|(place, _)| match *place {
            Place::New(seq) => (0, seq),
            Place::Change { change, .. } => (1, change),
        });
        let mut out = Vec::new();
        for (place, item) in read {
            // From the store, in order and complete: a first read starts
            // the numbering too.
            let behind = match place {
                Place::New(seq) => line.next_seq.is_none_or(|next| seq >= next),
                Place::Change { change, seq } => {
                    line.next_change.is_none_or(|next| change >= next) && line.next_seq.is_none_or(|next| seq < next)
                }
            };
            if behind {
                out.push(item);
                line.advance(place);
                // Read from the store: its numbering is known from here.
                match place {
                    Place::New(_) => line.seq_start = Start::Started,
                    Place::Change { .. } => line.change_start = Start::Started,
                }
            }
        }
        line.release(&mut out);
        // Whatever is still held waits for a later heal.
        line.gap_since = if line.held.is_empty() { None } else { Some(now) };
        out
    }

    /// Forgets the conversations `which` picks (their numbering starts
    /// again from the next item seen, as for a conversation new here).
    /// Returns what they held, which never went out: to offer again once
    /// they start again.
    pub fn forget(&mut self, which: impl Fn(&ConversationId) -> bool) -> Vec<(ConversationId, Place, T)> {
        let forgotten: Vec<ConversationId> =
            self.lines.keys().filter(|conversation| which(conversation)).cloned().collect();
        let mut held = Vec::new();
        for conversation in forgotten {
            if let Some(line) = self.lines.remove(&conversation) {
                held.extend(line.held.into_iter().map(|(place, item)| (conversation.clone(), place, item)));
            }
        }
        held
    }

    /// Forgets conversations not seen for `idle` (their numbering starts
    /// again from the next item seen), so the map stays bounded by what
    /// is active, but keeps those `heard` says this node still hears
    /// (their numbering is still right, and bounded by the subscriptions).
    pub fn forget_idle(&mut self, now: Instant, idle: Duration, heard: impl Fn(&ConversationId) -> bool) {
        self.lines.retain(|conversation, line| now.duration_since(line.last_seen) < idle || heard(conversation));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lobby() -> ConversationId {
        ConversationId::room("lobby")
    }

    /// An order whose lobby has settled, its numbering started at `seq`.
    fn settled_at<T>(seq: i64, item: T, now: Instant) -> Order<T> {
        let mut order = Order::default();
        assert!(order.offer(&lobby(), Place::New(seq), item, now).is_empty(), "a new conversation settles first");
        assert_eq!(order.settle(now + SETTLE).len(), 1);
        order
    }

    #[test]
    fn a_new_conversation_settles_before_its_first_items_go_out() {
        let (mut order, now) = (Order::default(), Instant::now());
        assert!(order.offer(&lobby(), Place::New(2), "m2, committed here", now).is_empty());
        assert!(order.offer(&lobby(), Place::Change { change: 1, seq: 2 }, "c1", now).is_empty());
        assert!(order.offer(&lobby(), Place::New(1), "m1, from another node", now).is_empty());
        assert!(order.settle(now + SETTLE / 2).is_empty(), "still settling");
        assert_eq!(order.settle(now + SETTLE), ["m1, from another node", "m2, committed here", "c1"]);
        assert_eq!(order.offer(&lobby(), Place::New(3), "m3", now + SETTLE), ["m3"], "then at once");
    }

    #[test]
    fn each_numbering_settles_from_its_own_first_item() {
        let (mut order, now) = (Order::default(), Instant::now());
        // A reaction to an old message comes first; new messages later.
        assert!(order.offer(&lobby(), Place::Change { change: 9, seq: 1 }, "c9", now).is_empty());
        assert_eq!(order.settle(now + SETTLE), ["c9"]);
        let later = now + SETTLE * 2;
        assert!(order.offer(&lobby(), Place::New(6), "m6", later).is_empty(), "its own numbering settles too");
        assert!(order.offer(&lobby(), Place::New(5), "m5", later).is_empty());
        assert!(order.settle(later + SETTLE / 2).is_empty());
        assert_eq!(order.settle(later + SETTLE), ["m5", "m6"]);
        assert_eq!(order.offer(&lobby(), Place::Change { change: 10, seq: 6 }, "c10", later + SETTLE), ["c10"]);
    }

    #[test]
    fn in_order_items_pass_and_repeats_are_dropped() {
        let now = Instant::now();
        let mut order = settled_at(4, "m4", now);
        assert_eq!(order.offer(&lobby(), Place::New(5), "m5", now), ["m5"]);
        assert_eq!(order.offer(&lobby(), Place::New(6), "m6", now), ["m6"]);
        assert!(order.offer(&lobby(), Place::New(6), "again", now).is_empty());
        assert!(order.offer(&lobby(), Place::New(4), "older", now).is_empty());
        assert!(order.gaps(now, Duration::ZERO).is_empty());
    }

    #[test]
    fn early_items_wait_for_the_gap_and_changes_for_their_message() {
        let now = Instant::now();
        let mut order = settled_at(1, "m1", now);
        assert!(order.offer(&lobby(), Place::Change { change: 1, seq: 1 }, "c1", now).is_empty());
        assert_eq!(order.settle(now + SETTLE), ["c1"], "changes settle on their own");
        assert!(order.offer(&lobby(), Place::New(3), "m3", now).is_empty(), "2 is missing");
        assert!(order.offer(&lobby(), Place::Change { change: 2, seq: 3 }, "c2", now).is_empty(), "m3 first");
        assert_eq!(order.gaps(now, Duration::ZERO), [(lobby(), Some(1), Some(1))]);
        assert!(order.gaps(now, Duration::from_secs(1)).is_empty(), "not open for long yet");
        assert_eq!(order.offer(&lobby(), Place::New(2), "m2", now), ["m2", "m3", "c2"]);
        assert!(order.gaps(now, Duration::ZERO).is_empty());
    }

    #[test]
    fn a_heal_fills_the_gap_and_releases_what_waited() {
        let now = Instant::now();
        let mut order = settled_at(1, "m1", now);
        order.offer(&lobby(), Place::Change { change: 1, seq: 1 }, "c1", now);
        assert_eq!(order.settle(now + SETTLE), ["c1"]);
        order.offer(&lobby(), Place::New(4), "m4", now);
        order.offer(&lobby(), Place::Change { change: 4, seq: 1 }, "c4", now);
        // The store has 2 and 3, and changes 2 and 3 (3 being m1's latest
        // state, numbered after 2 was made to m2).
        let read = vec![
            (Place::Change { change: 3, seq: 1 }, "c3 from the store"),
            (Place::New(3), "m3 from the store"),
            (Place::New(2), "m2 from the store"),
            (Place::Change { change: 2, seq: 2 }, "c2 from the store"),
        ];
        assert_eq!(
            order.healed(&lobby(), read, now),
            ["m2 from the store", "m3 from the store", "c2 from the store", "c3 from the store", "m4", "c4"]
        );
        assert!(order.gaps(now, Duration::ZERO).is_empty());
        assert!(order.offer(&lobby(), Place::New(3), "late m3", now).is_empty(), "healed already");
        // Another conversation's numbering is its own.
        let pair = ConversationId::pair(1, 2);
        assert!(order.offer(&pair, Place::New(1), "p1", now).is_empty());
        assert_eq!(order.settle(now + SETTLE), ["p1"]);
        assert_eq!(order.recent(now, Duration::from_secs(1)).len(), 2);
        order.forget_idle(now + Duration::from_secs(2), Duration::from_secs(1), |c| c.room_name() == Some("lobby"));
        assert_eq!(order.recent(now, Duration::from_secs(10)), [(lobby(), Some(4), Some(4))], "the lobby is heard");
        order.forget_idle(now + Duration::from_secs(2), Duration::from_secs(1), |_| false);
        assert!(order.recent(now, Duration::from_secs(10)).is_empty());
    }

    #[test]
    fn settling_says_when_it_is_due() {
        let (mut order, now) = (Order::default(), Instant::now());
        assert_eq!(order.next_settle(), None);
        order.offer(&lobby(), Place::New(1), "m1", now);
        let later = now + SETTLE / 2;
        order.offer(&ConversationId::pair(1, 2), Place::New(7), "p7", later);
        assert_eq!(order.next_settle(), Some(now + SETTLE));
        assert_eq!(order.settle(now + SETTLE), ["m1"]);
        assert_eq!(order.next_settle(), Some(later + SETTLE), "the pair is still settling");
        assert_eq!(order.settle(later + SETTLE), ["p7"]);
        assert_eq!(order.next_settle(), None);
    }

    #[test]
    fn a_room_started_from_the_store_goes_out_at_once() {
        let (mut order, now) = (Order::default(), Instant::now());
        order.start_at(&lobby(), 10, 4, now);
        assert_eq!(order.next_settle(), None, "nothing settles");
        assert_eq!(order.offer(&lobby(), Place::New(11), "m11", now), ["m11"]);
        assert_eq!(order.offer(&lobby(), Place::Change { change: 5, seq: 3 }, "c5", now), ["c5"]);
        // Committed before the start read, heard after it: out once, at once.
        assert_eq!(order.offer(&lobby(), Place::New(10), "m10, late", now), ["m10, late"]);
        assert_eq!(order.offer(&lobby(), Place::Change { change: 4, seq: 9 }, "c4, late", now), ["c4, late"]);
        assert!(order.offer(&lobby(), Place::New(11), "m11 again", now).is_empty());
        // Committed between the read and the subscription: a gap, healed.
        assert!(order.offer(&lobby(), Place::New(13), "m13", now).is_empty());
        assert_eq!(order.gaps(now, Duration::ZERO), [(lobby(), Some(11), Some(5))]);
        assert_eq!(
            order.healed(&lobby(), vec![(Place::New(12), "m12 from the store")], now),
            ["m12 from the store", "m13"]
        );
    }

    #[test]
    fn what_a_forgotten_line_held_is_handed_back_to_offer_again() {
        let (mut order, now) = (Order::default(), Instant::now());
        // This node's own commit, settling, as its room starts to be heard.
        assert!(order.offer(&lobby(), Place::New(11), "m11", now).is_empty());
        let held = order.forget(|conversation| *conversation == lobby());
        assert_eq!(held, [(lobby(), Place::New(11), "m11")]);
        order.start_at(&lobby(), 11, 0, now);
        let again: Vec<&str> =
            held.into_iter().flat_map(|(c, place, item)| order.offer(&c, place, item, now)).collect();
        assert_eq!(again, ["m11"], "it never went out, so it goes out now");
        assert_eq!(order.offer(&lobby(), Place::New(12), "m12", now), ["m12"]);
    }

    #[test]
    fn what_is_held_stays_bounded() {
        let now = Instant::now();
        let mut order = settled_at(1, 1, now);
        for seq in 3..(3 + 2 * MAX_HELD as i64) {
            assert!(order.offer(&lobby(), Place::New(seq), seq, now).is_empty());
        }
        // The oldest went; a heal from 2 brings them back from the store.
        let released = order.healed(&lobby(), vec![(Place::New(2), 2)], now);
        assert_eq!(released, [2], "3 onwards were dropped first, so 2 alone passes");
        assert_eq!(order.gaps(now, Duration::ZERO).len(), 1, "the rest is still behind a gap");
    }
}
