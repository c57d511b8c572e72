//! The table of every setting ([`SETTINGS`]): each entry says what the
//! setting is, its `RTCA_*` variable, its flag and default, and how its
//! value is read and checked. `Config::load`, `--help` and the README's
//! table are all made from it.

use std::str::FromStr;
use std::time::Duration;

use super::Config;

/// Reads a value into the configuration; `Err` says why it is wrong.
pub(super) type Reader = fn(&mut Config, &str) -> Result<(), String>;

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
    pub(super) set: Reader,
    /// For a flag that may be given more than once: adds one value.
    pub(super) add: Option<Reader>,
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
        .note("(`sqlite://FILE`, created if missing, WAL mode; or `postgres://USER@HOST/DB`, see docs/deployment.md)"),
    Setting::new(
        "built site (WASM, CSS, public files), for a build that does not carry its own (a release build does)",
        "RTCA_SITE_ROOT",
        "target/site",
        |c, v| text(&mut c.site_root, v),
    )
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
    Setting::new(
        "the address people reach RTCA at, e.g. `https://chat.example.com`: the only origin taken as the site's \
         own, and with https, `Secure` `__Host-` session cookies",
        "RTCA_PUBLIC_URL",
        "",
        |c, v| {
            c.public_url = public_origin(v)?;
            Ok(())
        },
    )
    .note("none: the origin a request's `Host` names"),
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
    // A history reply of 500 long messages (control characters are six
    // bytes of JSON each) reaches 12 MB; a client that never reads could
    // make the server hold many (docs/security.md).
    Setting::new(
        "bytes waiting to be written to one connection (directly to a WebSocket, or through socketioxide for a \
         session on long-polling or upgraded from it); past it, or with nothing written out for the pong timeout, \
         the connection is closed or the session ended",
        "RTCA_OUTBOUND_BYTES",
        "1048576",
        |c, v| {
            c.outbound_bytes = at_least(65_535, v)?;
            Ok(())
        },
    )
    .note("(1 MiB)"),
    Setting::new(
        "largest history reply, bytes of JSON (a page cut short says `more: true`)",
        "RTCA_HISTORY_REPLY_BYTES",
        "262144",
        |c, v| {
            c.history_reply_bytes = at_least(16_384, v)?;
            Ok(())
        },
    )
    .note("(256 KiB)"),
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
    Setting::new("time from an Engine.IO handshake to its CONNECT, ms", "RTCA_CONNECT_TIMEOUT_MS", "5000", |c, v| {
        millis(&mut c.connect_timeout, v)
    }),
    // An office behind one NAT opening the app at nine; a session that
    // never sends CONNECT lasts `RTCA_CONNECT_TIMEOUT_MS`, so this bounds
    // how many can wait at once.
    Setting::new("new Engine.IO sessions per address", "RTCA_RATE_HANDSHAKE_ADDRESS", "20:200", |c, v| {
        set(&mut c.limits.handshake_per_address, v)
    }),
    Setting::new(
        "time for a request head to arrive, and for the next on an idle kept-alive connection, ms",
        "RTCA_HEADER_TIMEOUT_MS",
        "15000",
        |c, v| millis(&mut c.header_timeout, v),
    ),
    Setting::new("longest pause in a request body, ms", "RTCA_BODY_IDLE_MS", "15000", |c, v| {
        millis(&mut c.body_idle, v)
    }),
    Setting::new(
        "slowest a request body may average once its first pause-long stretch is over, bytes a second",
        "RTCA_BODY_MIN_RATE",
        "1024",
        |c, v| set(&mut c.body_min_rate, v),
    ),
    Setting::new("open TCP connections in all", "RTCA_MAX_HTTP_CONNECTIONS", "16384", |c, v| {
        positive(&mut c.max_http_connections, v)
    }),
    Setting::new("open TCP connections per address", "RTCA_MAX_HTTP_CONNECTIONS_PER_ADDRESS", "256", |c, v| {
        positive(&mut c.http_connections_per_address, v)
    }),
    Setting::new("messages per connection (`PER_SECOND:BURST`)", "RTCA_RATE_SEND_CONNECTION", "5:20", |c, v| {
        set(&mut c.limits.send_per_connection, v)
    }),
    Setting::new("messages per user", "RTCA_RATE_SEND_USER", "8:30", |c, v| set(&mut c.limits.send_per_user, v)),
    // A reconnect resumes the lobby and every private conversation that
    // moved, so reads come in bursts.
    Setting::new("history, conversation and presence-list reads per connection", "RTCA_RATE_READ", "10:60", |c, v| {
        set(&mut c.limits.read_per_connection, v)
    }),
    // Generous for a whole office reconnecting behind one NAT.
    Setting::new(
        "bytes of history read per address: `history` and chat pages, anonymous readers too",
        "RTCA_RATE_READ_BYTES_ADDRESS",
        "2097152:16777216",
        |c, v| set(&mut c.limits.read_bytes_per_address, v),
    )
    .note("(2 MiB/s, bursts of 16 MiB)"),
    Setting::new(
        "bytes of history read by everyone together",
        "RTCA_RATE_READ_BYTES_ALL",
        "33554432:268435456",
        |c, v| set(&mut c.limits.read_bytes_total, v),
    )
    .note("(32 MiB/s, bursts of 256 MiB)"),
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
    // Ten at once, then one every twenty seconds: public rooms are
    // everyone's list.
    Setting::new("new public rooms per user, and per address", "RTCA_RATE_PUBLIC_ROOMS", "0.05:10", |c, v| {
        set(&mut c.limits.public_rooms, v)
    }),
    // Three at once, then one every five minutes: `@here` and `@room`
    // reach up to `MAX_CALLED` people each.
    Setting::new("messages calling `@here` or `@room` per user", "RTCA_RATE_CALL_EVERYONE", "0.0033:3", |c, v| {
        set(&mut c.limits.call_everyone, v)
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
    Setting::new("uploads in progress per address", "RTCA_UPLOADS_PER_ADDRESS", "8", |c, v| {
        positive(&mut c.uploads_per_address, v)
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
    Setting::new("address serving Prometheus `/metrics` (and nothing else)", "RTCA_METRICS_ADDR", "", |c, v| {
        c.metrics_addr = match v.trim() {
            "" => None,
            addr => Some(addr.parse().map_err(|_| format!("{addr:?} is not an address such as 127.0.0.1:9100"))?),
        };
        Ok(())
    })
    .flag("--metrics-addr")
    .note("none: no metrics are kept"),
    Setting::new("Redis backplane joining this node to others on the same database", "RTCA_REDIS_URL", "", |c, v| {
        c.redis_url = match v.trim() {
            "" => None,
            url if url.starts_with("redis://") => Some(url.to_owned()),
            // Not `other`: a URL may carry a password.
            _ => return Err("give a URL such as redis://127.0.0.1:6379 (TLS, rediss://, is not built in)".to_owned()),
        };
        Ok(())
    })
    .flag("--redis-url")
    .note("none: one node (docs/deployment.md)"),
    Setting::new("Web Push to devices with no tab open", "RTCA_PUSH", "true", |c, v| switch(&mut c.push, v)),
    Setting::new(
        "who runs this server, told to push services (`mailto:` or `https:`)",
        "RTCA_PUSH_CONTACT",
        "mailto:rtca@localhost",
        |c, v| {
            let v = v.trim();
            if !(v.starts_with("mailto:") || v.starts_with("https://")) {
                return Err("give a mailto: or https:// address".into());
            }
            c.push_contact = v.to_owned();
            Ok(())
        },
    ),
    Setting::new(
        "push to http:// and private addresses (tests only)",
        "RTCA_PUSH_PRIVATE_ENDPOINTS",
        "false",
        |c, v| switch(&mut c.push_private_endpoints, v),
    )
    .note("(never on a real server: see docs/security.md)"),
    Setting::new("log format: `text`, or `json` (one object a line)", "RTCA_LOG_FORMAT", "text", |c, v| {
        c.log_json = match v.trim() {
            "text" => false,
            "json" => true,
            other => return Err(format!("{other:?} is neither `text` nor `json`")),
        };
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

/// `scheme://host[:port]`, from an address with nothing after its host but
/// a `/`; `None` for an empty one.
fn public_origin(value: &str) -> Result<Option<String>, String> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    // As a browser writes an `Origin`: the scheme and host in lower case,
    // and no port where it is the scheme's own.
    let lower = value.to_ascii_lowercase();
    let (scheme, default_port) = if lower.starts_with("https://") { ("https", ":443") } else { ("http", ":80") };
    let host = lower.strip_prefix("https://").or_else(|| lower.strip_prefix("http://"));
    let host = host.ok_or("must start with https:// or http://")?.trim_end_matches('/');
    if host.is_empty() || host.contains(['/', '?', '#', '@', ' ']) {
        return Err("must be an origin, like https://chat.example.com".into());
    }
    let host = host.strip_suffix(default_port).unwrap_or(host);
    Ok(Some(format!("{scheme}://{host}")))
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
