//! Every setting the server reads, in one place, with its default.
//!
//! Precedence: command-line flag, then `RTCA_*` environment variable, then
//! the default. The README's configuration table mirrors this file.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use super::limits::{LimitSettings, Rate};

/// The server's configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where to listen. `RTCA_ADDR` / `--addr`; `LEPTOS_SITE_ADDR` (set by
    /// cargo-leptos) is honoured too. Default `127.0.0.1:3000`.
    pub addr: SocketAddr,
    /// The SQLite database. `RTCA_DATABASE_URL` / `--database-url`.
    /// Default `sqlite://rtca.db` (created if missing).
    pub database_url: String,
    /// The built site (HTML shell assets, WASM bundle, CSS, public files).
    /// `LEPTOS_SITE_ROOT` / `--site-root`. Default `target/site`.
    pub site_root: PathBuf,
    /// Extra origins, besides the server's own, allowed to open a socket.
    /// `RTCA_ALLOWED_ORIGINS` (comma-separated) / `--allowed-origin` (repeat).
    pub allowed_origins: Vec<String>,
    /// Largest Socket.IO packet, in bytes, on both transports.
    /// `RTCA_MAX_PACKET_BYTES`. Default 64 KiB (a 4000-character message is at
    /// most 16 KB of UTF-8, plus its envelope).
    pub max_packet_bytes: usize,
    /// Packets queued for one socket before it counts as a slow consumer.
    /// `RTCA_SOCKET_BUFFER`. Default 256.
    pub socket_buffer: usize,
    /// How long a session token stays valid. `RTCA_SESSION_DAYS`. Default 30.
    pub session_ttl: Duration,
    /// Database connections. `RTCA_DB_CONNECTIONS`. Default 8.
    pub db_connections: u32,
    /// How often the server pings each client (`RTCA_PING_INTERVAL_MS`,
    /// default 25 s), and how long it then waits for the pong
    /// (`RTCA_PING_TIMEOUT_MS`, default 20 s). A client that stops reading
    /// is dropped at the first ping its full queue cannot take, or when the
    /// pong does not come.
    pub ping_interval: Duration,
    pub ping_timeout: Duration,
    /// Rate limits (`PER_SECOND:BURST`) and connection caps:
    /// `RTCA_RATE_SEND_CONNECTION` (5:20), `RTCA_RATE_SEND_USER` (8:30),
    /// `RTCA_RATE_UPLOAD_USER` (1:20),
    /// `RTCA_RATE_READ` (10:60), `RTCA_RATE_JOIN_CONNECTION` (0.5:5),
    /// `RTCA_RATE_JOIN_ADDRESS` (1:50), `RTCA_RATE_OTHER` (10:30),
    /// `RTCA_RATE_LOGIN_ADDRESS` (0.5:10), `RTCA_RATE_LOGIN_ACCOUNT` (0.1:5),
    /// `RTCA_MAX_CONNECTIONS_PER_USER` (16),
    /// `RTCA_MAX_CONNECTIONS_PER_ADDRESS` (64).
    pub limits: LimitSettings,
    /// Rooms one user may be a member of (the lobby not counted).
    /// `RTCA_MAX_ROOMS_PER_USER`. Default 100.
    pub max_rooms_per_user: usize,
    /// Whether people may chat as guests (a name, no password).
    /// `RTCA_ALLOW_GUESTS` (`true`/`false`). Default true.
    pub allow_guests: bool,
    /// Whether live messages, presence and acks are written straight to
    /// WebSocket connections (`server::direct`) instead of through
    /// socketioxide's per-socket writers. `RTCA_DIRECT_WRITES`
    /// (`true`/`false`). Default true; off is for comparing the two in the
    /// benchmark.
    pub direct_writes: bool,
    /// Where shared files are kept. `RTCA_MEDIA_DIR`. Default `./media`.
    pub media_dir: PathBuf,
    /// Largest file one upload may carry, in bytes. `RTCA_MAX_UPLOAD_BYTES`.
    /// Default 25 MiB (Zulip's default).
    pub max_upload_bytes: u64,
    /// Uploads in progress at once, per user (`RTCA_UPLOADS_PER_USER`,
    /// default 4) and in all (`RTCA_UPLOADS_TOTAL`, default 64).
    pub uploads_per_user: usize,
    pub uploads_total: usize,
    /// Images decoded at once for thumbnails, off the async runtime.
    /// `RTCA_THUMBNAIL_WORKERS`. Default 2.
    pub thumbnail_workers: usize,
    /// How long an upload no message took is kept before it is deleted.
    /// `RTCA_MEDIA_GRACE_SECS`. Default one day.
    pub media_grace: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            addr: SocketAddr::from(([127, 0, 0, 1], 3000)),
            database_url: "sqlite://rtca.db".to_owned(),
            site_root: PathBuf::from("target/site"),
            allowed_origins: Vec::new(),
            max_packet_bytes: 64 * 1024,
            socket_buffer: 256,
            session_ttl: Duration::from_secs(30 * 24 * 3600),
            db_connections: 8,
            ping_interval: Duration::from_secs(25),
            ping_timeout: Duration::from_secs(20),
            limits: LimitSettings::default(),
            allow_guests: true,
            direct_writes: true,
            max_rooms_per_user: 100,
            media_dir: PathBuf::from("media"),
            max_upload_bytes: 25 * 1024 * 1024,
            uploads_per_user: 4,
            uploads_total: 64,
            thumbnail_workers: 2,
            media_grace: Duration::from_secs(24 * 3600),
        }
    }
}

