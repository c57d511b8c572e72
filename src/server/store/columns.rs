//! How stored columns become protocol values, the same for every SQL
//! backend: the key a conversation is stored under, and the decoding of
//! users, messages, their files and their reactions from the columns every
//! backend's message `SELECT` names alike (`sqlite::rows`,
//! `postgres::rows`).
//!
//! A conversation is stored by its key in `messages.room`: a room's name,
//! or `dm:<low id>:<high id>` for the private conversation of two users
//! (migration 1). Room names cannot contain `:`, so the two never meet.

use sqlx::{ColumnIndex, Decode, Row, Type};

use crate::protocol::{
    ConversationId, ConversationSummary, InThread, Media, MediaKind, Mentions, Message, Notify, Quote, Reaction,
    ReadState, Revision, ThreadSummary, User, MAX_LISTED_REACTORS,
};
use crate::server::store::{Room, RoomListing, RoomPage, StoreError, StoreResult};

/// The key `conversation` is stored under.
pub(super) fn key_of(conversation: &ConversationId) -> String {
    match conversation {
        ConversationId::Room(name) => name.clone(),
        ConversationId::Pair(low, high) => format!("dm:{low}:{high}"),
    }
}

/// The conversation a stored key names.
pub(super) fn conversation_of_key(key: &str) -> StoreResult<ConversationId> {
    let Some(pair) = key.strip_prefix("dm:") else { return Ok(ConversationId::room(key)) };
    let ids = pair.split_once(':').and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?)));
    match ids {
        Some((a, b)) => Ok(ConversationId::pair(a, b)),
        None => Err(StoreError::backend(std::io::Error::other(format!("unreadable conversation key {key:?}")))),
    }
}

pub(super) fn user_from_row<'r, R>(row: &'r R) -> Result<User, sqlx::Error>
where
    R: Row,
    for<'c> &'c str: ColumnIndex<R>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
    String: Decode<'r, R::Database> + Type<R::Database>,
{
    Ok(User { id: row.try_get("id")?, name: row.try_get("name")? })
}

/// A message from the columns of a backend's message `SELECT`.
pub(super) fn message_from_row<'r, R>(row: &'r R) -> StoreResult<Message>
where
    R: Row,
    for<'c> &'c str: ColumnIndex<R>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    bool: Decode<'r, R::Database> + Type<R::Database>,
{
    let to = match (row.try_get::<Option<i64>, _>("to_user_id")?, row.try_get::<Option<String>, _>("to_name")?) {
        (Some(id), Some(name)) => Some(User { id, name }),
        _ => None,
    };
    Ok(Message {
        id: row.try_get("id")?,
        seq: row.try_get("seq")?,
        conversation: conversation_of_key(&row.try_get::<String, _>("room")?)?,
        from: User { id: row.try_get("user_id")?, name: row.try_get("from_name")? },
        to,
        text: row.try_get("text")?,
        at: row.try_get("created_at")?,
        cid: row.try_get("cid")?,
        media: media_from_row(row)?,
        reply_to: match row.try_get::<Option<i64>, _>("quote_id")? {
            Some(id) => Some(Quote {
                id,
                seq: row.try_get("quote_seq")?,
                from: User { id: row.try_get("quote_from")?, name: row.try_get("quote_name")? },
                text: row.try_get("quote_text")?,
                deleted: row.try_get("quote_deleted")?,
                media: row.try_get("quote_media")?,
            }),
            None => None,
        },
        in_thread: in_thread(row.try_get("thread_root")?, row.try_get("in_conversation")?),
        revision: Revision {
            thread: thread_summary(row.try_get("thread_replies")?, row.try_get("thread_last_at")?),
            ..revision(
                row.try_get("edited_at")?,
                row.try_get::<Option<i64>, _>("deleted_at")?.is_some(),
                row.try_get("change_seq")?,
                row.try_get("reactions")?,
            )
        },
        mentions: Mentions::from_columns(
            row.try_get::<Option<String>, _>("mentions")?.as_deref(),
            row.try_get::<Option<String>, _>("everyone")?.as_deref(),
        ),
    })
}

