//! Acks on the wire: every one is `{ok: true, ...body}` or
//! `{ok: false, error: {code, message}}`. The server builds them from a
//! `Result` ([`Reply`]); clients read them back, the head (`ok`, `error`)
//! apart from the body, so one retry loop can judge any ack without knowing
//! its body's type.

use serde::{Deserialize, Serialize};

use crate::error::{code, ApiError, ChatError};

/// The wire form of every ack: `{ok:true, ...body}` or
/// `{ok:false, error:{code,message}}`.
#[derive(Serialize, Debug)]
pub struct Reply<T> {
    pub ok: bool,
    #[serde(flatten)]
    pub body: Option<T>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ApiError>,
}

impl<T> From<Result<T, ChatError>> for Reply<T> {
    fn from(result: Result<T, ChatError>) -> Self {
        match result {
            Ok(body) => Reply { ok: true, body: Some(body), error: None },
            Err(error) => Reply { ok: false, body: None, error: Some(error.into()) },
        }
    }
}

/// Reads an ack, the JSON text the server sent, back into a `Result`.
pub fn parse_reply<T: serde::de::DeserializeOwned>(json: &str) -> Result<T, ApiError> {
    check_reply(json)?;
    read_reply_body(json)
}

/// Reads the body of an ack whose head [`check_reply`] has accepted.
pub fn read_reply_body<T: serde::de::DeserializeOwned>(json: &str) -> Result<T, ApiError> {
    serde_json::from_str(json).map_err(unreadable_reply)
}

/// Reads only an ack's head: `Ok` for `{ok:true}`, else the error it carries.
pub fn check_reply(json: &str) -> Result<(), ApiError> {
    #[derive(Deserialize)]
    struct Head {
        ok: bool,
        #[serde(default)]
        error: Option<ApiError>,
    }
    let head: Head = serde_json::from_str(json).map_err(unreadable_reply)?;
    if head.ok {
        Ok(())
    } else {
        Err(head.error.unwrap_or_else(|| ApiError::new(code::BAD_REPLY, "the server refused without saying why")))
    }
}

fn unreadable_reply(error: serde_json::Error) -> ApiError {
    ApiError::new(code::BAD_REPLY, format!("unreadable server reply: {error}"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::error::InvalidInput;
    use crate::protocol::MessageAck;

    #[test]
    fn ok_reply_flattens_the_body() {
        let reply: Reply<MessageAck> = Ok(MessageAck { id: 1, seq: 2, at: 3 }).into();
        let json = serde_json::to_value(&reply).unwrap();
        assert_eq!(json, serde_json::json!({"ok": true, "id": 1, "seq": 2, "at": 3}));
        assert_eq!(parse_reply::<MessageAck>(&json.to_string()).unwrap(), MessageAck { id: 1, seq: 2, at: 3 });
        // A reply with nothing to say is just `ok`.
        let done = serde_json::to_value(Reply::<()>::from(Ok(()))).unwrap();
        assert_eq!(done, serde_json::json!({"ok": true}));
        assert!(parse_reply::<serde::de::IgnoredAny>(&done.to_string()).is_ok());
    }

    #[test]
    fn error_reply_carries_code_and_message() {
        let reply: Reply<MessageAck> = Err(ChatError::from(InvalidInput::EmptyText)).into();
        let json = serde_json::to_value(&reply).unwrap();
        assert_eq!(json["ok"], false);
        assert_eq!(json["error"]["code"], "empty_text");
        assert!(json["error"]["message"].as_str().unwrap().len() > 5);
        assert_eq!(parse_reply::<MessageAck>(&json.to_string()).unwrap_err().code, "empty_text");
    }

    #[test]
    fn a_reply_head_is_read_apart_from_its_body() {
        // Accepted, whatever the body: the caller that needs it reads it.
        assert!(check_reply(r#"{"ok":true,"seq":"not a number"}"#).is_ok());
        assert_eq!(parse_reply::<MessageAck>(r#"{"ok":true,"seq":"x"}"#).unwrap_err().code, "bad_reply");
        let refused = check_reply(r#"{"ok":false,"error":{"code":"rate_limited","message":"slow down"}}"#);
        assert_eq!(refused.unwrap_err(), ApiError::new(code::RATE_LIMITED, "slow down"));
        assert_eq!(check_reply(r#"{"ok":false}"#).unwrap_err().code, "bad_reply");
        assert_eq!(check_reply("{}").unwrap_err().code, "bad_reply");
        assert_eq!(check_reply("not json").unwrap_err().code, "bad_reply");
    }
}
