//! Every Socket.IO room name the server uses, in one place. Sockets join
//! these to be reachable: delivery sends to a room, never to a list of
//! sockets it keeps itself.
//!
//! The rule that keeps them apart: every internal name contains a `:`,
//! and a chat room's name never does (`protocol::validate_room_name`
//! allows only `a-z`, `0-9`, `-` and `_`). So a chat room, whose Socket.IO
//! room is its own name, can never be mistaken for one of these.

use crate::protocol::UserId;

/// Every socket of one user: private messages, invitations, membership
/// changes reach all of their tabs through it.
pub fn user(id: UserId) -> String {
    format!("user:{id}")
}

/// Every socket opened with one session token, so that signing out closes
/// them. Named by the token's hash, never the token.
pub fn session(token_hash: &[u8; 32]) -> String {
    format!("session:{}", hex::encode(&token_hash[..16]))
}

/// A chat room's members' sockets: the room's own name (see the rule
/// above).
pub fn chat_room(name: &str) -> String {
    name.to_owned()
}

/// Sockets that take batched `presence_changes`.
pub const PRESENCE_BATCHED: &str = "presence:batched";
/// Sockets that take one `online`/`offline` event per change.
pub const PRESENCE_EACH: &str = "presence:each";
/// Sockets waiting for their `presence` list, in one of two rooms used in
/// turn by the presence feed's flushes.
pub const PRESENCE_WELCOME: [&str; 2] = ["presence:welcome:0", "presence:welcome:1"];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::validate_room_name;

    #[test]
    fn no_chat_room_can_take_an_internal_name() {
        let internal =
            [user(7), session(&[0xab; 32]), PRESENCE_BATCHED.into(), PRESENCE_EACH.into(), PRESENCE_WELCOME[1].into()];
        for name in internal {
            assert!(name.contains(':'), "{name} breaks the rule");
            assert!(validate_room_name(&name).is_err(), "a room could be called {name}");
        }
        assert_eq!(session(&[0xab; 32]), format!("session:{}", "ab".repeat(16)));
    }
}
