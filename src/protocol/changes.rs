//! Messages that change after they are sent: edited by their author,
//! deleted (a tombstone stays in their place), and reacted to with emoji.
//!
//! Every change takes the next number of its conversation's change counter
//! (`change`, from 1, without gaps, next to `seq`), and a message carries
//! the number of its latest change ([`Revision::change`]). A client keeps
//! the newest number it has seen per conversation: a live change that
//! skips one says it missed some, and after a reconnect `changes {after}`
//! brings the current state of every message changed since, exactly as
//! `history {after}` brings the messages sent since.

use serde::{Deserialize, Serialize};

use super::{is_invisible_format, UserId};
use crate::error::ChatError;

/// The most different emoji one message can carry.
pub const MAX_REACTIONS: usize = 20;
/// Longest reaction, in characters (a flag or a family is several) and
/// in bytes.
pub const MAX_EMOJI_CHARS: usize = 12;
pub const MAX_EMOJI_BYTES: usize = 48;
/// The reactions offered with one click.
pub const QUICK_REACTIONS: [&str; 6] = ["👍", "❤️", "😂", "🎉", "😮", "😢"];
/// The most changed messages one `changes` reply holds.
pub const MAX_CHANGES_PAGE: usize = 500;

/// The longest quote of the original a reply shows, in characters.
pub const MAX_QUOTE_CHARS: usize = 200;

/// What a reply shows of the message it answers: enough to recognise it,
/// and where to find it (`id`, `seq`). Read as the original stands now.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Quote {
    pub id: i64,
    pub seq: i64,
    pub from: super::User,
    /// Its first [`MAX_QUOTE_CHARS`] characters.
    pub text: String,
    /// The original was deleted: there is nothing left to quote.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deleted: bool,
    /// The original carries a file.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub media: bool,
}

/// What has happened to a message since it was sent. Empty for one that
/// never changed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Revision {
    /// When its text was last edited.
    pub edited_at: Option<i64>,
    /// Deleted: its text is empty and it carries no file.
    pub deleted: bool,
    /// Each emoji once, in the order first used, with who chose it.
    pub reactions: Vec<Reaction>,
    /// The conversation's change number of its latest change (0: none).
    pub change: i64,
    /// On a thread's root: how many replies it has, and when the last came.
    pub thread: Option<ThreadSummary>,
}

/// A thread's root's summary.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct ThreadSummary {
    pub replies: u32,
    pub last_at: i64,
}

/// Where a message sits in a thread, if it is a reply in one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct InThread {
    /// The thread's root.
    pub root: i64,
    /// Sent to the conversation as well: shown there too.
    pub in_conversation: bool,
}

/// Who reacted with an emoji is listed up to this many, first first;
/// [`Reaction::count`] says how many did. A message in a big room can
/// gather thousands, and every change sends the message whole to everyone.
pub const MAX_LISTED_REACTORS: usize = 50;

/// One emoji on a message, and who reacted with it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Reaction {
    pub emoji: String,
    /// Who chose it, first first: at most [`MAX_LISTED_REACTORS`].
    pub users: Vec<UserId>,
    /// How many chose it.
    pub count: usize,
}

/// `edit {id, text}`: new text for a message of mine.
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct EditRequest {
    pub id: i64,
    pub text: String,
}

/// `delete {id}`: one of my messages, for everyone.
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct DeleteRequest {
    pub id: i64,
}

/// `react {id, emoji}`: adds my reaction, or takes it back if I had it.
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct ReactRequest {
    pub id: i64,
    pub emoji: String,
}

/// Ack body of `edit`, `delete` and `react`: the message and its change
/// number (the live `message_changed` or `secret_changed` carries the rest).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ChangeAck {
    pub id: i64,
    pub change: i64,
}

/// `changes {room?, with?, after}`: the messages of a conversation whose
/// latest change is numbered after `after`, in their current state, by
/// change number. The reply is a history page (`more`: ask again after
/// the last one's `change`).
#[derive(Serialize, Deserialize, Clone, Debug, Default)]
pub struct ChangesRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub with: Option<UserId>,
    pub after: i64,
}

/// Checks a reaction: a short run of printable characters, no spaces and
/// nothing a page could read as markup. Returns it trimmed.
pub fn validate_emoji(emoji: &str) -> Result<&str, ChatError> {
    let emoji = emoji.trim();
    let refused = || {
        ChatError::InvalidPayload(format!(
            "a reaction is one emoji, or up to {MAX_EMOJI_CHARS} characters without spaces or markup"
        ))
    };
    let chars = emoji.chars().count();
    if chars == 0 || chars > MAX_EMOJI_CHARS || emoji.len() > MAX_EMOJI_BYTES {
        return Err(refused());
    }
    // The zero-width joiner holds family and profession emoji together.
    let bad = |c: char| {
        c.is_whitespace()
            || c.is_control()
            || matches!(c, '<' | '>' | '&' | '"' | '\'' | '`')
            || (is_invisible_format(c) && c != '\u{200D}')
    };
    if emoji.chars().any(bad) {
        return Err(refused());
    }
    Ok(emoji)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reactions_are_short_and_plain() {
        for good in ["👍", "❤️", "👨‍👩‍👧", "🇫🇷", "+1", ":shipit:"] {
            assert_eq!(validate_emoji(good).ok(), Some(good), "{good}");
        }
        assert_eq!(validate_emoji(" 🎉 ").ok(), Some("🎉"));
        for bad in ["", " ", "a b", "<b>", "x\u{202E}", "\u{7}", "abcdefghijklm", "&amp;"] {
            assert!(validate_emoji(bad).is_err(), "{bad:?}");
        }
    }
}
