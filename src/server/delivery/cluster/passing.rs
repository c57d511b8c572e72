//! Passing news: what is said once and never stored, so has no number to
//! order it by or to find it again by: who is typing, and events meant
//! for one person (`read` between their tabs, `seen`, `invited`). It
//! travels on the same channels as the conversation or user it concerns
//! (`rtca:room:NAME`, `rtca:user:ID`), so only the nodes with sockets
//! there hear it, and is delivered as it comes. Lost on the way (Redis
//! out of reach), it is lost, as it would be by a socket reconnecting:
//! typing is said again every few seconds, and the rest is read again
//! with the state it describes.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::channels::{channels_of, conversation_named, envelope_fields};
use super::publisher::Outgoing;
use super::relay::{Node, Relay};
use crate::protocol::{ConversationId, User, UserId};
use crate::server::delivery::Audience;
use crate::server::metrics;

/// One piece of news from one node. Written with borrowed text and bytes,
/// read back owned; the variants are externally tagged, which keeps the
/// raw event data as it came.
#[derive(Serialize, Deserialize)]
pub(super) struct PassingEnvelope<S, D> {
    node: S,
    passing: Passing<S, D>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Passing<S, D> {
    /// `user` is typing in a room or a pair (`on`), or stopped.
    Typing {
        #[serde(skip_serializing_if = "Option::is_none")]
        room: Option<S>,
        #[serde(skip_serializing_if = "Option::is_none")]
        pair: Option<(UserId, UserId)>,
        user: User,
        on: bool,
    },
    /// An event for every socket of `user`, encoded as they get it.
    Tell { user: UserId, event: S, data: D },
}

impl Relay {
    /// Tells the other nodes that `user` types in `conversation` (`on`:
    /// started, or still does), or stopped.
    pub fn typing(&self, conversation: &ConversationId, user: &User, on: bool) {
        let (room, pair) = envelope_fields(conversation);
        let passing: Passing<&str, &RawValue> = Passing::Typing { room, pair, user: user.clone(), on };
        self.pass(channels_of(conversation), passing);
    }

    /// Sends `event` to `user`'s sockets on the other nodes.
    pub fn tell(&self, user: UserId, event: &str, data: &RawValue) {
        self.pass(vec![format!("rtca:user:{user}")], Passing::Tell { user, event, data });
    }

    fn pass(&self, channels: Vec<String>, passing: Passing<&str, &RawValue>) {
        let envelope = PassingEnvelope { node: &*self.node, passing };
        match serde_json::to_vec(&envelope) {
            Ok(payload) => {
                if self.publish.try_send(Outgoing::Publish { channels, payload, keep: false }).is_err() {
                    tracing::debug!("the publish queue is full; passing news for other nodes dropped");
                    metrics::relay_lost();
                }
            }
            Err(error) => tracing::warn!(%error, "passing news could not be encoded for the other nodes"),
        }
    }
}

impl Node {
    /// Passing news from another node, delivered here as it comes.
    pub(super) async fn passed(&self, envelope: PassingEnvelope<String, Box<RawValue>>) {
        if envelope.node == self.id {
            return;
        }
        metrics::relayed("in", 1);
        match envelope.passing {
            Passing::Typing { room, pair, user, on } => {
                let Some(conversation) = conversation_named(room, pair) else {
                    return tracing::warn!("typing from Redis names no conversation");
                };
                if on {
                    self.typing.typing_elsewhere(&conversation, &user);
                } else {
                    self.typing.stopped_elsewhere(&conversation, user.id);
                }
            }
            Passing::Tell { user, event, data } => {
                self.outbound.send(Audience::User(user), &[(event.as_str(), &data)]).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passing_news_keeps_its_data_as_it_came_and_is_no_numbered_item() {
        let data = RawValue::from_string(r#"{"seq":4,"room":"dev"}"#.to_owned()).ok();
        let Some(data) = data else { return };
        let envelope: PassingEnvelope<&str, &RawValue> =
            PassingEnvelope { node: "n1", passing: Passing::Tell { user: 7, event: "read", data: &data } };
        let json = serde_json::to_string(&envelope).unwrap_or_default();
        assert_eq!(json, r#"{"node":"n1","passing":{"tell":{"user":7,"event":"read","data":{"seq":4,"room":"dev"}}}}"#);
        let back: Result<PassingEnvelope<String, Box<RawValue>>, _> = serde_json::from_str(&json);
        assert!(matches!(back, Ok(PassingEnvelope { passing: Passing::Tell { user: 7, ref data, .. }, .. })
            if data.get() == r#"{"seq":4,"room":"dev"}"#));
    }
}
