//! What an operator's Prometheus reads: the names, the histograms' buckets,
//! and the recorder behind `/metrics`. That page is served on
//! `RTCA_METRICS_ADDR` only, never on the public address, so it cannot be
//! public by accident; without it no recorder is installed and every
//! record below does nothing.
//!
//! Counters and histograms are recorded where things happen, through the
//! functions here. Gauges that count something held elsewhere (sockets by
//! transport, users online) are set as the page is read
//! (`http::operators`), which costs nothing between scrapes.

use std::sync::Mutex;
use std::time::Duration;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

pub const MESSAGES_COMMITTED: &str = "rtca_messages_committed_total";
pub const CHANGES_COMMITTED: &str = "rtca_changes_committed_total";
pub const COMMIT_SECONDS: &str = "rtca_commit_seconds";
pub const DELIVERIES: &str = "rtca_deliveries_total";
pub const DELIVERY_SECONDS: &str = "rtca_delivery_seconds";
pub const SLOW_CONSUMERS_CLOSED: &str = "rtca_slow_consumers_closed_total";
pub const RATE_LIMITED: &str = "rtca_rate_limited_total";
pub const UPLOADS: &str = "rtca_uploads_total";
pub const UPLOAD_BYTES: &str = "rtca_upload_bytes_total";
pub const RELAYED: &str = "rtca_relayed_total";
pub const RELAY_HEALED: &str = "rtca_relay_healed_total";
pub const RELAY_LOST: &str = "rtca_relay_lost_total";
pub const RELAY_LAG_SECONDS: &str = "rtca_relay_lag_seconds";
pub const CONNECTIONS: &str = "rtca_connections";
pub const USERS_ONLINE: &str = "rtca_users_online";
pub const PUSHES: &str = "rtca_pushes_total";

/// A batch's commit, in seconds: group commit waits for the disk.
const COMMIT_BUCKETS: &[f64] = &[0.000_5, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5];
/// From a message's arrival to its frames handed to every socket.
const DELIVERY_BUCKETS: &[f64] = &[0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];
/// How often the recorder folds what histograms gathered, scraped or not:
/// it keeps their samples until then, so this bounds that memory.
pub const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// The process's recorder, once installed (tests run several servers in
/// one process; they share it).
static INSTALLED: Mutex<Option<PrometheusHandle>> = Mutex::new(None);

/// Installs the process's recorder (once) and returns what renders it.
pub fn install() -> Result<PrometheusHandle, String> {
    let mut installed = INSTALLED.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(handle) = installed.as_ref() {
        return Ok(handle.clone());
    }
    let bucket_error = |error: metrics_exporter_prometheus::BuildError| error.to_string();
    let recorder = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Full(COMMIT_SECONDS.into()), COMMIT_BUCKETS)
        .map_err(bucket_error)?
        .set_buckets_for_metric(Matcher::Full(DELIVERY_SECONDS.into()), DELIVERY_BUCKETS)
        .map_err(bucket_error)?
        .set_buckets_for_metric(Matcher::Full(RELAY_LAG_SECONDS.into()), DELIVERY_BUCKETS)
        .map_err(bucket_error)?
        .build_recorder();
    let handle = recorder.handle();
    metrics::set_global_recorder(recorder).map_err(|error| error.to_string())?;
    describe();
    *installed = Some(handle.clone());
    Ok(handle)
}

fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    describe_counter!(MESSAGES_COMMITTED, Unit::Count, "Chat messages stored (rooms and private).");
    describe_counter!(CHANGES_COMMITTED, Unit::Count, "Edits, deletions, reactions and thread summaries stored.");
    describe_histogram!(COMMIT_SECONDS, Unit::Seconds, "How long one group commit of the writer took.");
    describe_counter!(DELIVERIES, Unit::Count, "Messages and changes handed to a socket.");
    describe_histogram!(
        DELIVERY_SECONDS,
        Unit::Seconds,
        "From a new message's arrival to its last recipient's socket."
    );
    describe_counter!(SLOW_CONSUMERS_CLOSED, Unit::Count, "Connections closed for not reading what they are sent.");
    describe_counter!(RATE_LIMITED, Unit::Count, "Requests refused as over a rate limit.");
    describe_counter!(UPLOADS, Unit::Count, "Files uploaded.");
    describe_counter!(UPLOAD_BYTES, Unit::Bytes, "Bytes of files uploaded.");
    describe_counter!(
        PUSHES,
        Unit::Count,
        "Web Pushes, by `outcome`: sent, gone (device forgotten), refused, failed (out of reach), dropped (queue full)."
    );
    describe_counter!(RELAYED, Unit::Count, "Messages and changes between nodes, `direction` out (published) or in.");
    describe_counter!(
        RELAY_HEALED,
        Unit::Count,
        "Messages and changes another node's publish missed, read from the store."
    );
    describe_counter!(
        RELAY_LOST,
        Unit::Count,
        "Publishes to the other nodes dropped or failed (they heal from the store)."
    );
    describe_histogram!(
        RELAY_LAG_SECONDS,
        Unit::Seconds,
        "From a new message's arrival on the node that committed it to its envelope read here (the nodes' clocks kept in step)."
    );
    describe_gauge!(CONNECTIONS, Unit::Count, "Open Socket.IO connections, by transport.");
    describe_gauge!(USERS_ONLINE, Unit::Count, "People with at least one connection.");
}

/// A group commit of `messages` new messages and `changes` changes, which
/// took `took`.
pub fn committed(messages: usize, changes: usize, took: Duration) {
    metrics::counter!(MESSAGES_COMMITTED).increment(messages as u64);
    metrics::counter!(CHANGES_COMMITTED).increment(changes as u64);
    metrics::histogram!(COMMIT_SECONDS).record(took.as_secs_f64());
}

/// A message or change went to `sockets` sockets; a new message that
/// arrived `since` ago.
pub fn delivered(sockets: usize, since: Option<Duration>) {
    metrics::counter!(DELIVERIES).increment(sockets as u64);
    if let Some(since) = since {
        metrics::histogram!(DELIVERY_SECONDS).record(since.as_secs_f64());
    }
}

/// A connection was closed for not reading what it is sent.
pub fn slow_consumer_closed() {
    metrics::counter!(SLOW_CONSUMERS_CLOSED).increment(1);
}

/// A request was refused as over a rate limit.
pub fn rate_limited() {
    metrics::counter!(RATE_LIMITED).increment(1);
}

/// A file of `bytes` bytes was uploaded.
pub fn uploaded(bytes: u64) {
    metrics::counter!(UPLOADS).increment(1);
    metrics::counter!(UPLOAD_BYTES).increment(bytes);
}

/// The counts read as the page is: open connections by transport, and
/// people online.
pub fn connections(websocket: usize, polling: usize, users_online: usize) {
    metrics::gauge!(CONNECTIONS, "transport" => "websocket").set(websocket as f64);
    metrics::gauge!(CONNECTIONS, "transport" => "polling").set(polling as f64);
    metrics::gauge!(USERS_ONLINE).set(users_online as f64);
}

/// `items` messages or changes went to the other nodes (`out`), or came
/// from them (`in`).
pub fn relayed(direction: &'static str, items: usize) {
    metrics::counter!(RELAYED, "direction" => direction).increment(items as u64);
}

/// `items` messages or changes were read from the store to fill a gap
/// between nodes.
pub fn relay_healed(items: usize) {
    metrics::counter!(RELAY_HEALED).increment(items as u64);
}

/// A new message committed on another node reached this one through
/// Redis `lag` after it arrived there.
pub fn relay_lag(lag: Duration) {
    metrics::histogram!(RELAY_LAG_SECONDS).record(lag.as_secs_f64());
}

/// A publish to the other nodes was dropped or failed.
pub fn relay_lost() {
    metrics::counter!(RELAY_LOST).increment(1);
}

/// A Web Push ended as `outcome`: `sent`, `gone`, `refused` or `failed`.
pub fn pushed(outcome: &'static str) {
    metrics::counter!(PUSHES, "outcome" => outcome).increment(1);
}

/// A Web Push was dropped: its queue was full.
pub fn push_dropped() {
    pushed("dropped");
}