/// A setting that could not be read.
#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(String);

impl Config {
    /// Reads the environment and the given command-line arguments (without
    /// the program name).
    pub fn load(args: impl IntoIterator<Item = String>) -> Result<Config, ConfigError> {
        Self::from_sources(|key| std::env::var(key).ok(), args)
    }

    fn from_sources(
        env: impl Fn(&str) -> Option<String>,
        args: impl IntoIterator<Item = String>,
    ) -> Result<Config, ConfigError> {
        let mut config = Config::default();
        if let Some(addr) = env("LEPTOS_SITE_ADDR") {
            config.addr = parse(&addr, "LEPTOS_SITE_ADDR")?;
        }
        if let Some(addr) = env("RTCA_ADDR") {
            config.addr = parse(&addr, "RTCA_ADDR")?;
        }
        if let Some(url) = env("RTCA_DATABASE_URL") {
            config.database_url = url;
        }
        if let Some(root) = env("LEPTOS_SITE_ROOT") {
            config.site_root = root.into();
        }
        if let Some(origins) = env("RTCA_ALLOWED_ORIGINS") {
            config.allowed_origins =
                origins.split(',').map(str::trim).filter(|o| !o.is_empty()).map(str::to_owned).collect();
        }
        if let Some(n) = env("RTCA_MAX_PACKET_BYTES") {
            config.max_packet_bytes = parse(&n, "RTCA_MAX_PACKET_BYTES")?;
        }
        if let Some(n) = env("RTCA_SOCKET_BUFFER") {
            config.socket_buffer = parse(&n, "RTCA_SOCKET_BUFFER")?;
        }
        if let Some(days) = env("RTCA_SESSION_DAYS") {
            let days: u64 = parse(&days, "RTCA_SESSION_DAYS")?;
            let secs =
                days.checked_mul(24 * 3600).ok_or_else(|| ConfigError("RTCA_SESSION_DAYS is too large".into()))?;
            config.session_ttl = Duration::from_secs(secs);
        }
        if let Some(n) = env("RTCA_DB_CONNECTIONS") {
            config.db_connections = parse(&n, "RTCA_DB_CONNECTIONS")?;
        }
        if let Some(ms) = env("RTCA_PING_INTERVAL_MS") {
            config.ping_interval = Duration::from_millis(parse(&ms, "RTCA_PING_INTERVAL_MS")?);
        }
        if let Some(ms) = env("RTCA_PING_TIMEOUT_MS") {
            config.ping_timeout = Duration::from_millis(parse(&ms, "RTCA_PING_TIMEOUT_MS")?);
        }
        let limits = &mut config.limits;
        let rates: [(&str, &mut Rate); 9] = [
            ("RTCA_RATE_SEND_CONNECTION", &mut limits.send_per_connection),
            ("RTCA_RATE_SEND_USER", &mut limits.send_per_user),
            ("RTCA_RATE_UPLOAD_USER", &mut limits.upload_per_user),
            ("RTCA_RATE_READ", &mut limits.read_per_connection),
            ("RTCA_RATE_JOIN_CONNECTION", &mut limits.join_per_connection),
            ("RTCA_RATE_JOIN_ADDRESS", &mut limits.join_per_address),
            ("RTCA_RATE_OTHER", &mut limits.other_per_connection),
            ("RTCA_RATE_LOGIN_ADDRESS", &mut limits.login_per_address),
            ("RTCA_RATE_LOGIN_ACCOUNT", &mut limits.login_per_account),
        ];
        for (key, rate) in rates {
            if let Some(value) = env(key) {
                *rate = parse(&value, key)?;
            }
        }
        if let Some(n) = env("RTCA_MAX_CONNECTIONS_PER_USER") {
            limits.connections_per_user = parse(&n, "RTCA_MAX_CONNECTIONS_PER_USER")?;
        }
        if let Some(n) = env("RTCA_MAX_CONNECTIONS_PER_ADDRESS") {
            limits.connections_per_address = parse(&n, "RTCA_MAX_CONNECTIONS_PER_ADDRESS")?;
        }
        if let Some(n) = env("RTCA_MAX_ROOMS_PER_USER") {
            config.max_rooms_per_user = parse(&n, "RTCA_MAX_ROOMS_PER_USER")?;
        }
        if let Some(allow) = env("RTCA_ALLOW_GUESTS") {
            config.allow_guests = parse_switch(&allow, "RTCA_ALLOW_GUESTS")?;
        }
        if let Some(direct) = env("RTCA_DIRECT_WRITES") {
            config.direct_writes = parse_switch(&direct, "RTCA_DIRECT_WRITES")?;
        }
        if let Some(dir) = env("RTCA_MEDIA_DIR") {
            config.media_dir = dir.into();
        }
        if let Some(n) = env("RTCA_MAX_UPLOAD_BYTES") {
            config.max_upload_bytes = parse(&n, "RTCA_MAX_UPLOAD_BYTES")?;
        }
        if let Some(n) = env("RTCA_UPLOADS_PER_USER") {
            config.uploads_per_user = parse(&n, "RTCA_UPLOADS_PER_USER")?;
        }
        if let Some(n) = env("RTCA_UPLOADS_TOTAL") {
            config.uploads_total = parse(&n, "RTCA_UPLOADS_TOTAL")?;
        }
        if let Some(n) = env("RTCA_THUMBNAIL_WORKERS") {
            config.thumbnail_workers = parse(&n, "RTCA_THUMBNAIL_WORKERS")?;
        }
        if let Some(secs) = env("RTCA_MEDIA_GRACE_SECS") {
            config.media_grace = Duration::from_secs(parse(&secs, "RTCA_MEDIA_GRACE_SECS")?);
        }

        let mut args = args.into_iter();
        while let Some(flag) = args.next() {
            let mut value = |name: &str| args.next().ok_or_else(|| ConfigError(format!("{name} needs a value")));
            match flag.as_str() {
                "--addr" => config.addr = parse(&value("--addr")?, "--addr")?,
                "--database-url" => config.database_url = value("--database-url")?,
                "--media-dir" => config.media_dir = value("--media-dir")?.into(),
                "--site-root" => config.site_root = value("--site-root")?.into(),
                "--allowed-origin" => config.allowed_origins.push(value("--allowed-origin")?),
                "-h" | "--help" => return Err(ConfigError(USAGE.to_owned())),
                other => return Err(ConfigError(format!("unknown argument `{other}`\n{USAGE}"))),
            }
        }
        if config.max_packet_bytes < 1024
            || config.socket_buffer == 0
            || config.db_connections == 0
            || config.ping_interval.is_zero()
            || config.ping_timeout.is_zero()
            || config.limits.connections_per_user == 0
            || config.limits.connections_per_address == 0
            || config.max_upload_bytes == 0
            || config.uploads_per_user == 0
            || config.uploads_total == 0
            || config.thumbnail_workers == 0
            || config.media_grace.is_zero()
        {
            return Err(ConfigError("limits must be positive (packet size at least 1024 bytes)".into()));
        }
        Ok(config)
    }
}

