//! Channels: which Redis channels a conversation travels on, how an
//! envelope names its conversation, and the subscriptions of this node,
//! kept matching what its sockets hear ([`Node::reconcile`]). A room this
//! node starts to hear has its numbering started from the store here
//! (`order`'s docs say why).

use std::collections::HashSet;
use std::time::Instant;

use tokio::sync::mpsc;

use super::control::CONTROL;
use super::limits::LIMITS;
use super::order::Place;
use super::presence::PRESENCE;
use super::relay::Node;
use crate::protocol::{ConversationId, UserId};
use crate::server::delivery::{Audience, Encoded};

/// The channels a conversation is published on.
pub(super) fn channels_of(conversation: &ConversationId) -> Vec<String> {
    match conversation {
        ConversationId::Room(name) => vec![format!("rtca:room:{name}")],
        ConversationId::Pair(a, b) => vec![format!("rtca:user:{a}"), format!("rtca:user:{b}")],
    }
}

/// How an envelope names a conversation: a room's name, or a pair.
pub(super) fn envelope_fields(conversation: &ConversationId) -> (Option<&str>, Option<(UserId, UserId)>) {
    match conversation {
        ConversationId::Room(name) => (Some(name.as_str()), None),
        ConversationId::Pair(a, b) => (None, Some((*a, *b))),
    }
}

/// The conversation an envelope names ([`envelope_fields`] read back), if
/// it names exactly one.
pub(super) fn conversation_named(room: Option<String>, pair: Option<(UserId, UserId)>) -> Option<ConversationId> {
    match (room, pair) {
        (Some(name), None) => Some(ConversationId::room(name)),
        (None, Some((a, b))) => Some(ConversationId::pair(a, b)),
        _ => None,
    }
}

/// The channel a Socket.IO room of this node's stands for, if any: a chat
/// room's, or a user's (for their private conversations).
fn channel_of_socket_room(room: &str) -> Option<String> {
    if let Some(user) = room.strip_prefix("user:") {
        return user.parse::<UserId>().ok().map(|id| format!("rtca:user:{id}"));
    }
    // A chat room's Socket.IO room is its bare name; every other name
    // (sessions, presence) has a `:` (`socket::keys`).
    (!room.contains(':') && !room.is_empty()).then(|| format!("rtca:room:{room}"))
}

impl Node {
    /// Subscribes to the channels of what this node's sockets hear, and
    /// unsubscribes from the rest. Returns false if the connection failed.
    /// `local`: this node's commits waiting for the relay, taken in before
    /// anything more is heard from the others once rooms have started.
    pub(super) async fn reconcile(
        &mut self,
        sink: &mut redis::aio::PubSubSink,
        local: &mut mpsc::Receiver<(Encoded, Place)>,
    ) -> bool {
        let Some(everyone) = self.outbound.recipients(Audience::Everyone { except: None }) else {
            return true;
        };
        let rooms = match everyone.rooms().await {
            Ok(rooms) => rooms,
            Err(error) => {
                tracing::debug!(?error, "could not list this node's rooms");
                return true;
            }
        };
        let mut wanted: HashSet<String> = rooms.iter().filter_map(|room| channel_of_socket_room(room)).collect();
        wanted.insert(CONTROL.to_owned());
        wanted.insert(PRESENCE.to_owned());
        wanted.insert(LIMITS.to_owned());
        let new: Vec<&String> = wanted.difference(&self.subscribed).collect();
        let gone: Vec<&String> = self.subscribed.difference(&wanted).collect();
        // Rooms this node starts to hear start from the store's newest
        // numbers, read before subscribing (`order`'s docs say why).
        let rooms_new_here: Vec<ConversationId> = wanted
            .difference(&self.wanted)
            .filter_map(|channel| channel.strip_prefix("rtca:room:"))
            .map(ConversationId::room)
            .collect();
        let starts = if rooms_new_here.is_empty() {
            Vec::new()
        } else {
            match self.store.heads(&rooms_new_here).await {
                Ok(heads) => rooms_new_here.into_iter().zip(heads).collect(),
                Err(error) => {
                    // They settle instead, as a private conversation does.
                    tracing::warn!(%error, "could not read where new rooms stand");
                    Vec::new()
                }
            }
        };
        if !new.is_empty() {
            if let Err(error) = sink.subscribe(&new).await {
                tracing::warn!(%error, "could not subscribe");
                return false;
            }
        }
        if !gone.is_empty() {
            if let Err(error) = sink.unsubscribe(&gone).await {
                tracing::warn!(%error, "could not unsubscribe");
                return false;
            }
        }
        // What this node delivered of a conversation before its sockets
        // stopped hearing it is stale: it starts again, as a conversation
        // new here (not after a lost connection: the tail checks kept
        // those conversations up to date meanwhile). What it held (this
        // node's own commits, settling) is offered again once it has.
        let mut held = Vec::new();
        for channel in wanted.difference(&self.wanted) {
            if let Some(name) = channel.strip_prefix("rtca:room:") {
                held.extend(self.order.forget(|conversation| conversation.room_name() == Some(name)));
            } else if let Some(user) = channel.strip_prefix("rtca:user:").and_then(|id| id.parse::<UserId>().ok()) {
                held.extend(self.order.forget(|conversation| conversation.peer_of(user).is_some()));
            }
        }
        let now = Instant::now();
        let any_started = !starts.is_empty();
        for (room, (seq, change)) in starts {
            self.order.start_at(&room, seq, change, now);
        }
        for (conversation, place, item) in held {
            for ready in self.order.offer(&conversation, place, item, now) {
                self.outbound.deliver_encoded(&ready).await;
            }
        }
        // A commit of this node's numbered at or before a room's start
        // goes out at once: taken in now, before anything later from the
        // others, it goes out in order too.
        if any_started {
            while let Ok((encoded, place)) = local.try_recv() {
                self.committed_here(encoded, place).await;
            }
        }
        self.subscribed = wanted.clone();
        self.wanted = wanted;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chat_rooms_and_users_have_channels_and_nothing_else_does() {
        assert_eq!(channel_of_socket_room("lobby").as_deref(), Some("rtca:room:lobby"));
        assert_eq!(channel_of_socket_room("team-1").as_deref(), Some("rtca:room:team-1"));
        assert_eq!(channel_of_socket_room("user:42").as_deref(), Some("rtca:user:42"));
        assert_eq!(channel_of_socket_room("user:x"), None);
        assert_eq!(channel_of_socket_room("session:abcd"), None);
        assert_eq!(channels_of(&ConversationId::pair(7, 3)), ["rtca:user:3", "rtca:user:7"]);
    }

    #[test]
    fn an_envelope_names_one_conversation() {
        for conversation in [ConversationId::room("dev"), ConversationId::pair(7, 3)] {
            let (room, pair) = envelope_fields(&conversation);
            assert_eq!(conversation_named(room.map(str::to_owned), pair), Some(conversation.clone()));
        }
        assert_eq!(conversation_named(Some("dev".to_owned()), Some((1, 2))), None);
        assert_eq!(conversation_named(None, None), None);
    }
}
