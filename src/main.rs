//! The `rtca` server: read the configuration, bind, serve until Ctrl-C or
//! SIGTERM. Everything else lives in the library (`rtca::server`).

// The app's view types are deep; see the same attribute in lib.rs.
#![recursion_limit = "256"]

use rtca::server::{listen, run, shutdown_signal, Config};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,rtca=info")))
        .init();
    let config = Config::load(std::env::args().skip(1))?;
    let listener = listen(config.addr)?;
    run(listener, config, shutdown_signal()).await
}
