//! Reading a conversation back, a page at a time, by `seq` cursor: how a
//! client scrolls up (`before`), resumes after a reconnect (`after`), or
//! opens a conversation (neither: the latest page); and the messages
//! changed since a change number ([`changed`]), how a client catches up
//! with edits, deletions and reactions. Whether the reader may read it is
//! `access`'s to say, before this is asked.
//!
//! Every read is bounded twice: a page holds at most `history_reply_bytes`
//! of JSON (500 long messages of control characters would be 12 MB), and
//! what a reader's address, and everyone together, may read is a budget
//! in bytes (`Limits::may_read`), anonymous readers included.

use std::net::IpAddr;

use crate::error::ChatError;
use crate::protocol::{ConversationId, Message};
use crate::server::state::AppState;
use crate::server::store::Cursor;

/// What a message's wire shape adds beyond its strings: the keys, ids,
/// numbers and punctuation (`{"id":…,"seq":…,"room":"","from":{…},…}`,
/// an edit's time, a change number, a thread's fields),
/// rounded up.
const MESSAGE_FRAME_BYTES: usize = 384;

/// A page of a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// Oldest first (by `seq`; by change number for [`changed`]).
    pub messages: Vec<Message>,
    /// There are others beyond them in the direction asked.
    pub more: bool,
    /// The conversation's change number, read before the messages: they
    /// show every change up to it.
    pub changes: i64,
}

/// Up to `limit` messages of `conversation`, oldest first: next to the
/// cursor, or the newest with none, and no more than the reply's byte
/// limit. `reader`: the address the read comes from, for its budget
/// (`None`: from inside the server).
pub async fn page(
    state: &AppState,
    reader: Option<IpAddr>,
    conversation: &ConversationId,
    cursor: Option<Cursor>,
    limit: usize,
) -> Result<Page, ChatError> {
    state.limits.may_read(reader)?;
    // First: a change committed between the two reads is then one the
    // reader asks for again, never one it believes it has.
    let changes = state.store.last_change(conversation).await?;
    // One more than asked says whether there is more.
    let mut rows = match cursor {
        Some(cursor) => state.store.page(conversation, cursor, limit + 1).await?,
        None => state.store.recent(conversation, limit + 1).await?,
    };
    // Nearest the cursor first (the newest first, with none or `before`).
    let newest_first = !matches!(cursor, Some(Cursor::After(_)));
    if newest_first {
        rows.reverse();
    }
    let (kept, bytes) = within(&rows, limit, state.config.history_reply_bytes);
    let more = rows.len() > kept;
    rows.truncate(kept);
    if newest_first {
        rows.reverse();
    }
    state.limits.charge_read(reader, bytes);
    Ok(Page { messages: rows, more, changes })
}

/// Up to `limit` replies in the thread of `root`, a message of
/// `conversation`, after `after`, oldest first, bounded as pages are.
pub async fn thread(
    state: &AppState,
    reader: Option<IpAddr>,
    conversation: &ConversationId,
    root: i64,
    after: i64,
    limit: usize,
) -> Result<Page, ChatError> {
    state.limits.may_read(reader)?;
    let changes = state.store.last_change(conversation).await?;
    let rows = state.store.thread_replies(conversation, root, after, limit + 1).await?;
    Ok(forward(state, reader, rows, limit, changes))
}

/// Up to `limit` messages of `conversation` changed after the change
/// number `after`, in their current state, by change number, within the
/// reply's byte limit and the reader's budget as pages are.
pub async fn changed(
    state: &AppState,
    reader: Option<IpAddr>,
    conversation: &ConversationId,
    after: i64,
    limit: usize,
) -> Result<Page, ChatError> {
    state.limits.may_read(reader)?;
    let changes = state.store.last_change(conversation).await?;
    let rows = state.store.changed_since(conversation, after, limit + 1).await?;
    Ok(forward(state, reader, rows, limit, changes))
}

/// The page of `rows`, read forward and one more than `limit`: what fits
/// in `limit` and the reply's bytes, charged to `reader`.
fn forward(state: &AppState, reader: Option<IpAddr>, mut rows: Vec<Message>, limit: usize, changes: i64) -> Page {
    let (kept, bytes) = within(&rows, limit, state.config.history_reply_bytes);
    let more = rows.len() > kept;
    rows.truncate(kept);
    state.limits.charge_read(reader, bytes);
    Page { messages: rows, more, changes }
}

/// How many of `rows` (nearest the cursor first) fit in `limit` messages
/// and `max_bytes` of JSON, and their size. The first always fits, so
/// paging always moves on.
fn within(rows: &[Message], limit: usize, max_bytes: usize) -> (usize, usize) {
    let mut bytes = 0;
    for (n, message) in rows.iter().take(limit).enumerate() {
        let size = wire_bytes(message);
        if n > 0 && bytes + size > max_bytes {
            return (n, bytes);
        }
        bytes += size;
    }
    (rows.len().min(limit), bytes)
}

