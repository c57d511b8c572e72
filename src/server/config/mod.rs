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
use std::str::FromStr;
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
    /// Largest Socket.IO packet, in bytes, on both transports.
    pub max_packet_bytes: usize,
    /// Packets queued for one socket before it counts as a slow consumer.
    pub socket_buffer: usize,
    pub session_ttl: Duration,
    pub db_connections: u32,
    /// How often the server pings each client, and how long it then waits
    /// for the pong. A client that stops reading is dropped when it misses
    /// a ping.
    pub ping_interval: Duration,
    pub ping_timeout: Duration,
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
    pub uploads_total: usize,
    /// Images decoded at once for previews, off the async runtime.
    pub thumbnail_workers: usize,
    /// How long an upload no message took is kept.
    pub media_grace: Duration,
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
    /// `online` attempts per connection.
    pub join_per_connection: Rate,
    /// New guest identities per address.
    pub join_per_address: Rate,
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
            join_per_connection: none,
            join_per_address: none,
            other_per_connection: none,
            login_per_address: none,
            login_per_account: none,
            connections_per_user: 0,
            connections_per_address: 0,
        }
    }
}

/// Reads a value into the configuration; `Err` says why it is wrong.
type Reader = fn(&mut Config, &str) -> Result<(), String>;

/// One setting.
pub struct Setting {
    /// What it is, in a few words (the README's first column).
    pub what: &'static str,
    /// Its environment variable.
    pub env: &'static str,
    /// Another variable read too, with less precedence (cargo-leptos sets
    /// `LEPTOS_*`).
    pub also: Option<&'static str>,
    /// Its command-line flag, if it has one.
    pub flag: Option<&'static str>,
    /// The default, as it would be written in the variable.
    pub default: &'static str,
    /// What the README adds after the default.
    pub note: &'static str,
    set: Reader,
    /// For a flag that may be given more than once: adds one value.
    add: Option<Reader>,
}

impl Setting {
    const fn new(what: &'static str, env: &'static str, default: &'static str, set: Reader) -> Setting {
        Setting { what, env, also: None, flag: None, default, note: "", set, add: None }
    }

    const fn flag(self, flag: &'static str) -> Setting {
        Setting { flag: Some(flag), ..self }
    }

    const fn also(self, env: &'static str) -> Setting {
        Setting { also: Some(env), ..self }
    }

    const fn note(self, note: &'static str) -> Setting {
        Setting { note, ..self }
    }

    const fn repeatable(self, add: Reader) -> Setting {
        Setting { add: Some(add), ..self }
    }
}

