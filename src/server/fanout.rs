//! Live delivery of committed messages, in `seq` order per conversation.
//!
//! Handlers store messages concurrently, so two messages of one room can
//! commit as seq 7 and 8 but reach the broadcast as 8 then 7. Clients that
//! append what they hear (the prototype's do) would then show them out of
//! order. Every committed message therefore goes through one delivery task
//! that emits each conversation's messages in `seq` order, holding back a
//! message until the one before it has come (or until it is clear that one
//! never will: a gap older than [`MAX_HOLD`] is skipped, and clients that
//! missed something recover it by `seq` as after any reconnect).
//!
//! This is also the one place where fan-out happens, so a multi-node
//! backplane can later replace the local emit here and nowhere else.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use socketioxide::SocketIo;
use tokio::sync::{mpsc, oneshot};

use super::direct;
use super::realtime::{namespace, user_room};
use super::store::{dm_room, CommitObserver};
use crate::protocol::{event, ChatMessage, SecretMessage};

/// Committed messages waiting for the delivery task.
const QUEUE: usize = 4096;
/// How long a message waits for the one before it.
const MAX_HOLD: Duration = Duration::from_millis(500);
/// Past this many conversations, idle ones are forgotten.
const PRUNE_AT: usize = 10_000;
/// How long stored-but-undelivered seqs keep a conversation from being
/// forgotten.
const FORGET_AFTER: Duration = Duration::from_secs(10);

/// A committed message on its way to its audience.
#[derive(Debug, Clone)]
pub enum Delivery {
    /// To everyone in the message's room.
    Room(ChatMessage),
    /// To the two parties' sockets.
    Private(SecretMessage),
}

/// What the delivery task is told. Deliveries, the common case, travel
/// unboxed: a box would be one more allocation per message.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
enum Command {
    Deliver(Delivery),
    /// From the store, before the callers of a commit hear back: the
    /// conversation's first and last seq in it.
    Committed {
        conversation: String,
        first_seq: i64,
        last_seq: i64,
    },
}

impl Delivery {
    /// The conversation's key, borrowed where the message already holds it
    /// (room messages, the common case), so most deliveries allocate none.
    fn conversation(&self) -> Cow<'_, str> {
        match self {
            Delivery::Room(message) => Cow::Borrowed(&message.room),
            Delivery::Private(secret) => Cow::Owned(dm_room(secret.from.id, secret.to.id)),
        }
    }

    fn seq(&self) -> i64 {
        match self {
            Delivery::Room(message) => message.seq,
            Delivery::Private(secret) => secret.seq,
        }
    }

    async fn emit(self, io: &SocketIo, direct: bool) {
        let Some(sockets) = namespace(io) else { return };
        // Serialised once, whichever way it goes out.
        let (event, recipients, data) = match &self {
            Delivery::Room(message) => {
                (event::MESSAGE, sockets.to(message.room.clone()), serde_json::value::to_raw_value(message))
            }
            Delivery::Private(secret) => {
                let rooms = [user_room(secret.from.id), user_room(secret.to.id)];
                (event::SECRET, sockets.to(rooms), serde_json::value::to_raw_value(secret))
            }
        };
        let data = match data {
            Ok(data) => data,
            Err(error) => return tracing::warn!(%error, "a message could not be encoded for delivery"),
        };
        let result = direct::broadcast(recipients, &[(event, &data)], direct).await;
        // A socket that is gone or too slow misses it live; it catches up
        // by `seq` when it reconnects.
        if let Err(error) = result {
            tracing::debug!(%error, "a delivery reached only some sockets");
        }
    }
}

/// The handlers' side: hands committed messages to the delivery task.
#[derive(Clone, Debug)]
pub struct Fanout {
    queue: mpsc::Sender<Command>,
}

/// The delivery task's side, until it is started with [`Fanout::run`].
pub struct FanoutQueue(mpsc::Receiver<Command>);

impl Fanout {
    pub fn new() -> (Fanout, FanoutQueue) {
        let (queue, receiver) = mpsc::channel(QUEUE);
        (Fanout { queue }, FanoutQueue(receiver))
    }

    /// Queues a committed message for delivery. Waits only if the task is
    /// [`QUEUE`] messages behind, which slows senders instead of growing.
    pub async fn deliver(&self, delivery: Delivery) {
        if self.queue.send(Command::Deliver(delivery)).await.is_err() {
            tracing::debug!("delivery after shutdown dropped");
        }
    }

