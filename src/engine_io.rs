//! Engine.IO v4 / Socket.IO v5 text framing, as pure functions.
//!
//! The browser client speaks the protocol itself (no Rust Socket.IO client
//! runs in WASM), and the integration tests, the load generator and the fuzz
//! targets reuse the same codec. Only what RTCA needs is covered: text
//! packets on the default namespace `/`. Binary attachments are recognised
//! and reported as unsupported rather than misread.
//!
//! A packet's payload type is the caller's: tests and the fuzz target read
//! it as a `serde_json::Value`; the browser keeps it as raw JSON text
//! ([`RawPayload`]) and reads it straight into its typed event, so the WASM
//! bundle carries no `Value` deserializer.
//!
//! An Engine.IO text frame is one type digit and a payload:
//! `0` open, `1` close, `2` ping, `3` pong, `4` message, `5` upgrade, `6` noop.
//! A Socket.IO packet rides in a `4` frame: a type digit, an optional
//! `/nsp,` prefix, an optional ack id, then JSON:
//! `0` connect, `1` disconnect, `2` event, `3` ack, `4` connect error.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{DeserializeOwned, Error as _, IgnoredAny, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

/// A payload left as the JSON text it arrived as.
pub type RawPayload = Box<serde_json::value::RawValue>;

/// The handshake the server sends first (`0{...}`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OpenInfo {
    pub sid: String,
    #[serde(default)]
    pub upgrades: Vec<String>,
    pub ping_interval: u64,
    pub ping_timeout: u64,
    #[serde(default)]
    pub max_payload: u64,
}

/// One Engine.IO frame.
#[derive(Debug, Clone, PartialEq)]
pub enum EnginePacket<'a> {
    Open(OpenInfo),
    Close,
    Ping(&'a str),
    Pong(&'a str),
    /// The payload of a `4` frame: a Socket.IO packet.
    Message(&'a str),
    Upgrade,
    Noop,
}

/// One Socket.IO packet on namespace `/`, its payload read as `D`.
#[derive(Debug, Clone, PartialEq)]
pub enum SocketPacket<D = Value> {
    /// Server → client: the namespace accepted us (carries `{sid}`).
    Connect(D),
    Disconnect,
    /// An event: name, first argument (`null` when none), optional ack id.
    Event {
        name: String,
        data: D,
        ack: Option<u64>,
    },
    /// The reply to an event we sent with an ack id: first argument.
    Ack {
        id: u64,
        data: D,
    },
    /// The namespace refused us (carries `{message}`).
    ConnectError(D),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("empty frame")]
    Empty,
    #[error("unknown packet type {0:?}")]
    UnknownType(char),
    #[error("packet for another namespace")]
    OtherNamespace,
    #[error("binary packets are not supported")]
    Binary,
    #[error("malformed packet: {0}")]
    Malformed(String),
}

/// Splits an Engine.IO text frame.
pub fn decode_engine(frame: &str) -> Result<EnginePacket<'_>, DecodeError> {
    let mut chars = frame.chars();
    let kind = chars.next().ok_or(DecodeError::Empty)?;
    let rest = chars.as_str();
    Ok(match kind {
        '0' => EnginePacket::Open(serde_json::from_str(rest).map_err(|e| DecodeError::Malformed(e.to_string()))?),
        '1' => EnginePacket::Close,
        '2' => EnginePacket::Ping(rest),
        '3' => EnginePacket::Pong(rest),
        '4' => EnginePacket::Message(rest),
        '5' => EnginePacket::Upgrade,
        '6' => EnginePacket::Noop,
        other => return Err(DecodeError::UnknownType(other)),
    })
}

/// Decodes the Socket.IO packet inside an Engine.IO `4` frame.
pub fn decode_socket<D: DeserializeOwned>(payload: &str) -> Result<SocketPacket<D>, DecodeError> {
    let mut chars = payload.chars();
    let kind = chars.next().ok_or(DecodeError::Empty)?;
    let mut rest = chars.as_str();
    if matches!(kind, '5' | '6') {
        return Err(DecodeError::Binary);
    }
    if let Some(after_slash) = rest.strip_prefix('/') {
        // An explicit namespace: only "/" is ours.
        let (nsp, tail) = after_slash.split_once(',').unwrap_or((after_slash, ""));
        if !nsp.is_empty() {
            return Err(DecodeError::OtherNamespace);
        }
        rest = tail;
    }
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let id = if digits > 0 {
        Some(rest[..digits].parse::<u64>().map_err(|e| DecodeError::Malformed(e.to_string()))?)
    } else {
        None
    };
    let json = &rest[digits..];
    match kind {
        '0' => Ok(SocketPacket::Connect(parse(json)?)),
        '1' => Ok(SocketPacket::Disconnect),
        '2' => {
            let EventArgs { name, data } = parse(json)?;
            Ok(SocketPacket::Event { name, data, ack: id })
        }
        '3' => {
            let id = id.ok_or_else(|| DecodeError::Malformed("ack without id".into()))?;
            let AckArgs(data) = parse(json)?;
            Ok(SocketPacket::Ack { id, data })
        }
        '4' => Ok(SocketPacket::ConnectError(parse(json)?)),
        other => Err(DecodeError::UnknownType(other)),
    }
}