/// Every setting, in the README's order.
pub const SETTINGS: &[Setting] = &[
    Setting::new("listen address", "RTCA_ADDR", "127.0.0.1:3000", |c, v| set(&mut c.addr, v))
        .also("LEPTOS_SITE_ADDR")
        .flag("--addr"),
    Setting::new("database", "RTCA_DATABASE_URL", "sqlite://rtca.db", |c, v| text(&mut c.database_url, v))
        .flag("--database-url")
        .note("(created if missing, WAL mode)"),
    Setting::new("built site (WASM, CSS, public files)", "RTCA_SITE_ROOT", "target/site", |c, v| {
        text(&mut c.site_root, v)
    })
    .also("LEPTOS_SITE_ROOT")
    .flag("--site-root"),
    Setting::new("extra origins allowed to open a socket (comma-separated)", "RTCA_ALLOWED_ORIGINS", "", |c, v| {
        c.allowed_origins = v.split(',').map(str::trim).filter(|o| !o.is_empty()).map(str::to_owned).collect();
        Ok(())
    })
    .flag("--allowed-origin")
    .repeatable(|c, v| {
        c.allowed_origins.push(v.trim().to_owned());
        Ok(())
    })
    .note("none: only the site itself (the flag may be repeated)"),
    Setting::new("largest Socket.IO packet, bytes, both transports", "RTCA_MAX_PACKET_BYTES", "65536", |c, v| {
        c.max_packet_bytes = at_least(1024, v)?;
        Ok(())
    }),
    Setting::new(
        "packets queued per connection (socketioxide's, and what waits to be written directly)",
        "RTCA_SOCKET_BUFFER",
        "256",
        |c, v| positive(&mut c.socket_buffer, v),
    ),
    Setting::new(
        "live messages, presence and acks written straight to WebSocket connections (`false` sends them \
         through socketioxide's writers; see docs/performance.md, findings 25 and 27)",
        "RTCA_DIRECT_WRITES",
        "true",
        |c, v| switch(&mut c.direct_writes, v),
    ),
    Setting::new("session lifetime, days", "RTCA_SESSION_DAYS", "30", |c, v| {
        let days: u64 = at_least(0, v)?;
        c.session_ttl = Duration::from_secs(days.checked_mul(24 * 3600).ok_or("too many days")?);
        Ok(())
    }),
    Setting::new("database connections", "RTCA_DB_CONNECTIONS", "8", |c, v| positive(&mut c.db_connections, v)),
    Setting::new("server ping interval, ms", "RTCA_PING_INTERVAL_MS", "25000", |c, v| millis(&mut c.ping_interval, v)),
    Setting::new("pong timeout, ms", "RTCA_PING_TIMEOUT_MS", "20000", |c, v| millis(&mut c.ping_timeout, v)),
    Setting::new("messages per connection (`PER_SECOND:BURST`)", "RTCA_RATE_SEND_CONNECTION", "5:20", |c, v| {
        set(&mut c.limits.send_per_connection, v)
    }),
    Setting::new("messages per user", "RTCA_RATE_SEND_USER", "8:30", |c, v| set(&mut c.limits.send_per_user, v)),
    // A reconnect resumes the lobby and every private conversation that
    // moved, so reads come in bursts.
    Setting::new("history, conversation and presence-list reads per connection", "RTCA_RATE_READ", "10:60", |c, v| {
        set(&mut c.limits.read_per_connection, v)
    }),
    Setting::new("`online` per connection", "RTCA_RATE_JOIN_CONNECTION", "0.5:5", |c, v| {
        set(&mut c.limits.join_per_connection, v)
    }),
    // Generous: a whole office behind one NAT may join at nine.
    Setting::new("new guests and accounts per address", "RTCA_RATE_JOIN_ADDRESS", "1:50", |c, v| {
        set(&mut c.limits.join_per_address, v)
    }),
    Setting::new("any other event per connection", "RTCA_RATE_OTHER", "10:30", |c, v| {
        set(&mut c.limits.other_per_connection, v)
    }),
    Setting::new("sign-in attempts per address", "RTCA_RATE_LOGIN_ADDRESS", "0.5:10", |c, v| {
        set(&mut c.limits.login_per_address, v)
    }),
    // Five tries, then one every ten seconds: a password guesser gets about
    // 8 600 guesses a day, whatever addresses it uses.
    Setting::new("sign-in attempts per account", "RTCA_RATE_LOGIN_ACCOUNT", "0.1:5", |c, v| {
        set(&mut c.limits.login_per_account, v)
    }),
    Setting::new("rooms one user may be in, and create", "RTCA_MAX_ROOMS_PER_USER", "100", |c, v| {
        set(&mut c.max_rooms_per_user, v)
    }),
    Setting::new("allow guests (a name, no password)", "RTCA_ALLOW_GUESTS", "true", |c, v| {
        switch(&mut c.allow_guests, v)
    }),
    Setting::new("open connections per user", "RTCA_MAX_CONNECTIONS_PER_USER", "16", |c, v| {
        positive(&mut c.limits.connections_per_user, v)
    }),
    Setting::new("open connections per address", "RTCA_MAX_CONNECTIONS_PER_ADDRESS", "64", |c, v| {
        positive(&mut c.limits.connections_per_address, v)
    }),
    Setting::new("where shared files are kept", "RTCA_MEDIA_DIR", "media", |c, v| text(&mut c.media_dir, v))
        .flag("--media-dir")
        .note("(created if missing)"),
    Setting::new("largest file, bytes", "RTCA_MAX_UPLOAD_BYTES", "26214400", |c, v| {
        positive(&mut c.max_upload_bytes, v)
    })
    .note("(25 MiB)"),
    Setting::new("uploads per user (`PER_SECOND:BURST`)", "RTCA_RATE_UPLOAD_USER", "1:20", |c, v| {
        set(&mut c.limits.upload_per_user, v)
    }),
    Setting::new("uploads in progress per user", "RTCA_UPLOADS_PER_USER", "4", |c, v| {
        positive(&mut c.uploads_per_user, v)
    }),
    Setting::new("uploads in progress in all", "RTCA_UPLOADS_TOTAL", "64", |c, v| positive(&mut c.uploads_total, v)),
    Setting::new("images decoded at once for previews", "RTCA_THUMBNAIL_WORKERS", "2", |c, v| {
        positive(&mut c.thumbnail_workers, v)
    }),
    Setting::new("how long an upload no message took is kept, seconds", "RTCA_MEDIA_GRACE_SECS", "86400", |c, v| {
        let secs: u64 = at_least(1, v)?;
        c.media_grace = Duration::from_secs(secs);
        Ok(())
    }),
];

/// Any value that reads with `FromStr`.
fn set<T: FromStr>(field: &mut T, value: &str) -> Result<(), String>
where
    T::Err: std::fmt::Display,
{
    *field = value.trim().parse().map_err(|e: T::Err| e.to_string())?;
    Ok(())
}

/// A string or a path, as given.
fn text<T: From<String>>(field: &mut T, value: &str) -> Result<(), String> {
    *field = T::from(value.to_owned());
    Ok(())
}

/// A number no smaller than `min`.
fn at_least<T: FromStr + PartialOrd + std::fmt::Display + From<u16>>(min: u16, value: &str) -> Result<T, String>
where
    T::Err: std::fmt::Display,
{
    let n: T = value.trim().parse().map_err(|e: T::Err| e.to_string())?;
    if n < T::from(min) {
        return Err(format!("must be at least {min}"));
    }
    Ok(n)
}

fn positive<T: FromStr + PartialOrd + std::fmt::Display + From<u16>>(field: &mut T, value: &str) -> Result<(), String>
where
    T::Err: std::fmt::Display,
{
    *field = at_least(1, value)?;
    Ok(())
}

fn millis(field: &mut Duration, value: &str) -> Result<(), String> {
    *field = Duration::from_millis(at_least(1, value)?);
    Ok(())
}

/// `true`/`false`, and their usual spellings (`1`, `yes`, `on`…).
fn switch(field: &mut bool, value: &str) -> Result<(), String> {
    *field = match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => true,
        "0" | "false" | "no" | "off" => false,
        _ => return Err("use true or false".into()),
    };
    Ok(())
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
            max_packet_bytes: 0,
            socket_buffer: 0,
            session_ttl: Duration::ZERO,
            db_connections: 0,
            ping_interval: Duration::ZERO,
            ping_timeout: Duration::ZERO,
            limits: LimitSettings::unset(),
            max_rooms_per_user: 0,
            allow_guests: false,
            direct_writes: false,
            media_dir: PathBuf::new(),
            max_upload_bytes: 0,
            uploads_per_user: 0,
            uploads_total: 0,
            thumbnail_workers: 0,
            media_grace: Duration::ZERO,
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
        format!("usage: rtca {}\n\nEvery setting, by environment variable (flags win over them):\n", flags.join(" "));
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

#[cfg(test)]
mod tests;
