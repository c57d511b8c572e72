//! Every conversation's messages in the browser, rooms and private ones
//! alike: kept in `seq` order, each once, at most [`MAX_KEPT_MESSAGES`] per
//! conversation; unread counts (and how many of them call me); the gaps a live message reveals; and the
//! list of my private conversations (newest first, with the last `seq`
//! known of each, loaded or not); and which one is on screen
//! ([`Conversation`]).

use leptos::prelude::*;

use super::{ChatState, Gap, MAX_KEPT_MESSAGES};
use crate::protocol::{ConversationId, ConversationSummary, Message, MessageAck, User, UserId, LOBBY};

/// The conversation on screen: a room, or my private conversation with
/// someone (whose name the view shows).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Conversation {
    Room(String),
    Direct(User),
}

impl Conversation {
    pub fn lobby() -> Conversation {
        Conversation::Room(LOBBY.to_owned())
    }

    /// Where this conversation lives: `/`, `/r/{room}` or `/dm/{user id}`.
    pub fn path(&self) -> String {
        match self {
            Conversation::Room(room) if room == LOBBY => "/".to_owned(),
            Conversation::Room(room) => format!("/r/{room}"),
            Conversation::Direct(peer) => format!("/dm/{}", peer.id),
        }
    }

    /// Which conversation this is, for `me` (a private one needs someone
    /// signed in).
    pub fn id(&self, me: Option<UserId>) -> Option<ConversationId> {
        match self {
            Conversation::Room(room) => Some(ConversationId::room(room.as_str())),
            Conversation::Direct(peer) => me.map(|me| ConversationId::pair(me, peer.id)),
        }
    }
}

impl ChatState {
    /// A message new to me (live, missed while I was away, or mine just
    /// acked): shown, and counted unread unless I wrote it, I am looking at
    /// its conversation, or I have not joined (a visitor). Returns the gap before it, if it skipped some
    /// `seq` after the newest I knew of there (a conversation's `seq` has
    /// no holes).
    pub fn add_message(&self, message: Message) -> Option<Gap> {
        let id = message.conversation.clone();
        let seen = self.known_seq(&id);
        let gap = seen.filter(|seen| message.seq > seen + 1).map(|seen| Gap::Conversation { id: id.clone(), seen });
        self.note_private(&message);
        // Unread is a member's: a visitor who has not joined keeps no count.
        let member = self.me_id().is_some();
        let counts = member && !self.is_me(message.from.id) && self.active_id_untracked().as_ref() != Some(&id);
        let calls_me = self.me_id().is_some_and(|me| message.mentions.call(me));
        let mut added = false;
        self.messages.update(|all| added = insert_by_seq(all.entry(id.clone()).or_default(), message));
        if added && counts {
            if calls_me {
                self.mentioned.update(|mentioned| *mentioned.entry(id.clone()).or_default() += 1);
            }
            self.unread.update(|unread| *unread.entry(id).or_default() += 1);
        }
        gap
    }

    /// Messages of a conversation that I missed (after a reconnect, or to
    /// fill a gap): shown and counted unread like live ones.
    pub fn receive_missed(&self, missed: Vec<Message>) {
        for message in missed {
            self.add_message(message);
        }
    }

    /// My message, acked as `ack`: shown at once as stored, whether or not
    /// its live copy ever comes (that copy finds it there, by id).
    pub fn sent(&self, cid: &str, ack: MessageAck) -> Option<Gap> {
        let sent = self.outbox.with_untracked(|outbox| outbox.iter().find(|m| m.cid == cid).cloned());
        // Confirmed whatever else happens, so it is never sent again.
        self.confirm(cid);
        let (me, sent) = (self.me.get_untracked()?, sent?);
        let (conversation, to) = match sent.to {
            super::Conversation::Room(room) => (ConversationId::room(room), None),
            super::Conversation::Direct(peer) => (ConversationId::pair(me.id, peer.id), Some(peer)),
        };
        self.add_message(Message {
            id: ack.id,
            seq: ack.seq,
            conversation,
            from: me,
            to,
            text: sent.text,
            at: ack.at,
            cid: Some(sent.cid),
            media: sent.media,
            reply_to: sent.reply_to,
            in_thread: sent.thread,
            revision: Default::default(),
            mentions: sent.mentions,
        })
    }

