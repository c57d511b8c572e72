//! Several nodes behind one address: RTCA processes sharing one
//! PostgreSQL database (the store of record) and joined by Redis
//! (`RTCA_REDIS_URL`), the backplane. Without that setting a node is alone
//! and nothing here runs.
//!
//! What crosses nodes today: every committed message and change, published
//! by the node that committed it and delivered by every other node to its
//! own sockets, in `seq` order, a gap filled from the store ([`relay`],
//! [`order`]); and what changes who hears what ([`Control`]: a user's
//! sockets joining or leaving a room, a session signed out). What does not
//! yet (#18's next steps, docs/deployment.md): presence, typing, read
//! state and room announcements, which each node keeps to its own
//! sockets.

pub mod order;
pub mod relay;

pub use relay::{start, Control, Relay};