/// Where someone is in a conversation, from a read-state query's `room`,
/// `seq`, `unread`, `mentions` and `peer_seq` (the other party's mark, read for
/// private conversations only).
pub(super) fn read_state_from_row<'r, R>(row: &'r R) -> StoreResult<ReadState>
where
    R: Row,
    for<'c> &'c str: ColumnIndex<R>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
    String: Decode<'r, R::Database> + Type<R::Database>,
{
    let conversation = conversation_of_key(&row.try_get::<String, _>("room")?)?;
    Ok(ReadState {
        seq: row.try_get("seq")?,
        unread: usize::try_from(row.try_get::<i64, _>("unread")?).unwrap_or(0),
        mentions: usize::try_from(row.try_get::<i64, _>("mentions")?).unwrap_or(0),
        peer_seq: match conversation {
            ConversationId::Pair(..) => Some(row.try_get::<Option<i64>, _>("peer_seq")?.unwrap_or(0)),
            ConversationId::Room(_) => None,
        },
        ..ReadState::at(&conversation)
    })
}

/// A private conversation's line from a listing's `peer`, `name`,
/// `last_seq`, `last_at` and `last_change`.
pub(super) fn conversation_summary_from_row<'r, R>(row: &'r R) -> StoreResult<ConversationSummary>
where
    R: Row,
    for<'c> &'c str: ColumnIndex<R>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
    String: Decode<'r, R::Database> + Type<R::Database>,
{
    Ok(ConversationSummary {
        with: User { id: row.try_get("peer")?, name: row.try_get("name")? },
        last_seq: row.try_get("last_seq")?,
        last_at: row.try_get("last_at")?,
        last_change: row.try_get("last_change")?,
    })
}

/// A room listing's page from its rows (`name`, `title`, `private`,
/// `rank`: 2 for a public room not the viewer's, then the counts), the
/// public rooms past `count` left out and said to follow.
pub(super) fn room_page_from_rows<'r, R>(rows: &'r [R], count: usize) -> StoreResult<RoomPage>
where
    R: Row,
    for<'c> &'c str: ColumnIndex<R>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    bool: Decode<'r, R::Database> + Type<R::Database>,
{
    let mut page = RoomPage::default();
    let mut public_rooms = 0;
    for row in rows {
        if row.try_get::<i64, _>("rank")? == 2 {
            public_rooms += 1;
            if public_rooms > count {
                page.more = true;
                break;
            }
        }
        let number = |column: &str| row.try_get::<i64, _>(column).map(|n| usize::try_from(n).unwrap_or(0));
        page.rooms.push(RoomListing {
            room: Room { name: row.try_get("name")?, title: row.try_get("title")?, private: row.try_get("private")? },
            members: number("members")?,
            online: number("online")?,
            joined: row.try_get("joined")?,
            last_seq: row.try_get("last_seq")?,
            last_change: row.try_get("last_change")?,
        });
    }
    Ok(page)
}

/// A pixel size column (NULL for files that are not images).
pub(super) fn dimension<'r, R>(row: &'r R, column: &str) -> Result<Option<u32>, sqlx::Error>
where
    R: Row,
    for<'c> &'c str: ColumnIndex<R>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
{
    Ok(row.try_get::<Option<i64>, _>(column)?.and_then(|n| u32::try_from(n).ok()))
}

/// The `media_*` columns, when the row has a file.
pub(super) fn media_from_row<'r, R>(row: &'r R) -> Result<Option<Media>, sqlx::Error>
where
    R: Row,
    for<'c> &'c str: ColumnIndex<R>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
    String: Decode<'r, R::Database> + Type<R::Database>,
{
    let Some(id) = row.try_get::<Option<String>, _>("media_id")? else { return Ok(None) };
    Ok(Some(media(
        id,
        row.try_get("media_name")?,
        row.try_get("media_mime")?,
        row.try_get("media_size")?,
        [row.try_get("media_width")?, row.try_get("media_height")?],
    )))
}

/// Where a message sits in a thread, from its columns.
pub(super) fn in_thread(root: Option<i64>, in_conversation: bool) -> Option<InThread> {
    root.map(|root| InThread { root, in_conversation })
}