    /// Merges a page of history that I asked for (opening a conversation,
    /// scrolling back): nothing in it counts as unread.
    pub fn merge_page(&self, id: &ConversationId, page: Vec<Message>) {
        if let Some(newest) = page.last() {
            self.note_private(newest);
        }
        self.messages.update(|all| {
            let list = all.entry(id.clone()).or_default();
            for message in page {
                insert_by_seq(list, message);
            }
        });
    }

    /// The latest page of a conversation, merged: I now hold its latest
    /// page, current up to the change number `changes`.
    pub fn merge_latest(&self, id: &ConversationId, page: Vec<Message>, changes: i64) {
        self.merge_page(id, page);
        self.first_change(id, changes);
        self.loaded.update_value(|loaded| {
            loaded.insert(id.clone());
        });
    }

    /// Whether I hold a conversation's latest page (else opening loads it).
    pub fn holds_latest(&self, id: &ConversationId) -> bool {
        self.loaded.with_value(|loaded| loaded.contains(id))
    }

    /// Replaces what I have of a conversation with its latest page (the gap
    /// was too large to fill), keeping what arrived live after that page was
    /// read.
    pub fn restart(&self, id: &ConversationId, page: Vec<Message>, changes: i64) {
        let newest = page.last().map(|m| m.seq);
        self.messages.update(|all| {
            let later = all.remove(id).unwrap_or_default().into_iter().filter(|m| newest.is_some_and(|n| m.seq > n));
            all.insert(id.clone(), later.collect());
        });
        // What I keep is the page, and what came live after it.
        self.changes_seen.update_value(|seen| {
            seen.insert(id.clone(), changes);
        });
        self.merge_latest(id, page, changes);
    }

    /// The newest `seq` I know of in a conversation: of the messages I hold,
    /// and for a private one, of what the server listed.
    pub fn known_seq(&self, id: &ConversationId) -> Option<i64> {
        let held = self.messages.with_untracked(|all| all.get(id).and_then(|list| list.last()).map(|m| m.seq));
        let listed = self.me_id().and_then(|me| id.peer_of(me)).and_then(|peer| {
            self.conversations.with_untracked(|list| list.iter().find(|c| c.with.id == peer).map(|c| c.last_seq))
        });
        held.max(listed)
    }

    /// The conversation on screen, untracked.
    pub(super) fn active_id_untracked(&self) -> Option<ConversationId> {
        self.active.with_untracked(|active| active.id(self.me_id()))
    }

    /// A message of one of my private conversations moves it to the top
    /// of my list.
    fn note_private(&self, message: &Message) {
        let Some(me) = self.me_id() else { return };
        let Some(peer) = message.conversation.peer_of(me) else { return };
        let with = if message.from.id == peer { Some(&message.from) } else { message.to.as_ref() };
        if let Some(with) = with {
            self.note_conversation(with, message.seq, message.at);
        }
    }

    /// Keeps `with` in my conversation list, newest first, remembering the
    /// highest `seq` seen there.
    pub fn note_conversation(&self, with: &User, seq: i64, at: i64) {
        self.conversations.update(|list| {
            let summary = match list.iter().position(|c| c.with.id == with.id) {
                Some(known) => {
                    let known = list.remove(known);
                    let (last_seq, last_at) = (known.last_seq.max(seq), known.last_at.max(at));
                    ConversationSummary { with: with.clone(), last_seq, last_at, last_change: known.last_change }
                }
                None => ConversationSummary { with: with.clone(), last_seq: seq, last_at: at, last_change: 0 },
            };
            // The list is in order already: put this one back in its place.
            let before = |c: &ConversationSummary| (c.last_at, summary.with.id) > (summary.last_at, c.with.id);
            let place = list.partition_point(before);
            list.insert(place, summary);
        });
    }
}

/// Keeps `list` ordered by seq whatever order messages arrive in, never
/// shows one message twice (a copy in a later state replaces an earlier
/// one), and keeps the newest [`MAX_KEPT_MESSAGES`]. Returns whether
/// `message` was new.
pub(super) fn insert_by_seq(list: &mut Vec<Message>, message: Message) -> bool {
    if let Some(held) = list.iter_mut().rev().find(|m| m.id == message.id) {
        if held.revision.change < message.revision.change {
            *held = message;
        }
        return false;
    }
    let position = list.iter().rposition(|m| m.seq < message.seq).map_or(0, |p| p + 1);
    list.insert(position, message);
    if list.len() > MAX_KEPT_MESSAGES {
        list.remove(0);
    }
    true
}
