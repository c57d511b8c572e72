//! The settings table, read as an operator would set it.

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
fn every_default_reads_and_means_what_it_meant() {
    let c = load(&[], &[]).unwrap();
    assert_eq!(c.addr, SocketAddr::from(([127, 0, 0, 1], 3000)));
    assert_eq!(
        (c.database_url.as_str(), c.site_root.as_path()),
        ("sqlite://rtca.db", std::path::Path::new("target/site"))
    );
    assert_eq!((c.max_packet_bytes, c.socket_buffer, c.db_connections), (64 * 1024, 256, 8));
    assert_eq!(c.session_ttl, Duration::from_secs(30 * 24 * 3600));
    assert_eq!((c.ping_interval, c.ping_timeout), (Duration::from_secs(25), Duration::from_secs(20)));
    assert_eq!(c.limits.send_per_connection, Rate::new(5.0, 20));
    assert_eq!(c.limits.login_per_account, Rate::new(0.1, 5));
    assert_eq!((c.limits.connections_per_user, c.limits.connections_per_address), (16, 64));
    assert_eq!((c.max_rooms_per_user, c.allow_guests, c.direct_writes), (100, true, true));
    assert_eq!((c.max_upload_bytes, c.uploads_per_user, c.uploads_total), (25 * 1024 * 1024, 4, 64));
    assert_eq!((c.thumbnail_workers, c.media_grace), (2, Duration::from_secs(24 * 3600)));
    assert!(c.allowed_origins.is_empty());
    assert_eq!(Config::default().addr, c.addr);
}

#[test]
fn defaults_then_env_then_flags() {
    let c = load(&[("LEPTOS_SITE_ADDR", "127.0.0.1:4000"), ("RTCA_ADDR", "127.0.0.1:5000")], &[]).unwrap();
    assert_eq!(c.addr.port(), 5000);
    assert_eq!(load(&[("LEPTOS_SITE_ADDR", "127.0.0.1:4000")], &[]).unwrap().addr.port(), 4000);
    let c = load(&[("RTCA_ADDR", "127.0.0.1:5000")], &["--addr", "127.0.0.1:6000"]).unwrap();
    assert_eq!(c.addr.port(), 6000);
    let c = load(&[("RTCA_ALLOWED_ORIGINS", "https://a.example, https://b.example")], &[]).unwrap();
    assert_eq!(c.allowed_origins, vec!["https://a.example", "https://b.example"]);
    let flags = ["--allowed-origin", "https://c.example", "--allowed-origin", "https://d.example"];
    let c = load(&[("RTCA_ALLOWED_ORIGINS", "https://a.example")], &flags).unwrap();
    assert_eq!(c.allowed_origins, vec!["https://a.example", "https://c.example", "https://d.example"]);
}

#[test]
fn a_bad_value_is_an_error_that_names_it() {
    let error = |env: &[(&str, &str)], args: &[&str]| load(env, args).unwrap_err().to_string();
    assert!(error(&[("RTCA_ADDR", "nope")], &[]).contains("RTCA_ADDR=\"nope\""));
    assert!(error(&[], &["--addr"]).contains("--addr needs a value"));
    assert!(error(&[], &["--bogus"]).contains("unknown argument `--bogus`"));
    assert!(error(&[("RTCA_SOCKET_BUFFER", "0")], &[]).contains("RTCA_SOCKET_BUFFER=\"0\": must be at least 1"));
    assert!(error(&[("RTCA_MAX_PACKET_BYTES", "100")], &[]).contains("must be at least 1024"));
    assert!(error(&[("RTCA_RATE_SEND_USER", "fast")], &[]).contains("RTCA_RATE_SEND_USER"));
    assert!(error(&[("RTCA_MAX_CONNECTIONS_PER_ADDRESS", "0")], &[]).contains("RTCA_MAX_CONNECTIONS_PER_ADDRESS"));
    assert!(error(&[("RTCA_ALLOW_GUESTS", "maybe")], &[]).contains("use true or false"));
    assert!(error(&[("RTCA_SESSION_DAYS", "99999999999999999")], &[]).contains("RTCA_SESSION_DAYS"));
    assert!(error(&[], &["--addr", "x"]).starts_with("configuration: --addr=\"x\""));
}

#[test]
fn limits_come_from_the_environment() {
    let c = load(&[("RTCA_RATE_SEND_USER", "2:4"), ("RTCA_MAX_CONNECTIONS_PER_USER", "3")], &[]).unwrap();
    assert_eq!(c.limits.send_per_user, Rate::new(2.0, 4));
    assert_eq!(c.limits.connections_per_user, 3);
    assert_eq!(c.limits.send_per_connection, Config::default().limits.send_per_connection);
    assert!(!load(&[("RTCA_ALLOW_GUESTS", "false")], &[]).unwrap().allow_guests);
    assert!(!load(&[("RTCA_DIRECT_WRITES", "off")], &[]).unwrap().direct_writes);
}

#[test]
fn rates_parse_and_refuse_nonsense() {
    assert_eq!("5:20".parse::<Rate>().unwrap(), Rate::new(5.0, 20));
    assert_eq!("0.5 : 2".parse::<Rate>().unwrap(), Rate::new(0.5, 2));
    for bad in ["", "5", "0:1", "1:0", "-1:3", "x:y", "inf:3", "NaN:3"] {
        assert!(bad.parse::<Rate>().is_err(), "{bad:?}");
    }
}

#[test]
fn help_lists_every_setting() {
    let help = load(&[], &["--help"]).unwrap_err().to_string();
    for setting in SETTINGS {
        assert!(help.contains(setting.env), "{} missing from --help", setting.env);
    }
    assert!(help.contains("[--addr ADDR]"), "{help}");
}

#[test]
fn a_public_address_reads_as_a_browser_writes_its_origin() {
    let public = |value: &str| load(&[("RTCA_PUBLIC_URL", value)], &[]).map(|c| c.public_url);
    assert_eq!(public("").unwrap(), None);
    assert_eq!(public("https://Chat.Example.com:443/").unwrap().as_deref(), Some("https://chat.example.com"));
    assert_eq!(public("http://10.0.0.5:3000").unwrap().as_deref(), Some("http://10.0.0.5:3000"));
    assert!(load(&[("RTCA_PUBLIC_URL", "https://chat.example.com:443")], &[]).unwrap().https());
    for bad in ["chat.example.com", "https://", "https://chat.example.com/rtca", "ftp://x"] {
        assert!(public(bad).is_err(), "{bad}");
    }
}
