//! Mentions, the server's side: whom a message calls (the people it names
//! who can read it, and with `@here` or `@room` the room's members, within
//! bounds), and a person's recent mentions across every conversation they
//! may read, for the `mentions` event and the `/mentions` page. Counting
//! unread mentions is the store's, beside unread messages
//! (`MessageStore::read_states`).

use std::net::IpAddr;

use super::search::hit;
use crate::error::ChatError;
use crate::protocol::{ConversationId, Everyone, Mentions, SearchPage, User, UserId, LOBBY, MAX_CALLED, SEARCH_PAGE};
use crate::server::state::AppState;

/// What one page of mentions costs its asker's address in read budget,
/// in bytes (`RTCA_RATE_READ_BYTES_ADDRESS`): a page is at most
/// [`SEARCH_PAGE`] snippets.
pub const MENTIONS_COST: usize = 16 * 1024;

/// Who a message calls: the people it names who are in its conversation
/// (anyone, in the lobby; the other party, in a private conversation), and
/// with `everyone`, the room's members (those online, for `@here`); never
/// the sender. `mentions` keeps only the people who are in it.
/// Calling everyone is for rooms of at most [`MAX_CALLED`] members, and
/// spends the sender's budget for it.
pub async fn called(
    state: &AppState,
    sender: UserId,
    conversation: &ConversationId,
    mentions: &mut Mentions,
) -> Result<Vec<UserId>, ChatError> {
    if mentions.is_empty() {
        return Ok(Vec::new());
    }
    let room = match conversation {
        ConversationId::Room(room) if room != LOBBY => room,
        _ if mentions.everyone.is_some() => return Err(ChatError::CannotCallEveryone { max: MAX_CALLED }),
        ConversationId::Room(_) => return Ok(mentions.users.clone()),
        ConversationId::Pair(..) => {
            let peer = conversation.peer_of(sender);
            mentions.users.retain(|user| Some(*user) == peer);
            return Ok(mentions.users.clone());
        }
    };
    let members = state.store.room_members(room).await?;
    mentions.users.retain(|user| members.contains(user));
    let mut called = mentions.users.clone();
    let Some(everyone) = mentions.everyone else { return Ok(called) };
    if members.len() > MAX_CALLED {
        return Err(ChatError::CannotCallEveryone { max: MAX_CALLED });
    }
    state.limits.user_calls_everyone(sender)?;
    for member in members {
        let reached = everyone == Everyone::Room || state.presence.online_user(member).is_some();
        if reached && member != sender && !called.contains(&member) {
            called.push(member);
        }
    }
    Ok(called)
}

/// A page of the messages that called `reader`, newest first, older than
/// the message `before`: each a hit (where, who, when, the start of its
/// text) that links to it in its conversation. Charged to the asker's
/// `address`.
pub async fn mentions_of(
    state: &AppState,
    reader: &User,
    address: Option<IpAddr>,
    before: Option<i64>,
) -> Result<SearchPage, ChatError> {
    state.limits.may_read(address)?;
    state.limits.charge_read(address, MENTIONS_COST);
    let found = state.store.mentions_of(reader.id, before, SEARCH_PAGE + 1).await?;
    let more = found.len() > SEARCH_PAGE;
    let hits = found.into_iter().take(SEARCH_PAGE).map(|message| hit(message, Some(reader), &[])).collect();
    Ok(SearchPage { hits, more })
}
