//! Several nodes behind one address: RTCA processes sharing one
//! PostgreSQL database (the store of record) and joined by Redis
//! (`RTCA_REDIS_URL`), the backplane. Without that setting a node is alone
//! and nothing here runs.
//!
//! What crosses nodes today: every committed message and change, published
//! by the node that committed it and delivered by every other node to its
//! own sockets, in `seq` order, a gap filled from the store ([`relay`],
//! [`order`]); presence (who is online on each node, with a heartbeat);
//! and what changes who hears what ([`Control`]: a user's sockets joining
//! or leaving a room, a session signed out). What does not yet (#18's next
//! steps, docs/deployment.md): typing, events meant for one person, room
//! announcements and rate limits, which each node keeps to itself.

mod control;
mod heal;
pub mod order;
mod presence;
mod publisher;
pub mod relay;

pub use control::Control;
pub use relay::{start, Relay};
