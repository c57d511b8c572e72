//! Who may see, read and post where. Every read path (history, the
//! server-rendered pages, files) and every post asks here.
//!
//! The lobby is every socket's and every user's, with no membership rows.
//! Other rooms are public (listed for everyone, readable by anyone, joined
//! by choice) or private (invite-only: to anyone who is not a member they
//! do not exist, so every refusal is `no_such_room`). A private
//! conversation is readable by its two parties only, and a request can
//! never name someone else's: it is derived from the reader's identity.

use crate::error::ChatError;
use crate::protocol::{ConversationId, UserId, LOBBY};
use crate::server::state::AppState;
use crate::server::store::Room;

/// The room `name` as `user` may see it: `None` when it does not exist or
/// is private and they are not in it.
pub async fn visible_room(state: &AppState, user: Option<UserId>, name: &str) -> Result<Option<Room>, ChatError> {
    let Some(room) = state.store.room(name).await? else { return Ok(None) };
    if !room.private {
        return Ok(Some(room));
    }
    let Some(user) = user else { return Ok(None) };
    Ok(state.store.is_member(name, user).await?.then_some(room))
}

/// Reading a room: the lobby and public rooms are open to all, a private
/// room only to its members.
pub async fn check_can_read(state: &AppState, user: Option<UserId>, name: &str) -> Result<(), ChatError> {
    if name == LOBBY {
        return Ok(());
    }
    visible_room(state, user, name).await?.map(|_| ()).ok_or(ChatError::NoSuchRoom)
}

/// Whether `reader` may read `conversation`: a room as [`check_can_read`]
/// says, a private conversation if they are one of its two.
pub async fn may_read(state: &AppState, reader: Option<UserId>, conversation: &ConversationId) -> bool {
    match conversation {
        ConversationId::Room(name) => check_can_read(state, reader, name).await.is_ok(),
        ConversationId::Pair(a, b) => reader.is_some_and(|reader| reader == *a || reader == *b),
    }
}

/// The conversation a read names, if `reader` may read it: `room` (default
/// the lobby), or with `with`, the reader's own conversation with that
/// user.
pub async fn conversation_to_read(
    state: &AppState,
    reader: Option<UserId>,
    room: Option<&str>,
    with: Option<UserId>,
) -> Result<ConversationId, ChatError> {
    match (room, with) {
        (Some(_), Some(_)) => Err(ChatError::InvalidPayload("give `room` or `with`, not both".into())),
        (None, Some(peer)) => Ok(ConversationId::pair(reader.ok_or(ChatError::NotOnline)?, peer)),
        (room, None) => {
            let room = room.unwrap_or(LOBBY);
            check_can_read(state, reader, room).await?;
            Ok(ConversationId::room(room))
        }
    }
}

/// Posting to a room: the lobby, or a room one has joined.
pub async fn check_can_post(state: &AppState, user: UserId, name: &str) -> Result<(), ChatError> {
    if name == LOBBY || state.store.is_member(name, user).await? {
        return Ok(());
    }
    Err(refusal_to_post(state, user, name).await)
}

/// Why `user`, who is not a member, may not post to `name`: a room they
/// cannot see does not exist, as far as they are told.
pub async fn refusal_to_post(state: &AppState, user: UserId, name: &str) -> ChatError {
    match visible_room(state, Some(user), name).await {
        Ok(Some(_)) => ChatError::NotAMember,
        Ok(None) => ChatError::NoSuchRoom,
        Err(error) => error,
    }
}
