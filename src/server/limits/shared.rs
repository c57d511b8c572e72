//! Limits across several nodes, approximately. Each node keeps its own
//! buckets and counts, and tells the others (`cluster`, once a
//! [`SHARE_EVERY`]) what its clients spent of the per-user and per-address
//! budgets, and who holds many connections on it. A node charges what it
//! hears to its own buckets, and counts what it hears in its caps. So a
//! user or an address gets one budget across the cluster, give or take
//! what it can spend on each other node within a [`SHARE_EVERY`] (plus the
//! time Redis takes), and a cap counts every node's connections that are
//! at least a [`HELD_SHARE`] of it. Per-connection buckets need none of
//! this: a connection lives on one node.
//!
//! Bounded: at most [`MAX_SPENT`] keys are reported per round (the rest of
//! a flood is not shared; each node still limits it alone), and what a
//! node said of connections is forgotten after [`FORGET_AFTER`] (a node
//! that died, or stopped saying so).

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::{client, lock, BucketTable, Limits};
use crate::protocol::UserId;

/// How often a node tells the others what its clients spent.
pub const SHARE_EVERY: Duration = Duration::from_secs(1);
/// How long what another node said of its connections counts.
pub const FORGET_AFTER: Duration = Duration::from_secs(5);
/// The most keys one report carries.
pub const MAX_SPENT: usize = 4096;
/// The part of a connection cap from which a node reports a user or an
/// address holding that many connections on it (one in four).
pub const HELD_SHARE: usize = 4;

/// A budget shared across nodes, by what it is keyed by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Table {
    SendByUser,
    UploadsByUser,
    JoinsByAddress,
    HandshakesByAddress,
    LoginsByAddress,
    LoginsByAccount,
    ReadBytesByAddress,
    PublicRoomsByUser,
    PublicRoomsByAddress,
    CallsByUser,
}

/// What one node tells the others, once a round.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Report {
    /// What was spent since the last report: the budget, its key (a user
    /// id, an address, an account name) and how much.
    pub spent: Vec<(Table, String, u64)>,
    /// Users and addresses holding many connections on the node, and how
    /// many (all of them, each round).
    pub users: Vec<(UserId, usize)>,
    pub addresses: Vec<(IpAddr, usize)>,
}

impl Report {
    pub fn is_empty(&self) -> bool {
        self.spent.is_empty() && self.users.is_empty() && self.addresses.is_empty()
    }
}

impl Limits {
    /// There are other nodes: from now on, what this node's clients spend
    /// is kept for [`Limits::report`].
    pub fn share_with_other_nodes(&self) {
        lock(&self.shared).on = true;
    }

    /// What this node tells the others this round: what was spent since
    /// the last report, and who holds many connections here.
    pub fn report(&self) -> Report {
        let spent = std::mem::take(&mut lock(&self.shared).spent);
        let open = lock(&self.open);
        Report {
            spent: spent.into_iter().map(|((table, key), amount)| (table, key, amount)).collect(),
            users: holding_many(&open.by_user, self.settings.connections_per_user),
            addresses: holding_many(&open.by_address, self.settings.connections_per_address),
        }
    }

    /// What another node reported: its spending is charged to this node's
    /// buckets (into debt if need be), and its connections counted in the
    /// caps until it says otherwise or [`FORGET_AFTER`] passes.
    pub fn heard(&self, node: &str, report: Report) {
        for (table, key, amount) in report.spent {
            let amount = usize::try_from(amount).unwrap_or(usize::MAX);
            let settings = &self.settings;
            let by_user = |table: &BucketTable<UserId>, rate| {
                if let Ok(user) = key.parse::<UserId>() {
                    table.charge(user, rate, amount);
                }
            };
            let by_address = |table: &BucketTable<IpAddr>, rate| {
                if let Ok(address) = key.parse::<IpAddr>() {
                    table.charge(client(address), rate, amount);
                }
            };
            match table {
                Table::SendByUser => by_user(&self.send_by_user, settings.send_per_user),
                Table::UploadsByUser => by_user(&self.uploads_by_user, settings.upload_per_user),
                Table::PublicRoomsByUser => by_user(&self.public_rooms_by_user, settings.public_rooms),
                Table::CallsByUser => by_user(&self.calls_by_user, settings.call_everyone),
                Table::JoinsByAddress => by_address(&self.joins_by_address, settings.join_per_address),
                Table::HandshakesByAddress => by_address(&self.handshakes_by_address, settings.handshake_per_address),
                Table::LoginsByAddress => by_address(&self.logins_by_address, settings.login_per_address),
                Table::ReadBytesByAddress => by_address(&self.reads_by_address, settings.read_bytes_per_address),
                Table::PublicRoomsByAddress => by_address(&self.public_rooms_by_address, settings.public_rooms),
                Table::LoginsByAccount => {
                    self.logins_by_account.charge(key.clone(), settings.login_per_account, amount)
                }
            }
        }
        let held = Held {
            at: Instant::now(),
            users: report.users.into_iter().collect(),
            addresses: report.addresses.into_iter().collect(),
        };
        let mut shared = lock(&self.shared);
        shared.elsewhere.insert(node.to_owned(), held);
        let now = Instant::now();
        shared.elsewhere.retain(|_, held| now.saturating_duration_since(held.at) < FORGET_AFTER);
    }
}

/// The keys of `open` holding at least a [`HELD_SHARE`] of `cap`
/// connections (at most [`MAX_SPENT`]), and how many each.
fn holding_many<K: Copy + std::hash::Hash + Eq>(open: &HashMap<K, usize>, cap: usize) -> Vec<(K, usize)> {
    let floor = (cap / HELD_SHARE).max(1);
    open.iter().filter(|(_, n)| **n >= floor).map(|(key, n)| (*key, *n)).take(MAX_SPENT).collect()
}

/// This node's side: what it spent since its last report, and what the
/// others hold.
#[derive(Debug, Default)]
pub(super) struct Shared {
    /// Whether there are other nodes to tell (nothing is kept otherwise).
    pub(super) on: bool,
    pub(super) spent: HashMap<(Table, String), u64>,
    /// Each other node's last word on its connections.
    pub(super) elsewhere: HashMap<String, Held>,
}

#[derive(Debug)]
pub(super) struct Held {
    pub(super) at: Instant,
    pub(super) users: HashMap<UserId, usize>,
    pub(super) addresses: HashMap<IpAddr, usize>,
}

impl Shared {
    /// Notes `amount` spent of `table`'s budget for `key`.
    pub(super) fn spend(&mut self, table: Table, key: impl ToString, amount: u64) {
        if !self.on {
            return;
        }
        let key = (table, key.to_string());
        if let Some(spent) = self.spent.get_mut(&key) {
            *spent = spent.saturating_add(amount);
        } else if self.spent.len() < MAX_SPENT {
            self.spent.insert(key, amount);
        }
    }

    /// Connections `user` holds on the other nodes, as last heard.
    pub(super) fn user_elsewhere(&self, user: UserId, now: Instant) -> usize {
        self.fresh(now).filter_map(|held| held.users.get(&user)).sum()
    }

    /// Connections `address` holds on the other nodes, as last heard.
    pub(super) fn address_elsewhere(&self, address: IpAddr, now: Instant) -> usize {
        self.fresh(now).filter_map(|held| held.addresses.get(&address)).sum()
    }

    fn fresh(&self, now: Instant) -> impl Iterator<Item = &Held> {
        self.elsewhere.values().filter(move |held| now.saturating_duration_since(held.at) < FORGET_AFTER)
    }
}
