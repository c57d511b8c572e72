//! The `rtca` server: read the configuration, bind, serve until Ctrl-C or
//! SIGTERM. Everything else lives in the library (`rtca::server`).

// The app's view types are deep; see the same attribute in lib.rs.
#![recursion_limit = "256"]

use rtca::server::config::usage;
use rtca::server::{listen, raise_descriptor_limit, run, shutdown_signal, Config};
use tracing_subscriber::EnvFilter;

/// Log lines waiting for the log thread; past this, new ones are dropped.
const LOG_LINES_BUFFERED: usize = 8192;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|arg| arg == "-h" || arg == "--help") {
        print!("{}", usage());
        return Ok(());
    }
    if args.first().is_some_and(|arg| arg == "backup") {
        return backup(&args[1..]).await;
    }
    let config = Config::load(args)?;
    // Logs go out from a thread of their own, through a bounded buffer that
    // drops lines when full: a write to stdout blocks when whatever reads it
    // falls behind (a full pipe), and it must never block the runtime. The
    // benchmark's harness once stopped reading for a whole run, and the
    // server stood still mid-storm (finding 26). `flush_logs` empties it at exit.
    let (log_writer, flush_on_exit) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .buffered_lines_limit(LOG_LINES_BUFFERED)
        .lossy(true)
        .finish(std::io::stdout());
    let logs = tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,rtca=info")))
        .with_writer(log_writer);
    if config.log_json {
        logs.json().init();
    } else {
        logs.init();
    }
    let served = serve(config).await;
    flush_logs(flush_on_exit);
    served
}

/// `rtca backup FILE [settings]`: a consistent copy of the database the
/// settings name, taken while the server runs (see docs/deployment.md).
async fn backup(args: &[String]) -> anyhow::Result<()> {
    let Some(dest) = args.first().filter(|dest| !dest.starts_with('-')) else {
        anyhow::bail!("usage: rtca backup FILE [--database-url URL]");
    };
    let config = Config::load(args[1..].to_vec())?;
    rtca::server::store::backup(&config.database_url, std::path::Path::new(dest)).await?;
    println!("{} copied to {dest}, with a new history epoch", config.database_url);
    Ok(())
}

async fn serve(config: Config) -> anyhow::Result<()> {
    raise_descriptor_limit();
    let listener = listen(config.addr)?;
    run(listener, config, shutdown_signal()).await
}

/// Writes out the lines still buffered, unless stdout is stuck: dropping the
/// guard waits for the log thread, which may be blocked in a write, and an
/// exit must not wait on it for ever.
fn flush_logs(guard: tracing_appender::non_blocking::WorkerGuard) {
    let (flushed, done) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        drop(guard);
        let _ = flushed.send(());
    });
    let _ = done.recv_timeout(std::time::Duration::from_secs(2));
}