/// A root's summary from its columns: none until it has a reply.
pub(super) fn thread_summary(replies: i64, last_at: Option<i64>) -> Option<ThreadSummary> {
    let replies = u32::try_from(replies).ok().filter(|n| *n > 0)?;
    Some(ThreadSummary { replies, last_at: last_at.unwrap_or(0) })
}

/// A message's revision from its columns; `reactions` is the message
/// `SELECT`'s column: a line per emoji, `first\temoji\tid,id…`.
pub(super) fn revision(edited_at: Option<i64>, deleted: bool, change: i64, reactions: Option<String>) -> Revision {
    let mut read: Vec<(i64, Reaction)> = reactions
        .as_deref()
        .unwrap_or_default()
        .lines()
        .filter_map(|line| {
            let mut fields = line.splitn(3, '\t');
            let first = fields.next()?.parse().ok()?;
            let emoji = fields.next()?.to_owned();
            // All are counted, the first few listed (MAX_LISTED_REACTORS).
            let (mut users, mut count) = (Vec::new(), 0);
            for id in fields.next()?.split(',').filter_map(|id| id.parse().ok()) {
                count += 1;
                if users.len() < MAX_LISTED_REACTORS {
                    users.push(id);
                }
            }
            Some((first, Reaction { emoji, users, count }))
        })
        .collect();
    read.sort_by(|(a, x), (b, y)| a.cmp(b).then_with(|| x.emoji.cmp(&y.emoji)));
    let reactions = read.into_iter().map(|(_, reaction)| reaction).collect();
    Revision { edited_at, deleted, reactions, change, thread: None }
}

/// A file's description from its stored columns.
pub(super) fn media(id: String, name: String, mime: String, size: i64, [width, height]: [Option<i64>; 2]) -> Media {
    let pixels = |n: Option<i64>| n.and_then(|n| u32::try_from(n).ok());
    Media {
        id,
        name,
        kind: MediaKind::of_mime(&mime),
        mime,
        size: u64::try_from(size).unwrap_or(0),
        width: pixels(width),
        height: pixels(height),
    }
}

/// Chosen levels from `(room, level)` rows; a level this build does not
/// know is left out (the conversation's default stands).
pub(super) fn levels_of_rows(rows: Vec<(String, String)>) -> StoreResult<Vec<(ConversationId, Notify)>> {
    let mut levels = Vec::with_capacity(rows.len());
    for (room, level) in rows {
        if let Some(level) = Notify::parse(&level) {
            levels.push((conversation_of_key(&room)?, level));
        }
    }
    Ok(levels)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversation_keys_round_trip() {
        for conversation in [ConversationId::room("lobby"), ConversationId::room("a-b_c"), ConversationId::pair(9, 2)] {
            assert_eq!(conversation_of_key(&key_of(&conversation)).ok(), Some(conversation));
        }
        assert_eq!(key_of(&ConversationId::pair(9, 2)), "dm:2:9");
        assert!(conversation_of_key("dm:x:1").is_err());
    }

    #[test]
    fn reactions_read_back_in_the_order_first_used() {
        let column = "20\t❤️\t7\n10\t👍\t3,9\n20\t🎉\t3".to_owned();
        let read = revision(None, false, 4, Some(column));
        let emoji: Vec<_> = read.reactions.iter().map(|r| (r.emoji.as_str(), r.users.clone())).collect();
        assert_eq!(emoji, [("👍", vec![3, 9]), ("❤️", vec![7]), ("🎉", vec![3])]);
        let read = revision(Some(1), true, 2, None);
        assert_eq!(read, Revision { edited_at: Some(1), deleted: true, reactions: vec![], change: 2, thread: None });
        // Thousands of reactors are counted, and the first few listed.
        let many: Vec<String> = (1..=3 * MAX_LISTED_REACTORS).map(|id| id.to_string()).collect();
        let read = revision(None, false, 5, Some(format!("1\t👍\t{}", many.join(","))));
        let first: Vec<i64> = (1..=MAX_LISTED_REACTORS as i64).collect();
        assert_eq!((read.reactions[0].count, &read.reactions[0].users), (3 * MAX_LISTED_REACTORS, &first));
        assert_eq!(thread_summary(0, None), None);
        assert_eq!(thread_summary(2, Some(7)), Some(ThreadSummary { replies: 2, last_at: 7 }));
    }
}
