//! Controls: what changes who hears what (a user's sockets joining or
//! leaving a room, a session signed out), and new public rooms, told to every node on one
//! channel, [`CONTROL`] (they are rare, unlike messages), each node
//! applying it to its own sockets. A control that cannot be published
//! while Redis is out of reach is kept and sent once it is back
//! (`publisher`).

use serde::{Deserialize, Serialize};

use super::publisher::Outgoing;
use super::relay::{Node, Relay};
use crate::protocol::{RoomInfo, UserId};

/// The channel [`Control`]s travel on; every node subscribes to it.
pub(super) const CONTROL: &str = "rtca:control";

/// What one node tells every other to do to its sockets.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[allow(clippy::large_enum_variant)] // rare, and short-lived
pub enum Control {
    /// `user`'s sockets join (or leave) a chat room.
    Subscribe { user: UserId, room: String, join: bool },
    /// A session was signed out: its sockets close. The token's hash, in
    /// hex (never the token).
    CloseSession { token_hash: String },
    /// A public room was created: everyone but `creator` hears of it.
    RoomCreated { room: RoomInfo, creator: UserId },
}

/// A [`Control`] from one node.
#[derive(Serialize, Deserialize)]
struct ControlEnvelope {
    node: String,
    control: Control,
}

impl Relay {
    /// Tells every other node to apply `control` to its sockets (this node
    /// applies it itself). Only a full publish queue loses it (logged):
    /// such a user hears the room, or keeps a signed-out socket, until
    /// they reconnect.
    pub fn control(&self, control: Control) {
        let envelope = ControlEnvelope { node: self.node.to_string(), control };
        match serde_json::to_vec(&envelope) {
            Ok(payload) => {
                let outgoing = Outgoing::Publish { channels: vec![CONTROL.to_owned()], payload, keep: true };
                if self.publish.try_send(outgoing).is_err() {
                    tracing::warn!(?envelope.control, "the publish queue is full; another node may not hear this");
                }
            }
            Err(error) => tracing::warn!(%error, "a control could not be encoded"),
        }
    }
}

impl Node {
    /// What another node told every node to do to its sockets.
    pub(super) async fn controlled(&self, payload: &[u8]) {
        let envelope: ControlEnvelope = match serde_json::from_slice(payload) {
            Ok(envelope) => envelope,
            Err(error) => return tracing::warn!(%error, "an unreadable control from Redis"),
        };
        if envelope.node == self.id {
            return;
        }
        match envelope.control {
            Control::Subscribe { user, room, join } => self.outbound.subscribe_here(user, &room, join).await,
            Control::CloseSession { token_hash } => {
                let mut hash = [0u8; 32];
                match hex::decode_to_slice(&token_hash, &mut hash) {
                    Ok(()) => self.outbound.close_session_here(&hash).await,
                    Err(error) => tracing::warn!(%error, "a control named no session"),
                }
            }
            Control::RoomCreated { room, creator } => self.rooms.announce_here(room, creator),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_travel_as_tagged_json() {
        let control = Control::Subscribe { user: 7, room: "team".into(), join: true };
        let json = serde_json::to_string(&control).unwrap_or_default();
        assert_eq!(json, r#"{"kind":"subscribe","user":7,"room":"team","join":true}"#);
        assert_eq!(serde_json::from_str::<Control>(&json).ok(), Some(control));
    }
}