/// A packet's JSON; nothing at all reads as `null`.
fn parse<T: DeserializeOwned>(json: &str) -> Result<T, DecodeError> {
    serde_json::from_str(if json.is_empty() { "null" } else { json }).map_err(|e| DecodeError::Malformed(e.to_string()))
}

/// `["name", data, ...]`: the name and the first argument (`null` when
/// there is none); further arguments are not part of RTCA's protocol.
struct EventArgs<D> {
    name: String,
    data: D,
}

/// `[data, ...]`: an ack's first argument (`null` when there is none).
struct AckArgs<D>(D);

impl<'de, D: DeserializeOwned> Deserialize<'de> for EventArgs<D> {
    fn deserialize<De: Deserializer<'de>>(deserializer: De) -> Result<Self, De::Error> {
        deserializer
            .deserialize_seq(ArgsVisitor::<D>(PhantomData, true))
            .map(|(name, data)| EventArgs { name: name.unwrap_or_default(), data })
    }
}

impl<'de, D: DeserializeOwned> Deserialize<'de> for AckArgs<D> {
    fn deserialize<De: Deserializer<'de>>(deserializer: De) -> Result<Self, De::Error> {
        deserializer.deserialize_seq(ArgsVisitor::<D>(PhantomData, false)).map(|(_, data)| AckArgs(data))
    }
}

/// Reads an argument array: a leading event name when `named`, then the
/// first argument, skipping the rest.
struct ArgsVisitor<D>(PhantomData<D>, bool);

impl<'de, D: DeserializeOwned> Visitor<'de> for ArgsVisitor<D> {
    type Value = (Option<String>, D);

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(if self.1 { "an event: [name, data]" } else { "an ack: [data]" })
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let name = if self.1 {
            Some(seq.next_element::<String>()?.ok_or_else(|| A::Error::custom("event has no name"))?)
        } else {
            None
        };
        let data = match seq.next_element::<D>()? {
            Some(data) => data,
            None => serde_json::from_str("null").map_err(A::Error::custom)?,
        };
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok((name, data))
    }
}

/// `40` or `40{auth}`: join namespace `/`. Serialising fails only for a
/// payload JSON cannot hold (a map with non-string keys).
pub fn encode_connect<D: Serialize + ?Sized>(auth: Option<&D>) -> serde_json::Result<String> {
    Ok(match auth {
        Some(auth) => format!("40{}", serde_json::to_string(auth)?),
        None => "40".to_owned(),
    })
}

/// `42["name",data]` or, asking for an ack, `42<id>["name",data]`. The
/// browser passes its payload as raw JSON text, so the bundle carries no
/// `Value`.
pub fn encode_event<D: Serialize + ?Sized>(name: &str, data: &D, ack: Option<u64>) -> serde_json::Result<String> {
    let args = serde_json::to_string(&(name, data))?;
    Ok(match ack {
        Some(id) => format!("42{id}{args}"),
        None => format!("42{args}"),
    })
}

/// `43<id>[data]`: answer an event the server sent with an ack id.
pub fn encode_ack<D: Serialize + ?Sized>(id: u64, data: &D) -> serde_json::Result<String> {
    Ok(format!("43{id}{}", serde_json::to_string(&[data])?))
}

/// The Engine.IO pong that answers a ping.
pub const PONG: &str = "3";

/// Splits a long-polling response body into frames (record separator 0x1e).
pub fn split_polling_payload(body: &str) -> impl Iterator<Item = &str> {
    body.split('\u{1e}').filter(|frame| !frame.is_empty())
}

/// What must hold for any input at all; the fuzz target (`fuzz/`) and the
/// stable test below both run it.
#[cfg(any(test, fuzzing))]
pub mod fuzz_checks {
    use super::*;

