//! Several nodes behind one address: RTCA processes sharing one
//! PostgreSQL database (the store of record) and joined by Redis
//! (`RTCA_REDIS_URL`), the backplane. Without that setting a node is alone
//! and nothing here runs.
//!
//! What crosses nodes today: every committed message and change, published
//! by the node that committed it and delivered by every other node to its
//! own sockets, in `seq` order, a gap filled from the store ([`relay`],
//! [`order`]); presence (who is online on each node, with a heartbeat);
//! what changes who hears what ([`Control`]: a user's sockets joining
//! or leaving a room, a session signed out) and new public rooms; and
//! passing news ([`passing`]): who is typing, and events meant for one
//! person; and what clients spent of the per-user and per-address limits
//! ([`limits`]), so those hold across nodes, approximately.

mod channels;
mod control;
mod heal;
mod limits;
pub mod order;
mod passing;
mod presence;
mod publisher;
pub mod relay;

pub use control::Control;
pub use relay::{start, Parts, Relay};
