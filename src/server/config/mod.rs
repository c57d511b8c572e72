//! Every setting the server reads, in one table: [`SETTINGS`]. Each entry is
//! one declaration — what it is, its `RTCA_*` variable, its flag, its
//! default, how it is read and checked — and that one table drives loading
//! ([`Config::load`]), `--help`, the README's table of settings (a test
//! holds the two equal) and the messages that name a bad setting.
//!
//! Precedence: command-line flag, then environment variable, then the
//! default.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// The server's configuration, as [`SETTINGS`] read it.
#[derive(Debug, Clone)]
pub struct Config {
    pub addr: SocketAddr,
    pub database_url: String,
    /// The built site: the HTML shell's assets, the WASM bundle, CSS and
    /// public files.
    pub site_root: PathBuf,
    /// Origins, besides the server's own, allowed to open a socket.
    pub allowed_origins: Vec<String>,
    /// The origin people reach RTCA at (`https://chat.example.com`), if
    /// set: then the server's own origin is this one, whatever `Host` a
    /// request names (no DNS rebinding), and with https the session cookie
    /// is `Secure` and `__Host-` prefixed.
    pub public_url: Option<String>,
    /// Largest Socket.IO packet, in bytes, on both transports.
    pub max_packet_bytes: usize,
    /// Packets queued for one socket before it counts as a slow consumer.
    pub socket_buffer: usize,
    /// Bytes one WebSocket connection may have waiting on the direct path
    /// (`delivery::wire`); a connection past it, or whose queue has had
    /// nothing written out for the pong timeout, is closed. (What socketioxide's
    /// own writer holds is bounded by `socket_buffer` packets.)
    pub outbound_bytes: usize,
    /// Largest `history` reply (and page's history), in bytes of JSON: a
    /// page cut short says `more`.
    pub history_reply_bytes: usize,
    pub session_ttl: Duration,
    pub db_connections: u32,
    /// How often the server pings each client, and how long it then waits
    /// for the pong. A client that stops reading is dropped when it misses
    /// a ping.
    pub ping_interval: Duration,
    pub ping_timeout: Duration,
    /// How long an Engine.IO session may go without its CONNECT.
    pub connect_timeout: Duration,
    /// How long a request head may take, the wait for the next one on a
    /// kept-alive connection included.
    pub header_timeout: Duration,
    /// How long a request body may pause, and the least it must average
    /// after its first such stretch.
    pub body_idle: Duration,
    pub body_min_rate: u64,
    /// Open TCP connections, in all and per address.
    pub max_http_connections: usize,
    pub http_connections_per_address: usize,
    /// Rate limits and connection caps.
    pub limits: LimitSettings,
    /// Rooms one user may be a member of (the lobby not counted), and
    /// create.
    pub max_rooms_per_user: usize,
    pub allow_guests: bool,
    /// Whether live messages, presence and acks are written straight to
    /// WebSocket connections (`delivery::direct`) instead of through
    /// socketioxide's per-socket writers; off is for comparing the two.
    pub direct_writes: bool,
    pub media_dir: PathBuf,
    pub max_upload_bytes: u64,
    pub uploads_per_user: usize,
    pub uploads_per_address: usize,
    pub uploads_total: usize,
    /// Images decoded at once for previews, off the async runtime.
    pub thumbnail_workers: usize,
    /// How long an upload no message took is kept.
    pub media_grace: Duration,
    /// Where Prometheus reads `/metrics`, if anywhere: an address of its
    /// own, never the public one.
    pub metrics_addr: Option<SocketAddr>,
    /// Logs as one JSON object a line, instead of text.
    pub log_json: bool,
    /// The Redis that joins this node to the others sharing its database
    /// (`server::cluster`); `None`: this node is alone.
    pub redis_url: Option<String>,
    /// Web Push (`server::push`): off, no device is kept nor pushed to.
    pub push: bool,
    /// Who runs this server, for push services (VAPID's `sub`): a
    /// `mailto:` or `https:` address.
    pub push_contact: String,
    /// Push to `http://` endpoints and private or loopback addresses: for
    /// tests with a push service of their own, never for a real server
    /// (an endpoint is the client's to give: this would let it aim the
    /// server at its own network).
    pub push_private_endpoints: bool,
}

