//! The server's one clock: every `at` it stores or sends comes from here.

/// Runs `work` every `period`, for the server's life; a late tick waits
/// for the one before to end rather than bunching up (the batched writes
/// of `last_seen` and `read_marks`).
pub async fn every<F: std::future::Future<Output = ()>>(period: std::time::Duration, mut work: impl FnMut() -> F) {
    let mut ticks = tokio::time::interval(period);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        work().await;
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    let since_epoch = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX)
}
