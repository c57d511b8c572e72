//! How much of each conversation notifies each person (`protocol::notify`):
//! `notify` keeps a choice and tells the chooser's other sockets, so every
//! tab and device of theirs decides alike; `reads` and a page's start carry
//! the choices ([`chosen`]). A choice is made for a conversation one is
//! in: the lobby, a room one has joined, a private conversation with
//! someone who exists. So each person keeps at most one row per room and
//! per other person; a room's stays when they leave it (it is theirs
//! again if they come back), and pushes check membership when they are
//! sent.

use super::access::check_can_post;
use crate::error::ChatError;
use crate::protocol::{event, ConversationId, Notify, NotifySetting, User, UserId, LOBBY};
use crate::server::state::AppState;

/// `user` wants `level` from `room` (default the lobby), or from their
/// private conversation `with` someone.
pub async fn set_notify(
    state: &AppState,
    user: &User,
    room: Option<&str>,
    with: Option<UserId>,
    level: Notify,
) -> Result<NotifySetting, ChatError> {
    let conversation = conversation_of(state, user.id, room, with).await?;
    state.store.set_notify(user.id, &conversation, level).await?;
    let setting = NotifySetting::new(&conversation, level);
    state.outbound.tell(user.id, event::NOTIFY, &setting).await;
    Ok(setting)
}

/// The levels `user` chose, as `reads` and a page's start list them: at
/// most [`MAX_CHOSEN`] (by conversation key), more than anyone keeps.
pub async fn chosen(state: &AppState, user: UserId) -> Result<Vec<NotifySetting>, ChatError> {
    let levels = state.store.notify_levels(user, MAX_CHOSEN).await?;
    Ok(levels.iter().map(|(conversation, level)| NotifySetting::new(conversation, *level)).collect())
}

/// Levels listed, at most.
pub const MAX_CHOSEN: usize = 1000;

/// The conversation a choice names, if `user` is in it.
async fn conversation_of(
    state: &AppState,
    user: UserId,
    room: Option<&str>,
    with: Option<UserId>,
) -> Result<ConversationId, ChatError> {
    match (room, with) {
        (Some(_), Some(_)) => Err(ChatError::InvalidPayload("give `room` or `with`, not both".into())),
        (None, Some(peer)) => {
            if peer == user {
                return Err(ChatError::InvalidPayload("a private conversation is with someone else".into()));
            }
            state.store.user(peer).await?.ok_or(ChatError::NoSuchUser)?;
            Ok(ConversationId::pair(user, peer))
        }
        (room, None) => {
            let room = room.unwrap_or(LOBBY);
            check_can_post(state, user, room).await?;
            Ok(ConversationId::room(room))
        }
    }
}
