//! Reading a conversation back, a page at a time, by `seq` cursor: how a
//! client scrolls up (`before`), resumes after a reconnect (`after`), or
//! opens a conversation (neither: the latest page). Whether the reader may
//! read it is `access`'s to say, before this is asked.

use crate::error::ChatError;
use crate::protocol::{ConversationId, Message};
use crate::server::state::AppState;
use crate::server::store::Cursor;

/// Up to `limit` messages of `conversation`, oldest first: next to the
/// cursor, or the newest with none. `more` says there are others beyond
/// them in the direction asked.
pub async fn page(
    state: &AppState,
    conversation: &ConversationId,
    cursor: Option<Cursor>,
    limit: usize,
) -> Result<(Vec<Message>, bool), ChatError> {
    // One more than asked says whether there is more.
    let mut rows = match cursor {
        Some(cursor) => state.store.page(conversation, cursor, limit + 1).await?,
        None => state.store.recent(conversation, limit + 1).await?,
    };
    let more = rows.len() > limit;
    if more {
        // Keep the `limit` nearest the cursor (or the newest, with none).
        match cursor {
            Some(Cursor::After(_)) => rows.truncate(limit),
            _ => drop(rows.remove(0)),
        }
    }
    Ok((rows, more))
}