    /// Equal, except that floats may differ in the last bits: serde_json's
    /// default float parsing is fast rather than correctly rounded (the
    /// fuzzer found a 128-digit number that moves by one ulp), and no float
    /// in RTCA's protocol carries meaning at that precision.
    fn same(a: &Value, b: &Value) -> bool {
        match (a, b) {
            (Value::Number(x), Value::Number(y)) if x.is_f64() || y.is_f64() => {
                let (x, y) = (x.as_f64().unwrap_or(f64::NAN), y.as_f64().unwrap_or(f64::NAN));
                x == y || ((x - y) / x.abs().max(y.abs())).abs() < 1e-12
            }
            (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y)),
            (Value::Object(x), Value::Object(y)) => {
                x.len() == y.len() && x.iter().all(|(key, x)| y.get(key).is_some_and(|y| same(x, y)))
            }
            _ => a == b,
        }
    }

    /// Decoding never panics, what decodes re-encodes to the same thing,
    /// and the browser's raw decoding accepts whatever `Value` does, with the
    /// same name, ack id and payload.
    pub fn check(frame: &str) {
        for part in split_polling_payload(frame) {
            assert!(!part.is_empty() && !part.contains('\u{1e}'), "a polling frame kept a separator");
        }
        let Ok(EnginePacket::Message(payload)) = decode_engine(frame) else { return };
        let as_value = decode_socket::<Value>(payload);
        if let Ok(packet) = &as_value {
            let raw = decode_socket::<RawPayload>(payload);
            let reparse = |raw: &RawPayload| serde_json::from_str::<Value>(raw.get()).ok();
            let agrees = match (packet, &raw) {
                (SocketPacket::Event { name, data, ack }, Ok(SocketPacket::Event { name: n, data: d, ack: a })) => {
                    name == n && ack == a && reparse(d).is_some_and(|d| same(&d, data))
                }
                (SocketPacket::Ack { id, data }, Ok(SocketPacket::Ack { id: i, data: d })) => {
                    id == i && reparse(d).is_some_and(|d| same(&d, data))
                }
                (SocketPacket::Connect(data), Ok(SocketPacket::Connect(d)))
                | (SocketPacket::ConnectError(data), Ok(SocketPacket::ConnectError(d))) => {
                    reparse(d).is_some_and(|d| same(&d, data))
                }
                (SocketPacket::Disconnect, Ok(SocketPacket::Disconnect)) => true,
                _ => false,
            };
            assert!(agrees, "{payload:?}: {packet:?} as Value, {raw:?} raw");
        }
        match as_value {
            Ok(SocketPacket::Event { name, data, ack }) => {
                let Ok(again) = encode_event(&name, &data, ack) else {
                    panic!("{payload:?} decoded but does not encode")
                };
                let Ok(EnginePacket::Message(payload)) = decode_engine(&again) else { panic!("{again:?}") };
                match decode_socket(payload) {
                    Ok(SocketPacket::Event { name: n, data: d, ack: a }) => {
                        assert!(n == name && a == ack && same(&d, &data), "{again:?}")
                    }
                    other => panic!("{again:?} decoded as {other:?}"),
                }
            }
            Ok(SocketPacket::Ack { id, data }) => {
                let Ok(again) = encode_ack(id, &data) else { panic!("{payload:?} decoded but does not encode") };
                let Ok(EnginePacket::Message(payload)) = decode_engine(&again) else { panic!("{again:?}") };
                match decode_socket(payload) {
                    Ok(SocketPacket::Ack { id: i, data: d }) => assert!(i == id && same(&d, &data), "{again:?}"),
                    other => panic!("{again:?} decoded as {other:?}"),
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn decodes_the_open_handshake() {
        let frame = r#"0{"sid":"abc","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#;
        let EnginePacket::Open(info) = decode_engine(frame).unwrap() else { panic!("not open") };
        assert_eq!(info.sid, "abc");
        assert_eq!(info.ping_interval, 25000);
    }

    #[test]
    fn decodes_events_with_and_without_ack_ids() {
        assert_eq!(
            decode_socket(r#"2["message",{"text":"hi"}]"#).unwrap(),
            SocketPacket::Event { name: "message".into(), data: json!({"text":"hi"}), ack: None }
        );
        assert_eq!(
            decode_socket(r#"217["ping"]"#).unwrap(),
            SocketPacket::Event { name: "ping".into(), data: Value::Null, ack: Some(17) }
        );
        assert_eq!(
            decode_socket(r#"2/,["x",1]"#).unwrap(),
            SocketPacket::Event { name: "x".into(), data: json!(1), ack: None }
        );
    }

    #[test]
    fn raw_payloads_keep_the_first_argument_as_sent() {
        let raw = |payload: &str| match decode_socket::<RawPayload>(payload).unwrap() {
            SocketPacket::Event { name, data, ack } => (name, data.get().to_owned(), ack),
            SocketPacket::Ack { id, data } => ("ack".to_owned(), data.get().to_owned(), Some(id)),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            raw(r#"2["message",{"text":"hi", "n":1}]"#),
            ("message".into(), r#"{"text":"hi", "n":1}"#.into(), None)
        );
        // No argument reads as null; arguments after the first are skipped.
        assert_eq!(raw(r#"27["ping"]"#), ("ping".into(), "null".into(), Some(7)));
        assert_eq!(raw(r#"2["x",[1,2],{"more":true},3]"#), ("x".into(), "[1,2]".into(), None));
        assert_eq!(raw(r#"34[{"ok":true},"extra"]"#), ("ack".into(), r#"{"ok":true}"#.into(), Some(4)));
        assert_eq!(raw("34[]"), ("ack".into(), "null".into(), Some(4)));
    }

    #[test]
    fn decodes_acks_connects_and_errors() {
        assert_eq!(
            decode_socket(r#"312[{"ok":true}]"#).unwrap(),
            SocketPacket::Ack { id: 12, data: json!({"ok":true}) }
        );
        assert_eq!(decode_socket(r#"0{"sid":"s"}"#).unwrap(), SocketPacket::Connect(json!({"sid":"s"})));
        assert_eq!(decode_socket(r#"4{"message":"no"}"#).unwrap(), SocketPacket::ConnectError(json!({"message":"no"})));
    }

    #[test]
    fn rejects_garbage_without_panicking() {
        for bad in [
            "",
            "9",
            "2",
            "2{}",
            "2[]",
            "2[1]",
            "3[1]",
            "2[\"a\"",
            "2/admin,[\"x\"]",
            "51-[\"x\",{}]",
            "299999999999999999999999[\"x\"]",
        ] {
            assert!(decode_socket::<Value>(bad).is_err(), "{bad:?} should not decode");
            assert!(decode_socket::<RawPayload>(bad).is_err(), "{bad:?} should not decode raw");
        }
        assert!(decode_engine("").is_err());
        assert!(decode_engine("0{").is_err());
        assert!(decode_engine("x").is_err());
    }

    #[test]
    fn encodes_round_trip() {
        let frame = encode_event("message", &json!({"text":"hé"}), Some(3)).unwrap();
        assert_eq!(frame, r#"423["message",{"text":"hé"}]"#);
        let EnginePacket::Message(payload) = decode_engine(&frame).unwrap() else { panic!() };
        assert_eq!(
            decode_socket(payload).unwrap(),
            SocketPacket::Event { name: "message".into(), data: json!({"text":"hé"}), ack: Some(3) }
        );
        assert_eq!(encode_connect(Some(&json!({"token":"t"}))).unwrap(), r#"40{"token":"t"}"#);
        assert_eq!(encode_connect::<Value>(None).unwrap(), "40");
        assert_eq!(encode_ack(5, &json!(null)).unwrap(), "435[null]");
        // The browser's way: the payload as raw JSON text, written as is.
        let raw: RawPayload = serde_json::from_str(r#"{"room":"lobby", "text":"x"}"#).unwrap();
        assert_eq!(encode_event("message", &*raw, Some(4)).unwrap(), r#"424["message",{"room":"lobby", "text":"x"}]"#);
    }

    /// The fuzz target's invariants on stable: every corpus seed, then
    /// 200 000 random mutations of them (byte flips, inserts, cuts, splices).
    #[test]
    fn fuzz_corpus_and_mutations_never_panic() {
        let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/engine_io");
        let seeds: Vec<Vec<u8>> =
            std::fs::read_dir(&corpus).unwrap().map(|entry| std::fs::read(entry.unwrap().path()).unwrap()).collect();
        assert!(seeds.len() >= 5, "the corpus is missing");
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut random = move |below: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % below.max(1) as u64) as usize
        };
        const INTERESTING: &[u8] = b"0123456789[]{}\",:\"/\x1e-";
        let mut checked = 0;
        for seed in &seeds {
            fuzz_checks::check(&String::from_utf8_lossy(seed));
        }
        for _ in 0..200_000 {
            let mut input = seeds[random(seeds.len())].clone();
            for _ in 0..=random(4) {
                let at = random(input.len() + 1);
                match random(5) {
                    0 if at < input.len() => input[at] = INTERESTING[random(INTERESTING.len())],
                    1 => input.insert(at, INTERESTING[random(INTERESTING.len())]),
                    2 => input.truncate(at),
                    3 if at < input.len() => drop(input.remove(at)),
                    _ => {
                        let other = &seeds[random(seeds.len())];
                        let from = random(other.len());
                        input.splice(at..at, other[from..].iter().copied());
                    }
                }
            }
            if let Ok(text) = std::str::from_utf8(&input) {
                fuzz_checks::check(text);
                checked += 1;
            }
        }
        assert!(checked > 100_000, "only {checked} mutations were text");
    }

    #[test]
    fn splits_polling_payloads() {
        let frames: Vec<_> = split_polling_payload("2\u{1e}42[\"a\"]\u{1e}").collect();
        assert_eq!(frames, vec!["2", "42[\"a\"]"]);
    }
}
