//! Who is typing where, on its way out: never stored, and coalesced the way
//! presence is. A conversation's list goes out when it changes, at most
//! once per [`WINDOW`] for all its typists together, so fifty people
//! typing in a room of a thousand cost each socket one frame a second, not
//! fifty. A typist is forgotten [`TYPING_FOR`] after their last news, or at
//! once when their message is posted.
//!
//! Bounded: at most [`MAX_CONVERSATIONS`] conversations with typists, and
//! [`MAX_TYPISTS`] typists in each; past that, newcomers are not shown.
//! One person types in at most [`MAX_PER_USER`] conversations at once:
//! starting in another forgets the one they started in first, so nobody
//! can fill the feed alone.
//!
//! With several nodes, each node's feed knows every typist of the
//! conversations its sockets hear: what is typed here is told to the
//! other nodes (`cluster::passing`), each of which flushes to its own
//! sockets.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use super::cluster::Relay;
use super::{Audience, Outbound};
use crate::protocol::{event, ConversationId, Typing, User, UserId, MAX_NAMED_TYPISTS};

/// How long the lists of a flush gather before the next.
pub const WINDOW: Duration = Duration::from_secs(1);
/// How long someone counts as typing after they last said so (clients say
/// so again every `TYPING_EVERY_MS` while they type).
pub const TYPING_FOR: Duration = Duration::from_secs(6);
/// The most conversations with someone typing that are kept.
pub const MAX_CONVERSATIONS: usize = 10_000;
/// The most typists kept per conversation.
pub const MAX_TYPISTS: usize = 100;
/// The most conversations one person is shown typing in at once (a few
/// tabs, each in its own conversation).
pub const MAX_PER_USER: usize = 3;

/// The typists' side; cloning is cheap.
#[derive(Clone, Default)]
pub struct TypingFeed {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    /// The other nodes, when there are: who types here is told to them.
    relay: OnceLock<Relay>,
    state: Mutex<State>,
    wake: Notify,
}

#[derive(Default)]
struct State {
    /// Who types where, first first, each until when.
    typing: HashMap<ConversationId, Vec<(User, Instant)>>,
    /// Conversations whose list goes out with the next flush.
    dirty: HashSet<ConversationId>,
    /// Where each typist types, first first (at most [`MAX_PER_USER`]).
    places: HashMap<UserId, Vec<ConversationId>>,
}

impl State {
    /// Takes `user` off `conversation`'s list; whether they were on it.
    fn remove(&mut self, conversation: &ConversationId, user: UserId) -> bool {
        let Some(list) = self.typing.get_mut(conversation) else { return false };
        let before = list.len();
        list.retain(|t| t.0.id != user);
        if list.len() == before {
            return false;
        }
        if list.is_empty() {
            self.typing.remove(conversation);
        }
        self.forget_place(user, conversation);
        self.dirty.insert(conversation.clone());
        true
    }

    fn forget_place(&mut self, user: UserId, conversation: &ConversationId) {
        if let Some(places) = self.places.get_mut(&user) {
            places.retain(|place| place != conversation);
            if places.is_empty() {
                self.places.remove(&user);
            }
        }
    }
}

impl TypingFeed {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Poisoning only means a panic mid-update; the lists are still sound.
        self.inner.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Tells the other nodes who types here from now on; the first call
    /// wins.
    pub fn attach_relay(&self, relay: Relay) {
        let _ = self.inner.relay.set(relay);
    }

    /// Whether `user` is known to be typing in `conversation` (so was
    /// allowed to): then they are for another [`TYPING_FOR`], on every
    /// node.
    pub fn still_typing(&self, conversation: &ConversationId, user: &User) -> bool {
        let known = self.keep(conversation, user.id);
        if known {
            self.tell_others(conversation, user, true);
        }
        known
    }

    /// `user`, who may post in `conversation`, started typing there.
    pub fn started(&self, conversation: &ConversationId, user: &User) {
        self.start(conversation, user);
        self.tell_others(conversation, user, true);
    }

    /// `user` stopped typing in `conversation` (their message was posted,
    /// or they left).
    pub fn stopped(&self, conversation: &ConversationId, user: &User) {
        if self.stop(conversation, user.id) {
            self.tell_others(conversation, user, false);
        }
    }

    /// Another node says `user` types in `conversation` (they started, or
    /// still do).
    pub fn typing_elsewhere(&self, conversation: &ConversationId, user: &User) {
        if !self.keep(conversation, user.id) {
            self.start(conversation, user);
        }
    }

    /// Another node says `user` stopped typing in `conversation`.
    pub fn stopped_elsewhere(&self, conversation: &ConversationId, user: UserId) {
        self.stop(conversation, user);
    }

    fn tell_others(&self, conversation: &ConversationId, user: &User, on: bool) {
        if let Some(relay) = self.inner.relay.get() {
            relay.typing(conversation, user, on);
        }
    }

    /// Renews a known typist; whether `user` was one.
    fn keep(&self, conversation: &ConversationId, user: UserId) -> bool {
        let mut state = self.lock();
        let Some(typist) = state.typing.get_mut(conversation).and_then(|list| list.iter_mut().find(|t| t.0.id == user))
        else {
            return false;
        };
        typist.1 = Instant::now() + TYPING_FOR;
        // Said again with the next flush, for sockets that came since.
        state.dirty.insert(conversation.clone());
        drop(state);
        self.inner.wake.notify_one();
        true
    }

