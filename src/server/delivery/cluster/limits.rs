//! Limits across nodes (`limits::shared` says what holds, and how
//! approximately): once a [`SHARE_EVERY`], each node publishes what its
//! clients spent of the per-user and per-address budgets, and who holds
//! many connections on it, on [`LIMITS`]; every other node charges it to
//! its own buckets and counts it in its caps. Lost on the way, a report
//! only lets some spending go uncounted elsewhere.

use serde::{Deserialize, Serialize};

use super::publisher::Outgoing;
use super::relay::Node;
use crate::server::limits::shared::Report;
pub(super) use crate::server::limits::shared::SHARE_EVERY;

/// The channel reports travel on; every node subscribes to it.
pub(super) const LIMITS: &str = "rtca:limits";

#[derive(Serialize, Deserialize)]
struct LimitsEnvelope {
    node: String,
    report: Report,
}

impl Node {
    /// Tells the other nodes what this one's clients spent since the last
    /// time, and who holds many connections here: nothing when neither,
    /// unless the last report said someone did (the others then forget it).
    pub(super) fn share_limits(&mut self) {
        let report = self.limits.report();
        let holds = !report.users.is_empty() || !report.addresses.is_empty();
        let said_held = std::mem::replace(&mut self.said_held, holds);
        if report.is_empty() && !said_held {
            return;
        }
        match serde_json::to_vec(&LimitsEnvelope { node: self.id.clone(), report }) {
            Ok(payload) => {
                let outgoing = Outgoing::Publish { channels: vec![LIMITS.to_owned()], payload, keep: false };
                if self.publish.try_send(outgoing).is_err() {
                    tracing::debug!("the publish queue is full; this round's spending stays on this node");
                }
            }
            Err(error) => tracing::warn!(%error, "a limits report could not be encoded"),
        }
    }

    /// Another node's report.
    pub(super) fn limits_heard(&self, payload: &[u8]) {
        match serde_json::from_slice::<LimitsEnvelope>(payload) {
            Ok(envelope) if envelope.node != self.id => self.limits.heard(&envelope.node, envelope.report),
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "an unreadable limits report from Redis"),
        }
    }
}
