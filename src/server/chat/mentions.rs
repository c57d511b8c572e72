//! Mentions, the server's side: whom a message calls (the people it names
//! who are in its conversation, and with `@here` or `@room` the room's
//! members, within bounds), and a person's recent mentions across every conversation they
//! may read, for the `mentions` event and the `/mentions` page. Counting
//! unread mentions is the store's, beside unread messages
//! (`MessageStore::read_states`).

use std::net::IpAddr;

use super::access::check_can_post;
use super::search::hit;
use crate::error::ChatError;
use crate::protocol::{
    named_in, ConversationId, Everyone, Mentions, SearchPage, User, UserId, LOBBY, MAX_CALLED, MAX_LISTED_MEMBERS,
    SEARCH_PAGE,
};
use crate::server::state::AppState;

/// What one page of mentions costs its asker's address in read budget,
/// in bytes (`RTCA_RATE_READ_BYTES_ADDRESS`): a page is at most
/// [`SEARCH_PAGE`] snippets.
pub const MENTIONS_COST: usize = 16 * 1024;

/// Who a message calls: the people it names who are in its conversation
/// (anyone, in the lobby; the members, in another room; the other party,
/// in a private conversation), and with `everyone`, the room's members
/// (those online, for `@here`); never the sender. `mentions` keeps only
/// the people who are in it. Calling everyone is for rooms other than the
/// lobby of at most [`MAX_CALLED`] members, while the sender's budget for
/// it lasts (spent once the message is stored,
/// `Limits::user_called_everyone`). Someone who may not post to a room
/// is refused here as the post would be, so a mention tells an outsider
/// nothing of the room; every read is bounded by what was named, or by
/// [`MAX_CALLED`].
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
        ConversationId::Room(room) => room,
        ConversationId::Pair(..) if mentions.everyone.is_some() => {
            return Err(ChatError::CannotCallEveryone { max: MAX_CALLED })
        }
        ConversationId::Pair(..) => {
            let peer = conversation.peer_of(sender);
            mentions.users.retain(|user| Some(*user) == peer);
            return Ok(mentions.users.clone());
        }
    };
    if room == LOBBY && mentions.everyone.is_some() {
        return Err(ChatError::CannotCallEveryone { max: MAX_CALLED });
    }
    check_can_post(state, sender, room).await?;
    mentions.users = state.store.members_among(room, &mentions.users).await?;
    let mut called = mentions.users.clone();
    let Some(everyone) = mentions.everyone else { return Ok(called) };
    state.limits.user_may_call_everyone(sender)?;
    let members = state.store.some_members(room, MAX_CALLED + 1).await?;
    if members.len() > MAX_CALLED {
        return Err(ChatError::CannotCallEveryone { max: MAX_CALLED });
    }
    for member in members {
        let reached = everyone == Everyone::Room || state.presence.online_user(member).is_some();
        if reached && member != sender && !called.contains(&member) {
            called.push(member);
        }
    }
    Ok(called)
}

/// Whom a text written without JavaScript names (`@name`, read as the
/// browser reads a draft, `protocol::named_in`), among the people where it
/// goes: the one person written `to`, a room's members (the first
/// [`MAX_LISTED_MEMBERS`], online ones first), or in the lobby everyone
/// online. Whether the sender may post there is the post's to check.
pub async fn named_by_hand(
    state: &AppState,
    sender: UserId,
    room: &str,
    to: Option<UserId>,
    text: &str,
) -> Result<Vec<UserId>, ChatError> {
    if !text.contains('@') {
        return Ok(Vec::new());
    }
    let people: Vec<User> = match to {
        Some(peer) => state.store.user(peer).await?.into_iter().collect(),
        None if room == LOBBY => state.presence.users(),
        None => {
            let online = state.presence.online_ids();
            let listed = state.store.room_member_list(room, &online, MAX_LISTED_MEMBERS).await?;
            listed.into_iter().map(|(user, _)| user).collect()
        }
    };
    Ok(named_in(text, &people, sender))
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
