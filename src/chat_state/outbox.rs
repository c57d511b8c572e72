//! The outbox: messages I wrote that the server has not confirmed yet. Each
//! keeps its `cid` across every resend, so the server stores it once however
//! often it is sent; the view shows them as pending, or refused with Retry.

use leptos::prelude::*;

use super::{ChatState, Conversation};
use crate::protocol::{InThread, Media, Mentions, Quote};

/// A message on its way out. It keeps its `cid` across every resend, so the
/// server stores it once however often it is sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outgoing {
    pub cid: String,
    pub to: Conversation,
    pub text: String,
    /// A file already uploaded that this message carries.
    pub media: Option<Media>,
    /// `None` while waiting to be (re)sent; the server's reason once refused.
    pub refused: Option<String>,
    /// The message it answers.
    pub reply_to: Option<Quote>,
    /// A reply in a thread.
    pub thread: Option<InThread>,
    /// Whom it calls (`mentions.rs`).
    pub mentions: Mentions,
}

/// The most unconfirmed messages kept; past this the composer says to wait.
pub const MAX_OUTBOX: usize = 100;

impl ChatState {
    /// Queues a message to send; false if the outbox is full.
    pub fn queue(&self, to: Conversation, text: String, cid: String, media: Option<Media>) -> bool {
        let mut queued = false;
        let mentions = self.mentions_in(&to, &text);
        self.outbox.update(|outbox| {
            if outbox.len() < MAX_OUTBOX {
                outbox.push(Outgoing { cid, to, text, media, refused: None, reply_to: None, thread: None, mentions });
                queued = true;
            }
        });
        queued
    }

    /// Answers the message `id` of the conversation on screen with what is
    /// sent next.
    pub fn reply_to_message(&self, id: i64) {
        let Some(key) = self.active_id_untracked() else { return };
        let quote = self.messages.with_untracked(|all| Some(all.get(&key)?.iter().find(|m| m.id == id)?.quote()));
        self.replying.set(quote);
    }

    /// Makes the queued message `cid` a reply in the thread of `root`
    /// (sent to the conversation too with `in_conversation`).
    pub fn attach_thread(&self, cid: &str, root: i64, in_conversation: bool) {
        self.outbox.update(|outbox| {
            if let Some(m) = outbox.iter_mut().find(|m| m.cid == cid) {
                m.thread = Some(InThread { root, in_conversation });
            }
        });
    }

    /// Makes the queued message `cid` the answer to the one I chose to
    /// reply to (`replying`), if any.
    pub fn attach_reply(&self, cid: &str) {
        let Some(quote) = self.replying.try_update(Option::take).flatten() else { return };
        self.outbox.update(|outbox| {
            if let Some(m) = outbox.iter_mut().find(|m| m.cid == cid) {
                m.reply_to = Some(quote);
            }
        });
    }

    /// The server stored it: it now shows as a real message.
    pub fn confirm(&self, cid: &str) {
        if self.outbox.with_untracked(|outbox| outbox.iter().any(|m| m.cid == cid)) {
            self.outbox.update(|outbox| outbox.retain(|m| m.cid != cid));
        }
    }

    /// The server refused it for a reason resending cannot fix.
    pub fn refuse(&self, cid: &str, reason: String) {
        self.outbox.update(|outbox| {
            if let Some(m) = outbox.iter_mut().find(|m| m.cid == cid) {
                m.refused = Some(reason);
            }
        });
    }

    /// Puts a refused message back in line.
    pub fn retry(&self, cid: &str) {
        self.outbox.update(|outbox| {
            if let Some(m) = outbox.iter_mut().find(|m| m.cid == cid) {
                m.refused = None;
            }
        });
    }

    /// Drops a refused message the user gave up on.
    pub fn discard(&self, cid: &str) {
        self.outbox.update(|outbox| outbox.retain(|m| m.cid != cid));
    }

    /// The next message waiting to be sent.
    pub fn next_outgoing(&self) -> Option<Outgoing> {
        self.outbox.with_untracked(|outbox| outbox.iter().find(|m| m.refused.is_none()).cloned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat_state::ChatSnapshot;
    use crate::protocol::User;
    use serde_json::json;

    fn user(id: i64, name: &str) -> serde_json::Value {
        json!({ "id": id, "name": name })
    }

    #[test]
    fn the_outbox_keeps_order_until_the_server_confirms() {
        Owner::new_root(None).with(|| {
            let chat = ChatState::new(ChatSnapshot::default());
            chat.me.set(Some(User { id: 1, name: "alice".into() }));
            assert!(chat.queue(Conversation::lobby(), "one".into(), "c1".into(), None));
            assert!(chat.queue(Conversation::lobby(), "two".into(), "c2".into(), None));
            assert_eq!(chat.next_outgoing().map(|m| m.cid), Some("c1".into()));
            chat.refuse("c1", "no".into());
            assert_eq!(chat.next_outgoing().map(|m| m.cid), Some("c2".into()));
            // Someone else's message with my cid confirms nothing.
            let theirs = json!({ "id": 5, "seq": 1, "room": "lobby", "from": user(2, "bob"), "text": "two", "at": 0, "cid": "c2" });
            chat.apply_json("message", theirs);
            assert_eq!(chat.outbox.get_untracked().len(), 2);
            let mine = json!({ "id": 6, "seq": 2, "room": "lobby", "from": user(1, "alice"), "text": "two", "at": 0, "cid": "c2" });
            chat.apply_json("message", mine);
            assert_eq!(chat.outbox.get_untracked().len(), 1);
            assert_eq!(chat.next_outgoing(), None, "a refused message waits for Retry");
            chat.retry("c1");
            assert_eq!(chat.next_outgoing().map(|m| m.text), Some("one".into()));
            chat.discard("c1");
            assert!(chat.outbox.get_untracked().is_empty());
            for n in 0..MAX_OUTBOX {
                assert!(chat.queue(Conversation::lobby(), "x".into(), format!("n{n}"), None));
            }
            assert!(!chat.queue(Conversation::lobby(), "one too many".into(), "over".into(), None));
        });
    }
}
