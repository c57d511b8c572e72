//! The limiter's buckets, tables and counts.
#![allow(clippy::unwrap_used)]

use super::*;
use std::time::Duration;

#[test]
fn a_bucket_allows_its_burst_then_its_rate() {
    let start = Instant::now();
    let mut bucket = TokenBucket::new(Rate::new(2.0, 3), start);
    assert_eq!((0..5).filter(|_| bucket.try_take(start)).count(), 3);
    assert!(!bucket.try_take(start + Duration::from_millis(100)));
    assert!(bucket.try_take(start + Duration::from_millis(600)));
    assert!(!bucket.try_take(start + Duration::from_millis(700)));
    // Refills never exceed the burst.
    assert_eq!((0..10).filter(|_| bucket.try_take(start + Duration::from_secs(60))).count(), 3);
}

#[test]
fn a_read_budget_admits_while_in_credit_and_pays_its_debt_back() {
    let start = Instant::now();
    let mut budget = TokenBucket::new(Rate::new(1000.0, 4000), start);
    assert!(budget.has_credit(start));
    budget.charge(10_000, start);
    // In debt, but by one burst at most.
    assert!(!budget.has_credit(start));
    assert!(!budget.has_credit(start + Duration::from_millis(3900)));
    assert!(budget.has_credit(start + Duration::from_millis(4100)));
}

#[test]
fn connection_caps_count_per_user_and_address_and_release_on_drop() {
    let defaults = crate::server::config::Config::default().limits;
    let settings = LimitSettings { connections_per_user: 2, connections_per_address: 3, ..defaults };
    let limits = Arc::new(Limits::new(settings));
    let here = Some(IpAddr::from([10, 0, 0, 1]));
    let a = limits.open_connection(Some(1), here).unwrap();
    let b = limits.open_connection(Some(1), here).unwrap();
    assert_eq!(limits.open_connection(Some(1), here).unwrap_err(), ChatError::TooManyConnections);
    let c = limits.open_connection(None, here).unwrap();
    assert_eq!(limits.open_connection(Some(2), here).unwrap_err(), ChatError::TooManyConnections);
    assert!(limits.open_connection(Some(2), Some(IpAddr::from([10, 0, 0, 2]))).is_ok());
    drop(a);
    let d = limits.open_connection(Some(1), here).unwrap();
    // A visitor who goes `online` starts counting for that user.
    drop(d);
    c.assign_user(1);
    assert_eq!(
        limits.open_connection(Some(1), Some(IpAddr::from([10, 0, 0, 3]))).unwrap_err(),
        ChatError::TooManyConnections
    );
    drop((b, c));
    assert!(lock(&limits.open).by_user.is_empty());
}

#[test]
fn an_ipv6_client_is_its_64() {
    let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
    let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
    let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
    assert_eq!(client(a), client(b));
    assert_ne!(client(a), client(other));
    assert_eq!(client("::ffff:10.0.0.1".parse().unwrap()), IpAddr::from([10, 0, 0, 1]));
    assert_eq!(client(IpAddr::from([10, 0, 0, 1])), IpAddr::from([10, 0, 0, 1]));
}

#[test]
fn tables_forget_full_buckets_when_they_grow() {
    let table = BucketTable::<u32>::default();
    let rate = Rate::new(1000.0, 1);
    for key in 0..(PRUNE_AT as u32 + 10) {
        table.try_take(key, rate);
    }
    std::thread::sleep(Duration::from_millis(5));
    table.try_take(u32::MAX, rate);
    assert!(lock(&table.buckets).map.len() < PRUNE_AT);
}

/// A flood of keys that never refill fills the table: a newcomer still
/// gets a bucket of its own (another key's is forgotten), and the
/// table stays bounded.
#[test]
fn a_full_table_still_admits_a_newcomer() {
    let table = BucketTable::<u32>::default();
    let slow = Rate::new(0.001, 1);
    for key in 0..MAX_ENTRIES as u32 {
        assert!(table.try_take(key, slow));
    }
    assert!(table.try_take(u32::MAX, slow), "a newcomer was refused by a full table");
    assert!(!table.try_take(u32::MAX, slow), "its own limit still holds");
    assert_eq!(lock(&table.buckets).map.len(), MAX_ENTRIES);
}

#[test]
fn what_other_nodes_spend_and_hold_counts_here() {
    let defaults = crate::server::config::Config::default().limits;
    let settings = LimitSettings {
        send_per_user: Rate::new(0.01, 5),
        connections_per_user: 4,
        connections_per_address: 100,
        ..defaults
    };
    let (a, b) = (Arc::new(Limits::new(settings)), Arc::new(Limits::new(settings)));
    // Alone, a node keeps nothing to report.
    assert!(a.user_sends(1).is_ok());
    assert!(a.report().is_empty());
    a.share_with_other_nodes();
    b.share_with_other_nodes();
    let here = Some(IpAddr::from([10, 0, 0, 1]));
    for _ in 0..3 {
        assert!(a.user_sends(1).is_ok());
    }
    let held: Vec<_> = (0..3).map(|_| a.open_connection(Some(1), here).unwrap()).collect();
    let report = a.report();
    assert_eq!(report.spent, vec![(shared::Table::SendByUser, "1".to_owned(), 3)]);
    assert_eq!(report.users, vec![(1, 3)], "one in four of the cap is reported");
    assert!(report.addresses.is_empty(), "3 of 100 is not");
    assert!(a.report().spent.is_empty(), "each spending is reported once");
    b.heard("a", report);
    // B had all five; A's three leave two.
    assert!(b.user_sends(1).is_ok() && b.user_sends(1).is_ok());
    assert_eq!(b.user_sends(1).unwrap_err(), ChatError::RateLimited);
    // Three held on A: B lets one more in, not two.
    let on_b = b.open_connection(Some(1), here).unwrap();
    assert_eq!(b.open_connection(Some(1), here).unwrap_err(), ChatError::TooManyConnections);
    // A's word counts until A says otherwise.
    drop(held);
    b.heard("a", a.report());
    assert!(b.open_connection(Some(1), here).is_ok());
    drop(on_b);
}