    /// The delivery task: runs until `stop` fires.
    /// `direct`: whether WebSocket recipients are written to directly
    /// (`Config::direct_writes`).
    pub async fn run(io: SocketIo, FanoutQueue(mut queue): FanoutQueue, direct: bool, mut stop: oneshot::Receiver<()>) {
        let mut order = SeqOrder::default();
        let mut tick = tokio::time::interval(MAX_HOLD / 2);
        loop {
            tokio::select! {
                command = queue.recv() => match command {
                    Some(Command::Deliver(delivery)) => {
                        for ready in order.arrive(delivery, Instant::now()) {
                            ready.emit(&io, direct).await;
                        }
                    }
                    Some(Command::Committed { conversation, first_seq, last_seq }) => {
                        order.expect(conversation, first_seq, last_seq, Instant::now());
                    }
                    None => return,
                },
                _ = tick.tick() => {
                    for ready in order.overdue(Instant::now()) {
                        ready.emit(&io, direct).await;
                    }
                }
                _ = &mut stop => return,
            }
        }
    }
}

/// The store's writer thread reports each commit here, so the delivery
/// task knows where a conversation it has not seen starts even when the
/// commit's callers hand their messages over out of order.
impl CommitObserver for Fanout {
    fn committed(&self, conversation: &str, first_seq: i64, last_seq: i64) {
        let command = Command::Committed { conversation: conversation.to_owned(), first_seq, last_seq };
        // Waits if the task is behind (the writer thread is no runtime
        // thread); after shutdown there is nobody left to tell.
        let _ = self.queue.blocking_send(command);
    }
}

/// Where one conversation's deliveries stand.
#[derive(Debug, Default)]
struct Conversation {
    /// The seq to deliver next.
    next: i64,
    /// The highest seq a commit has stored, delivered or not, and when: a
    /// conversation still expecting messages is not forgotten (unless the
    /// wait is long past: a caller that went away never hands its over).
    announced: i64,
    announced_at: Option<Instant>,
    /// Arrived early, by seq; and when the oldest of them arrived.
    held: BTreeMap<i64, Delivery>,
    held_since: Option<Instant>,
}

/// Puts deliveries in `seq` order per conversation (pure, so testable).
#[derive(Debug, Default)]
struct SeqOrder {
    conversations: HashMap<String, Conversation>,
}

impl SeqOrder {
    /// Takes one delivery; returns what can go out now, in order.
    fn arrive(&mut self, delivery: Delivery, now: Instant) -> Vec<Delivery> {
        self.prune(now);
        let seq = delivery.seq();
        let key = delivery.conversation();
        // Unannounced (no commit report, as in tests): the first we hear of
        // a conversation sets where it starts.
        if !self.conversations.contains_key(key.as_ref()) {
            self.conversations.insert(key.to_string(), Conversation { next: seq, ..Default::default() });
        }
        let Some(conversation) = self.conversations.get_mut(key.as_ref()) else { return vec![delivery] };
        if seq < conversation.next {
            // Later than a gap we gave up on: late beats never.
            return vec![delivery];
        }
        conversation.held.insert(seq, delivery);
        conversation.held_since.get_or_insert(now);
        conversation.release()
    }

    /// A commit stored `conversation`'s seqs `first_seq..=last_seq`. For a
    /// conversation not seen yet, delivery starts at `first_seq`.
    fn expect(&mut self, conversation: String, first_seq: i64, last_seq: i64, now: Instant) {
        self.prune(now);
        let entry = self
            .conversations
            .entry(conversation)
            .or_insert_with(|| Conversation { next: first_seq, ..Default::default() });
        entry.announced = entry.announced.max(last_seq);
        entry.announced_at = Some(now);
    }

    /// Past [`PRUNE_AT`] conversations, forgets those with nothing held and
    /// nothing stored but undelivered (or only for longer than [`FORGET_AFTER`]).
    fn prune(&mut self, now: Instant) {
        if self.conversations.len() >= PRUNE_AT {
            self.conversations.retain(|_, c| {
                let due =
                    c.announced >= c.next && c.announced_at.is_some_and(|at| now.duration_since(at) < FORGET_AFTER);
                !c.held.is_empty() || due
            });
        }
    }

