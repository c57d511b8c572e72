//! Saying who is typing: only where one may post (the lobby, a room one
//! has joined, one's own private conversations), never stored, and sent
//! on coalesced (`delivery::typing_feed`). Posting a message ends it.

use crate::error::ChatError;
use crate::protocol::{ConversationId, User, UserId, LOBBY};
use crate::server::chat::access::check_can_post;
use crate::server::state::AppState;

/// `user` is typing in `room` (default the lobby) or in their private
/// conversation `with` someone. Rights are checked when they start, not
/// on every keep-alive after.
pub async fn typing(state: &AppState, user: &User, room: Option<&str>, with: Option<UserId>) -> Result<(), ChatError> {
    let conversation = match (room, with) {
        (Some(_), Some(_)) => return Err(ChatError::InvalidPayload("give `room` or `with`, not both".into())),
        (None, Some(peer)) if peer == user.id => {
            return Err(ChatError::InvalidPayload("one does not type to oneself".into()))
        }
        (None, Some(peer)) => ConversationId::pair(user.id, peer),
        (room, None) => ConversationId::room(room.unwrap_or(LOBBY)),
    };
    if state.typing.still_typing(&conversation, user) {
        return Ok(());
    }
    match &conversation {
        ConversationId::Room(name) => check_can_post(state, user.id, name).await?,
        ConversationId::Pair(..) => {
            let peer = conversation.peer_of(user.id).unwrap_or(user.id);
            state.store.user(peer).await?.ok_or(ChatError::NoSuchUser)?;
        }
    }
    state.typing.started(&conversation, user);
    Ok(())
}
