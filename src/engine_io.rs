//! Engine.IO v4 / Socket.IO v5 text framing, as pure functions.
//!
//! The browser client speaks the protocol itself (no Rust Socket.IO client
//! runs in WASM), and the integration tests, the load generator and the fuzz
//! targets reuse the same codec. Only what RTCA needs is covered: text
//! packets on the default namespace `/`. Binary attachments are recognised
//! and reported as unsupported rather than misread.
//!
//! An Engine.IO text frame is one type digit and a payload:
//! `0` open, `1` close, `2` ping, `3` pong, `4` message, `5` upgrade, `6` noop.
//! A Socket.IO packet rides in a `4` frame: a type digit, an optional
//! `/nsp,` prefix, an optional ack id, then JSON:
//! `0` connect, `1` disconnect, `2` event, `3` ack, `4` connect error.

use serde::Deserialize;
use serde_json::Value;

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

/// One Socket.IO packet on namespace `/`.
#[derive(Debug, Clone, PartialEq)]
pub enum SocketPacket {
    /// Server → client: the namespace accepted us (carries `{sid}`).
    Connect(Value),
    Disconnect,
    /// An event: name, first argument (`null` when none), optional ack id.
    Event {
        name: String,
        data: Value,
        ack: Option<u64>,
    },
    /// The reply to an event we sent with an ack id: first argument.
    Ack {
        id: u64,
        data: Value,
    },
    /// The namespace refused us (carries `{message}`).
    ConnectError(Value),
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
pub fn decode_socket(payload: &str) -> Result<SocketPacket, DecodeError> {
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
    let value = || -> Result<Value, DecodeError> {
        if json.is_empty() {
            Ok(Value::Null)
        } else {
            serde_json::from_str(json).map_err(|e| DecodeError::Malformed(e.to_string()))
        }
    };
    match kind {
        '0' => Ok(SocketPacket::Connect(value()?)),
        '1' => Ok(SocketPacket::Disconnect),
        '2' => {
            let Value::Array(mut args) = value()? else {
                return Err(DecodeError::Malformed("event is not an array".into()));
            };
            if args.is_empty() {
                return Err(DecodeError::Malformed("event has no name".into()));
            }
            let Value::String(name) = args.remove(0) else {
                return Err(DecodeError::Malformed("event name is not a string".into()));
            };
            let data = args.into_iter().next().unwrap_or(Value::Null);
            Ok(SocketPacket::Event { name, data, ack: id })
        }
        '3' => {
            let id = id.ok_or_else(|| DecodeError::Malformed("ack without id".into()))?;
            let Value::Array(args) = value()? else {
                return Err(DecodeError::Malformed("ack is not an array".into()));
            };
            Ok(SocketPacket::Ack { id, data: args.into_iter().next().unwrap_or(Value::Null) })
        }
        '4' => Ok(SocketPacket::ConnectError(value()?)),
        other => Err(DecodeError::UnknownType(other)),
    }
}

/// `40` or `40{auth}`: join namespace `/`.
pub fn encode_connect(auth: Option<&Value>) -> String {
    match auth {
        Some(auth) => format!("40{auth}"),
        None => "40".to_owned(),
    }
}

/// `42["name",data]` or, asking for an ack, `42<id>["name",data]`.
pub fn encode_event(name: &str, data: &Value, ack: Option<u64>) -> String {
    let args = Value::Array(vec![Value::String(name.to_owned()), data.clone()]);
    match ack {
        Some(id) => format!("42{id}{args}"),
        None => format!("42{args}"),
    }
}

/// `43<id>[data]`: answer an event the server sent with an ack id.
pub fn encode_ack(id: u64, data: &Value) -> String {
    format!("43{id}{}", Value::Array(vec![data.clone()]))
}

/// The Engine.IO pong that answers a ping.
pub const PONG: &str = "3";

/// Splits a long-polling response body into frames (record separator 0x1e).
pub fn split_polling_payload(body: &str) -> impl Iterator<Item = &str> {
    body.split('\u{1e}').filter(|frame| !frame.is_empty())
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
            assert!(decode_socket(bad).is_err(), "{bad:?} should not decode");
        }
        assert!(decode_engine("").is_err());
        assert!(decode_engine("0{").is_err());
        assert!(decode_engine("x").is_err());
    }

    #[test]
    fn encodes_round_trip() {
        let frame = encode_event("message", &json!({"text":"hé"}), Some(3));
        assert_eq!(frame, r#"423["message",{"text":"hé"}]"#);
        let EnginePacket::Message(payload) = decode_engine(&frame).unwrap() else { panic!() };
        assert_eq!(
            decode_socket(payload).unwrap(),
            SocketPacket::Event { name: "message".into(), data: json!({"text":"hé"}), ack: Some(3) }
        );
        assert_eq!(encode_connect(Some(&json!({"token":"t"}))), r#"40{"token":"t"}"#);
        assert_eq!(encode_ack(5, &json!(null)), "435[null]");
    }

    #[test]
    fn splits_polling_payloads() {
        let frames: Vec<_> = split_polling_payload("2\u{1e}42[\"a\"]\u{1e}").collect();
        assert_eq!(frames, vec!["2", "42[\"a\"]"]);
    }
}