/// A message's size as JSON, never under the real one.
fn wire_bytes(message: &Message) -> usize {
    let mut size = MESSAGE_FRAME_BYTES
        + json_len(&message.text)
        + json_len(&message.from.name)
        + message.to.as_ref().map_or(0, |to| json_len(&to.name))
        + message.cid.as_deref().map_or(0, json_len)
        + message.conversation.room_name().map_or(0, json_len);
    if let Some(media) = &message.media {
        size += MESSAGE_FRAME_BYTES + json_len(&media.id) + json_len(&media.name) + json_len(&media.mime);
    }
    if let Some(quote) = &message.reply_to {
        size += MESSAGE_FRAME_BYTES + json_len(&quote.from.name) + json_len(&quote.text);
    }
    // `{"emoji":"…","users":[…],"count":…}`: an id or the count is at
    // most 20 digits and a comma.
    for reaction in &message.revision.reactions {
        size += 42 + json_len(&reaction.emoji) + 21 * reaction.users.len();
    }
    // `,"mentions":[…],"everyone":"here"`: an id is at most 20 digits
    // and a comma.
    if !message.mentions.is_empty() {
        size += 40 + 21 * message.mentions.users.len();
    }
    size
}

/// The length of `text` as a JSON string's contents: control characters
/// are six bytes (`\u0001`), or two for the usual ones, as are `"` and `\`.
fn json_len(text: &str) -> usize {
    text.chars()
        .map(|c| match c {
            '"' | '\\' | '\n' | '\r' | '\t' | '\u{8}' | '\u{c}' => 2,
            c if c < ' ' => 6,
            c => c.len_utf8(),
        })
        .sum()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::protocol::{
        Everyone, InThread, Media, MediaKind, Mentions, Quote, Reaction, Revision, ThreadSummary, User,
    };

    fn message(text: &str) -> Message {
        Message {
            id: i64::MAX,
            seq: i64::MAX,
            conversation: ConversationId::room("a-room-with-a-long-name"),
            from: User { id: i64::MAX, name: "Ölivia \"the\" \\ first".into() },
            to: None,
            text: text.into(),
            at: i64::MAX,
            cid: Some("c\u{1}".repeat(20)),
            media: Some(Media {
                id: "x".repeat(40),
                name: "a\u{2}.png".into(),
                mime: "image/png".into(),
                kind: MediaKind::Image,
                size: u64::MAX,
                width: Some(u32::MAX),
                height: Some(u32::MAX),
            }),
            reply_to: Some(Quote {
                id: i64::MAX,
                seq: i64::MAX,
                from: User { id: i64::MIN, name: "\"quoted\" \u{1}".into() },
                text: "\u{2}\"".repeat(100),
                deleted: true,
                media: true,
            }),
            in_thread: Some(InThread { root: i64::MAX, in_conversation: true }),
            revision: Revision {
                edited_at: Some(i64::MAX),
                deleted: true,
                reactions: vec![
                    Reaction { emoji: "\"<".into(), users: vec![i64::MIN, i64::MAX], count: usize::MAX },
                    Reaction { emoji: "👨‍👩‍👧".into(), users: vec![i64::MIN], count: 1 },
                ],
                change: i64::MAX,
                thread: Some(ThreadSummary { replies: u32::MAX, last_at: i64::MAX }),
            },
            mentions: Mentions { users: vec![i64::MIN, i64::MAX], everyone: Some(Everyone::Here) },
        }
    }

    #[test]
    fn a_size_is_never_under_the_json() {
        for text in ["", "plain", "\u{1}\u{2}\u{1f}", "\"quoted\"\n\\", "中文 and émoji 🎉", &"\u{0}".repeat(4000)]
        {
            let message = message(text);
            let json = match message.clone().into_wire() {
                crate::protocol::WireMessage::Room(room) => serde_json::to_string(&room).unwrap(),
                crate::protocol::WireMessage::Pair(pair) => serde_json::to_string(&pair).unwrap(),
            };
            assert!(wire_bytes(&message) >= json.len(), "{} < {}: {json}", wire_bytes(&message), json.len());
        }
    }

    #[test]
    fn a_page_stops_at_its_bytes_but_always_holds_one() {
        let rows: Vec<Message> = (0..10).map(|_| message(&"\u{1}".repeat(1000))).collect();
        let one = wire_bytes(&rows[0]);
        assert_eq!(within(&rows, 10, one * 3 + 1), (3, one * 3));
        assert_eq!(within(&rows, 2, usize::MAX), (2, one * 2));
        assert_eq!(within(&rows, 10, 1), (1, one));
        assert_eq!(within(&rows[..0], 10, 1), (0, 0));
    }
}