    fn start(&self, conversation: &ConversationId, user: &User) {
        {
            let mut state = self.lock();
            if !state.typing.contains_key(conversation) && state.typing.len() >= MAX_CONVERSATIONS {
                return;
            }
            let list = state.typing.entry(conversation.clone()).or_default();
            if list.len() >= MAX_TYPISTS || list.iter().any(|t| t.0.id == user.id) {
                return;
            }
            list.push((user.clone(), Instant::now() + TYPING_FOR));
            state.dirty.insert(conversation.clone());
            let places = state.places.entry(user.id).or_default();
            places.push(conversation.clone());
            let oldest = (places.len() > MAX_PER_USER).then(|| places[0].clone());
            if let Some(oldest) = oldest {
                state.remove(&oldest, user.id);
            }
        }
        self.inner.wake.notify_one();
    }

    /// Takes a typist off; whether they were on.
    fn stop(&self, conversation: &ConversationId, user: UserId) -> bool {
        let removed = self.lock().remove(conversation, user);
        if removed {
            self.inner.wake.notify_one();
        }
        removed
    }

    /// Flushes for the server's life: at once after a quiet spell, then at
    /// most once per [`WINDOW`] while anyone is typing anywhere.
    pub async fn run(self, outbound: Outbound) {
        loop {
            if self.idle() {
                self.inner.wake.notified().await;
            }
            for (conversation, typing) in self.due(Instant::now()) {
                outbound.send_one(Audience::Conversation(&conversation), event::TYPING, &typing).await;
            }
            tokio::time::sleep(WINDOW).await;
        }
    }

    /// Nobody is typing and nothing is waiting to go out.
    fn idle(&self) -> bool {
        let state = self.lock();
        state.typing.is_empty() && state.dirty.is_empty()
    }

    /// Forgets typists whose time is up at `now`, and takes the lists that
    /// changed since the last flush, as they go out.
    fn due(&self, now: Instant) -> Vec<(ConversationId, Typing)> {
        let mut state = self.lock();
        let State { typing, dirty, places } = &mut *state;
        typing.retain(|conversation, list| {
            list.retain(|t| {
                let on = t.1 > now;
                if !on {
                    dirty.insert(conversation.clone());
                    if let Some(mine) = places.get_mut(&t.0.id) {
                        mine.retain(|place| place != conversation);
                    }
                }
                on
            });
            !list.is_empty()
        });
        places.retain(|_, mine| !mine.is_empty());
        dirty
            .drain()
            .map(|conversation| {
                let list = typing.get(&conversation).map(Vec::as_slice).unwrap_or_default();
                let users = list.iter().take(MAX_NAMED_TYPISTS).map(|t| t.0.clone()).collect();
                let typing = Typing::of(&conversation, users, list.len());
                (conversation, typing)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(id: UserId) -> User {
        User { id, name: format!("u{id}") }
    }

    #[test]
    fn lists_go_out_when_they_change_and_typists_expire() {
        let feed = TypingFeed::default();
        let room = ConversationId::room("dev");
        assert!(!feed.still_typing(&room, &user(1)), "not known yet");
        for id in 1..=7 {
            feed.started(&room, &user(id));
        }
        let now = Instant::now();
        let due = feed.due(now);
        assert_eq!(due.len(), 1, "one list for the conversation, however many typed");
        assert_eq!((due[0].1.users.len(), due[0].1.count), (MAX_NAMED_TYPISTS, 7));
        assert!(feed.due(now).is_empty(), "nothing changed since");
        feed.stopped(&room, &user(3));
        assert_eq!(feed.due(now)[0].1.count, 6);
        assert!(feed.still_typing(&room, &user(1)));
        let later = feed.due(now + TYPING_FOR + Duration::from_secs(1));
        assert_eq!((later[0].1.count, later[0].1.users.len()), (0, 0), "everyone's time is up");
        assert!(feed.idle());
        assert!(feed.lock().places.is_empty(), "nobody's places are left behind");
    }

    #[test]
    fn one_person_types_in_a_few_conversations_at_most() {
        let feed = TypingFeed::default();
        let rooms: Vec<_> = (0..MAX_PER_USER + 2).map(|n| ConversationId::room(format!("r{n}"))).collect();
        for room in &rooms {
            feed.started(room, &user(1));
        }
        feed.started(&rooms[MAX_PER_USER + 1], &user(2));
        let state = feed.lock();
        let typing_in = |id: UserId| {
            let state = &state;
            rooms.iter().filter(move |r| state.typing.get(*r).is_some_and(|l| l.iter().any(|t| t.0.id == id)))
        };
        assert_eq!(typing_in(1).count(), MAX_PER_USER);
        assert!(typing_in(1).eq(rooms[2..].iter()), "the first ones started are forgotten");
        assert_eq!(state.places[&1], rooms[2..].to_vec());
        assert!(!state.typing.contains_key(&rooms[0]), "an emptied list goes");
        assert!(state.dirty.contains(&rooms[0]), "and says so with the next flush");
        drop(state);
        feed.stopped(&rooms[3], &user(1));
        assert_eq!(feed.lock().places[&1].len(), MAX_PER_USER - 1);
    }
}