    /// Gives up waiting where a gap is older than [`MAX_HOLD`].
    fn overdue(&mut self, now: Instant) -> Vec<Delivery> {
        let mut ready = Vec::new();
        for conversation in self.conversations.values_mut() {
            if conversation.held_since.is_some_and(|since| now.duration_since(since) >= MAX_HOLD) {
                if let Some(first) = conversation.held.keys().next() {
                    conversation.next = *first;
                }
                ready.extend(conversation.release());
            }
        }
        ready
    }
}

impl Conversation {
    fn release(&mut self) -> Vec<Delivery> {
        let mut ready = Vec::new();
        while let Some(delivery) = self.held.remove(&self.next) {
            ready.push(delivery);
            self.next += 1;
        }
        self.held_since = if self.held.is_empty() { None } else { self.held_since };
        ready
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::User;

    fn message(seq: i64) -> Delivery {
        Delivery::Room(ChatMessage {
            id: seq,
            seq,
            room: "lobby".into(),
            from: User { id: 1, name: "a".into() },
            text: String::new(),
            at: 0,
            media: None,
            cid: None,
        })
    }

    fn seqs(deliveries: Vec<Delivery>) -> Vec<i64> {
        deliveries.iter().map(Delivery::seq).collect()
    }

    #[test]
    fn deliveries_leave_in_seq_order() {
        let now = Instant::now();
        let mut order = SeqOrder::default();
        assert_eq!(seqs(order.arrive(message(5), now)), [5]);
        assert_eq!(seqs(order.arrive(message(7), now)), Vec::<i64>::new());
        assert_eq!(seqs(order.arrive(message(8), now)), Vec::<i64>::new());
        assert_eq!(seqs(order.arrive(message(6), now)), [6, 7, 8]);
        assert_eq!(seqs(order.arrive(message(9), now)), [9]);
    }

    /// Seqs 1 to 3 committed together, then 4 to 5; their callers wake in
    /// any order, the later commit's first.
    #[test]
    fn a_new_conversation_starts_where_its_first_commit_did() {
        let now = Instant::now();
        let mut order = SeqOrder::default();
        order.expect("lobby".into(), 1, 3, now);
        order.expect("lobby".into(), 4, 5, now);
        assert!(order.arrive(message(4), now).is_empty());
        assert!(order.arrive(message(3), now).is_empty());
        assert_eq!(seqs(order.arrive(message(1), now)), [1]);
        assert_eq!(seqs(order.arrive(message(2), now)), [2, 3, 4]);
        assert_eq!(seqs(order.arrive(message(5), now)), [5]);
    }

    fn in_room(room: &str, seq: i64) -> Delivery {
        match message(seq) {
            Delivery::Room(message) => Delivery::Room(ChatMessage { room: room.into(), ..message }),
            other => other,
        }
    }

    /// Forgetting idle conversations never forgets one with stored seqs
    /// still on their way.
    #[test]
    fn pruning_keeps_a_commit_that_is_still_arriving() {
        let now = Instant::now();
        let mut order = SeqOrder::default();
        order.expect("lobby".into(), 10, 12, now);
        assert_eq!(seqs(order.arrive(message(10), now)), [10]);
        for n in 0..PRUNE_AT {
            order.expect(format!("idle{n}"), 1, 1, now);
            assert_eq!(seqs(order.arrive(in_room(&format!("idle{n}"), 1), now)), [1]);
        }
        assert!(order.conversations.len() < PRUNE_AT, "idle conversations were forgotten");
        assert!(order.arrive(message(12), now).is_empty(), "12 waits for 11");
        assert_eq!(seqs(order.arrive(message(11), now)), [11, 12]);
    }

    #[test]
    fn a_gap_that_never_fills_is_skipped_after_a_while() {
        let now = Instant::now();
        let mut order = SeqOrder::default();
        order.arrive(message(1), now);
        assert!(order.arrive(message(3), now).is_empty());
        assert!(order.overdue(now + MAX_HOLD / 2).is_empty());
        assert_eq!(seqs(order.overdue(now + MAX_HOLD)), [3]);
        // The missing one, if it turns up after all, still goes out.
        assert_eq!(seqs(order.arrive(message(2), now + MAX_HOLD)), [2]);
        assert_eq!(seqs(order.arrive(message(4), now + MAX_HOLD)), [4]);
    }
}
