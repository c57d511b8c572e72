//! Presence across nodes. Each node keeps who is online on it in a Redis
//! hash (`rtca:presence:NODE`), changed as people come and go and
//! published live on [`PRESENCE`]; every [`HEARTBEAT`] it writes the hash
//! whole again, renewing its expiry, and reads every other node's.
//!
//! A node that dies stops renewing: its hash expires after
//! [`PRESENCE_TTL`], and the next read drops its users, so they go
//! offline everywhere within [`PRESENCE_TTL`] and a [`HEARTBEAT`]. Every
//! write to a hash renews its expiry too, so a change can never leave a
//! hash that outlives its node. A node that cannot read the others for
//! [`PRESENCE_TTL`] (Redis out of reach) forgets them rather than show
//! them online forever. `socket::presence` counts every node, so
//! someone with tabs on two nodes is online once.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::publisher::Outgoing;
use super::relay::{Node, Relay};
use crate::protocol::{User, UserId};
use crate::server::metrics;

/// The channel presence changes travel on; every node subscribes to it.
pub(super) const PRESENCE: &str = "rtca:presence";
/// Each node's hash: this prefix and the node's id.
const PRESENCE_KEY: &str = "rtca:presence:";
/// How often a node writes its hash again, and reads every other node's.
pub(super) const HEARTBEAT: Duration = Duration::from_secs(5);
/// How long a node's hash outlives its last write.
const PRESENCE_TTL: Duration = Duration::from_secs(15);

/// A user online on one node, or no more there.
#[derive(Serialize, Deserialize)]
struct PresenceEnvelope {
    node: String,
    user: User,
    online: bool,
}

fn key_of(node: &str) -> String {
    format!("{PRESENCE_KEY}{node}")
}

fn ttl_seconds() -> i64 {
    i64::try_from(PRESENCE_TTL.as_secs()).unwrap_or(15)
}

impl Relay {
    /// Tells every other node that `user` is online on this one, or no
    /// more: in this node's hash (what a node reads when it starts or
    /// reconnects) and live, on [`PRESENCE`].
    pub fn presence(&self, user: &User, online: bool) {
        let envelope = PresenceEnvelope { node: self.node.to_string(), user: user.clone(), online };
        let (Ok(payload), Ok(entry)) = (serde_json::to_vec(&envelope), serde_json::to_string(user)) else {
            return tracing::warn!("a presence change could not be encoded");
        };
        let key = key_of(&self.node);
        let mut commands = redis::pipe();
        if online {
            commands.hset(&key, user.id, entry).ignore();
        } else {
            commands.hdel(&key, user.id).ignore();
        }
        commands.expire(&key, ttl_seconds()).ignore().publish(PRESENCE, payload).ignore();
        if self.publish.try_send(Outgoing::Commands(commands)).is_err() {
            tracing::warn!("the publish queue is full; other nodes learn this presence at the next heartbeat");
            metrics::relay_lost();
        }
    }
}

impl Node {
    /// Another node's presence change, live.
    pub(super) fn presence_changed(&self, payload: &[u8]) {
        let envelope: PresenceEnvelope = match serde_json::from_slice(payload) {
            Ok(envelope) => envelope,
            Err(error) => return tracing::warn!(%error, "an unreadable presence change from Redis"),
        };
        if envelope.node != self.id && self.presence.remote_change(&envelope.node, &envelope.user, envelope.online) {
            self.presence_feed.changed_elsewhere(envelope.user);
        }
    }

    /// Writes who is online on this node, whole, into its hash, renewing
    /// its expiry (Redis may have restarted empty since).
    pub(super) fn heartbeat(&self) {
        let key = key_of(&self.id);
        let mut commands = redis::pipe();
        commands.atomic().del(&key).ignore();
        let entries: Vec<(UserId, String)> = self
            .presence
            .local_users()
            .into_iter()
            .filter_map(|user| Some((user.id, serde_json::to_string(&user).ok()?)))
            .collect();
        if !entries.is_empty() {
            commands.hset_multiple(&key, &entries).ignore();
        }
        commands.expire(&key, ttl_seconds()).ignore();
        if self.publish.try_send(Outgoing::Commands(commands)).is_err() {
            tracing::warn!("the publish queue is full; this node's heartbeat waits for the next");
        }
    }

    /// Reads every other node's hash (a node whose hash expired is gone,
    /// and so are its users), and tells this node's sockets what changed.
    /// After [`PRESENCE_TTL`] without a read, forgets the other nodes.
    pub(super) async fn read_other_nodes(&mut self, now: Instant) {
        if self.commands.is_none() {
            self.commands = self.client.get_multiplexed_async_connection().await.ok();
        }
        let read = match self.commands.as_mut() {
            Some(commands) => read_presence_hashes(commands, &self.id).await.map_err(|error| error.to_string()),
            None => Err("no connection".to_owned()),
        };
        let nodes = match read {
            Ok(nodes) => {
                self.presence_read_at = Some(now);
                nodes
            }
            Err(error) => {
                tracing::warn!(%error, "could not read the other nodes' presence");
                self.commands = None;
                let stale = self.presence_read_at.is_none_or(|at| now.duration_since(at) >= PRESENCE_TTL);
                if !stale {
                    return;
                }
                HashMap::new()
            }
        };
        for user in self.presence.remote_nodes(nodes) {
            self.presence_feed.changed_elsewhere(user);
        }
    }
}

/// Every node's presence hash but `own`'s: who is online on each.
async fn read_presence_hashes(
    commands: &mut redis::aio::MultiplexedConnection,
    own: &str,
) -> redis::RedisResult<HashMap<String, HashMap<UserId, User>>> {
    let mut keys: Vec<String> = Vec::new();
    let mut cursor: u64 = 0;
    loop {
        let (next, found): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(format!("{PRESENCE_KEY}*"))
            .arg("COUNT")
            .arg(1000)
            .query_async(commands)
            .await?;
        keys.extend(found);
        if next == 0 {
            break;
        }
        cursor = next;
    }
    let mut nodes = HashMap::new();
    for key in keys {
        let Some(node) = key.strip_prefix(PRESENCE_KEY) else { continue };
        if node == own {
            continue;
        }
        let entries: HashMap<UserId, String> = redis::cmd("HGETALL").arg(&key).query_async(commands).await?;
        let users: HashMap<UserId, User> =
            entries.into_iter().filter_map(|(id, user)| Some((id, serde_json::from_str(&user).ok()?))).collect();
        nodes.insert(node.to_owned(), users);
    }
    Ok(nodes)
}