/// A sustained rate with a burst allowance.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    pub per_second: f64,
    pub burst: u32,
}

impl Rate {
    pub const fn new(per_second: f64, burst: u32) -> Rate {
        Rate { per_second, burst }
    }
}

impl std::str::FromStr for Rate {
    type Err = String;

    /// `"5:20"`: five per second, in bursts of up to twenty.
    fn from_str(text: &str) -> Result<Rate, String> {
        let (rate, burst) = text.split_once(':').ok_or("expected PER_SECOND:BURST, e.g. 5:20")?;
        let per_second: f64 = rate.trim().parse().map_err(|e| format!("{e}"))?;
        let burst: u32 = burst.trim().parse().map_err(|e| format!("{e}"))?;
        if !(per_second.is_finite() && per_second > 0.0) || burst == 0 {
            return Err("the rate and the burst must be positive".into());
        }
        Ok(Rate { per_second, burst })
    }
}

/// The limits in force (all from `Config`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LimitSettings {
    /// Messages one connection may send.
    pub send_per_connection: Rate,
    /// Messages one user may send across all their connections and forms.
    pub send_per_user: Rate,
    /// Files one user may upload.
    pub upload_per_user: Rate,
    /// History and conversation reads per connection.
    pub read_per_connection: Rate,
    /// Bytes of history read per address, and by everyone together:
    /// `history` replies and the history in chat pages, for anonymous
    /// readers too.
    pub read_bytes_per_address: Rate,
    pub read_bytes_total: Rate,
    /// `online` attempts per connection.
    pub join_per_connection: Rate,
    /// New guest identities per address.
    pub join_per_address: Rate,
    /// New Engine.IO sessions (handshakes) per address.
    pub handshake_per_address: Rate,
    /// New public rooms per user, and per address.
    pub public_rooms: Rate,
    /// Messages calling everyone (`@here`, `@room`) per user.
    pub call_everyone: Rate,
    /// Every other event per connection.
    pub other_per_connection: Rate,
    /// Sign-in attempts per address, and per account name.
    pub login_per_address: Rate,
    pub login_per_account: Rate,
    /// Open sockets one user may hold.
    pub connections_per_user: usize,
    /// Open sockets one address may hold.
    pub connections_per_address: usize,
}

impl LimitSettings {
    /// Placeholders, before the table's defaults are read in.
    fn unset() -> LimitSettings {
        let none = Rate::new(1.0, 1);
        LimitSettings {
            send_per_connection: none,
            send_per_user: none,
            upload_per_user: none,
            read_per_connection: none,
            read_bytes_per_address: none,
            read_bytes_total: none,
            join_per_connection: none,
            join_per_address: none,
            handshake_per_address: none,
            public_rooms: none,
            call_everyone: none,
            other_per_connection: none,
            login_per_address: none,
            login_per_account: none,
            connections_per_user: 0,
            connections_per_address: 0,
        }
    }
}

/// A setting that could not be read; the message names it.
#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(String);

impl Default for Config {
    /// Every setting at its default. The table's defaults all read (a
    /// test says so), so nothing stays at [`Config::unset`]'s placeholders.
    fn default() -> Config {
        Config::from_sources(|_| None, []).unwrap_or_else(|_| Config::unset())
    }
}

impl Config {
    /// Whether people reach RTCA over https, as `public_url` says.
    pub fn https(&self) -> bool {
        self.public_url.as_deref().is_some_and(|url| url.starts_with("https://"))
    }

    /// Reads the environment and the given command-line arguments (without
    /// the program name).
    pub fn load(args: impl IntoIterator<Item = String>) -> Result<Config, ConfigError> {
        Self::from_sources(|key| std::env::var(key).ok(), args)
    }

