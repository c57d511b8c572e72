//! The `rtca` server: read the configuration, bind, serve until Ctrl-C or
//! SIGTERM. Everything else lives in the library (`rtca::server`).

// The app's view types are deep; see the same attribute in lib.rs.
#![recursion_limit = "256"]

use rtca::server::{listen, run, shutdown_signal, Config};
use tracing_subscriber::EnvFilter;

/// Log lines waiting for the log thread; past this, new ones are dropped.
const LOG_LINES_BUFFERED: usize = 8192;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // Logs go out from a thread of their own, through a bounded buffer that
    // drops lines when full: a write to stdout blocks when whatever reads it
    // falls behind (a full pipe), and it must never block the runtime. The
    // benchmark's harness once stopped reading for a whole run, and the
    // server stood still mid-storm (finding 26). The guard flushes at exit.
    let (log_writer, _flush_on_exit) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .buffered_lines_limit(LOG_LINES_BUFFERED)
        .lossy(true)
        .finish(std::io::stdout());
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,rtca=info")))
        .with_writer(log_writer)
        .init();
    let config = Config::load(std::env::args().skip(1))?;
    let listener = listen(config.addr)?;
    run(listener, config, shutdown_signal()).await
}