const USAGE: &str =
    "usage: rtca [--addr HOST:PORT] [--database-url sqlite://FILE] [--site-root DIR] [--media-dir DIR] [--allowed-origin ORIGIN]...
Every setting also has an RTCA_* environment variable; see the README.";

fn parse<T: std::str::FromStr>(value: &str, name: &str) -> Result<T, ConfigError>
where
    T::Err: std::fmt::Display,
{
    value.trim().parse().map_err(|e| ConfigError(format!("{name}={value:?}: {e}")))
}

/// `true`/`false`, and their usual spellings (`1`, `yes`, `on`…).
fn parse_switch(value: &str, name: &str) -> Result<bool, ConfigError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        other => Err(ConfigError(format!("{name}={other:?}: use true or false"))),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn load(env: &[(&str, &str)], args: &[&str]) -> Result<Config, ConfigError> {
        let env: Vec<(String, String)> = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_sources(
            |key| env.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone()),
            args.iter().map(|a| a.to_string()),
        )
    }

    #[test]
    fn defaults_then_env_then_flags() {
        assert_eq!(load(&[], &[]).unwrap().addr.port(), 3000);
        let c = load(&[("LEPTOS_SITE_ADDR", "127.0.0.1:4000"), ("RTCA_ADDR", "127.0.0.1:5000")], &[]).unwrap();
        assert_eq!(c.addr.port(), 5000);
        let c = load(&[("RTCA_ADDR", "127.0.0.1:5000")], &["--addr", "127.0.0.1:6000"]).unwrap();
        assert_eq!(c.addr.port(), 6000);
        let c = load(&[("RTCA_ALLOWED_ORIGINS", "https://a.example, https://b.example")], &[]).unwrap();
        assert_eq!(c.allowed_origins, vec!["https://a.example", "https://b.example"]);
    }

    #[test]
    fn bad_values_are_errors_not_panics() {
        assert!(load(&[("RTCA_ADDR", "nope")], &[]).is_err());
        assert!(load(&[], &["--addr"]).is_err());
        assert!(load(&[], &["--bogus"]).is_err());
        assert!(load(&[("RTCA_SOCKET_BUFFER", "0")], &[]).is_err());
        assert!(load(&[("RTCA_RATE_SEND_USER", "fast")], &[]).is_err());
        assert!(load(&[("RTCA_MAX_CONNECTIONS_PER_ADDRESS", "0")], &[]).is_err());
    }

    #[test]
    fn limits_come_from_the_environment() {
        let c = load(&[("RTCA_RATE_SEND_USER", "2:4"), ("RTCA_MAX_CONNECTIONS_PER_USER", "3")], &[]).unwrap();
        assert_eq!(c.limits.send_per_user, Rate::new(2.0, 4));
        assert_eq!(c.limits.connections_per_user, 3);
        assert_eq!(c.limits.send_per_connection, LimitSettings::default().send_per_connection);
        assert!(load(&[], &[]).unwrap().allow_guests);
        assert!(!load(&[("RTCA_ALLOW_GUESTS", "false")], &[]).unwrap().allow_guests);
        assert!(load(&[("RTCA_ALLOW_GUESTS", "maybe")], &[]).is_err());
        assert!(load(&[], &[]).unwrap().direct_writes);
        assert!(!load(&[("RTCA_DIRECT_WRITES", "off")], &[]).unwrap().direct_writes);
    }
}