    /// Placeholders, before the table's defaults are read in.
    fn unset() -> Config {
        Config {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            database_url: String::new(),
            site_root: PathBuf::new(),
            allowed_origins: Vec::new(),
            public_url: None,
            max_packet_bytes: 0,
            socket_buffer: 0,
            outbound_bytes: 0,
            history_reply_bytes: 0,
            session_ttl: Duration::ZERO,
            db_connections: 0,
            ping_interval: Duration::ZERO,
            ping_timeout: Duration::ZERO,
            connect_timeout: Duration::ZERO,
            header_timeout: Duration::ZERO,
            body_idle: Duration::ZERO,
            body_min_rate: 0,
            max_http_connections: 0,
            http_connections_per_address: 0,
            limits: LimitSettings::unset(),
            max_rooms_per_user: 0,
            allow_guests: false,
            direct_writes: false,
            media_dir: PathBuf::new(),
            max_upload_bytes: 0,
            uploads_per_user: 0,
            uploads_per_address: 0,
            uploads_total: 0,
            thumbnail_workers: 0,
            media_grace: Duration::ZERO,
            metrics_addr: None,
            redis_url: None,
            log_json: false,
            push: false,
            push_contact: String::new(),
            push_private_endpoints: false,
        }
    }

    fn from_sources(
        env: impl Fn(&str) -> Option<String>,
        args: impl IntoIterator<Item = String>,
    ) -> Result<Config, ConfigError> {
        let mut config = Config::unset();
        let bad = |source: &str, value: &str, why: String| ConfigError(format!("{source}={value:?}: {why}"));
        for setting in SETTINGS {
            (setting.set)(&mut config, setting.default).map_err(|why| bad("the default of", setting.env, why))?;
            for source in setting.also.into_iter().chain([setting.env]) {
                if let Some(value) = env(source) {
                    (setting.set)(&mut config, &value).map_err(|why| bad(source, &value, why))?;
                }
            }
        }
        let mut args = args.into_iter();
        while let Some(flag) = args.next() {
            if flag == "-h" || flag == "--help" {
                return Err(ConfigError(usage()));
            }
            let setting = SETTINGS
                .iter()
                .find(|setting| setting.flag == Some(flag.as_str()))
                .ok_or_else(|| ConfigError(format!("unknown argument `{flag}`\n\n{}", usage())))?;
            let value = args.next().ok_or_else(|| ConfigError(format!("{flag} needs a value")))?;
            // A repeatable flag adds to what the variable said.
            let apply = setting.add.unwrap_or(setting.set);
            apply(&mut config, &value).map_err(|why| bad(&flag, &value, why))?;
        }
        Ok(config)
    }
}

/// `--help`: the flags, then every setting with its variable and default.
pub fn usage() -> String {
    let flags: Vec<String> = SETTINGS
        .iter()
        .filter_map(|s| s.flag.map(|flag| format!("[{flag} {}]", s.env.trim_start_matches("RTCA_"))))
        .collect();
    let mut text =
        format!("usage: rtca {}\n       rtca backup FILE [--database-url URL]   a consistent copy of the database, taken while it serves\n\nEvery setting, by environment variable (flags win over them):\n", flags.join(" "));
    for setting in SETTINGS {
        let default = if setting.default.is_empty() { "none" } else { setting.default };
        text.push_str(&format!("  {:<34} {} (default {default})\n", setting.env, setting.what));
    }
    text.push_str("  RUST_LOG                           log filter (default info)\n");
    text
}

/// The README's table of settings, as this table says it must read.
pub fn markdown_table() -> String {
    let mut table = String::from("| setting | env | flag | default |\n|---|---|---|---|\n");
    for setting in SETTINGS {
        let env = match setting.also {
            Some(also) => format!("`{}` (also `{also}`)", setting.env),
            None => format!("`{}`", setting.env),
        };
        let flag = setting.flag.map(|flag| format!("`{flag}`")).unwrap_or_default();
        let default = match (setting.default, setting.note) {
            ("", note) => note.to_owned(),
            (default, "") => format!("`{default}`"),
            (default, note) => format!("`{default}` {note}"),
        };
        table.push_str(&format!("| {} | {env} | {flag} | {default} |\n", setting.what));
    }
    table
}

mod settings;

pub use settings::{Setting, SETTINGS};

#[cfg(test)]
mod tests;
