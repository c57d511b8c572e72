//! How far each person has read: `read` moves it on (never back), tells
//! the reader's other sockets, so a badge cleared in one tab clears in all,
//! and in a private conversation tells the other party ("Seen"). In rooms
//! it stays the reader's own. `reads` lists it for every conversation of
//! theirs, with unread counts, for a page or a reconnect. Marks are written a few at a time (`read_marks`);
//! every answer reads the ones not written yet over the store's.

use crate::error::ChatError;
use crate::protocol::{event, ConversationId, ReadState, Seen, User, UserId, LOBBY, MAX_CONVERSATIONS};
use crate::server::chat::access::conversation_to_read;
use crate::server::state::AppState;

/// `user` has read `room` (default the lobby), or their private
/// conversation `with` someone, up to `seq` (past the newest counts as
/// the newest). Returns where they are now.
pub async fn mark_read(
    state: &AppState,
    user: &User,
    room: Option<&str>,
    with: Option<UserId>,
    seq: i64,
) -> Result<ReadState, ChatError> {
    if seq < 0 {
        return Err(ChatError::InvalidPayload("`seq` cannot be negative".into()));
    }
    let conversation = conversation_to_read(state, Some(user.id), room, with).await?;
    let last = state.store.last_seq(&conversation).await?;
    let seq = seq.min(last);
    let marked = match state.read_marks.note(user.id, &conversation, seq) {
        Some(marked) => marked,
        None => state.store.mark_read(user.id, &conversation, seq).await?,
    };
    let read = state.store.read_states(user.id, &[(conversation.clone(), marked)]).await?.pop();
    let read = with_peers_marks(
        state,
        user.id,
        read.unwrap_or_else(|| ReadState { seq: marked, ..ReadState::at(&conversation) }),
    );
    state.outbound.tell(user.id, event::READ, &read).await;
    if let (ConversationId::Pair(a, b), Some(peer)) = (&conversation, conversation.peer_of(user.id)) {
        let seen = Seen { pair: [*a, *b], user: user.id, seq: read.seq };
        state.outbound.tell(peer, event::SEEN, &seen).await;
    }
    Ok(read)
}

/// Where `user` is in the lobby, each room of theirs and each of their
/// private conversations.
pub async fn read_states(state: &AppState, user: UserId) -> Result<Vec<ReadState>, ChatError> {
    let mut conversations = vec![ConversationId::room(LOBBY)];
    conversations.extend(state.store.memberships(user).await?.into_iter().map(ConversationId::Room));
    let pairs = state.store.conversations(user, MAX_CONVERSATIONS).await?;
    conversations.extend(pairs.into_iter().map(|summary| ConversationId::pair(user, summary.with.id)));
    let asked: Vec<(ConversationId, i64)> =
        conversations.into_iter().map(|c| (c.clone(), state.read_marks.unwritten(user, &c))).collect();
    let reads = state.store.read_states(user, &asked).await?;
    Ok(reads.into_iter().map(|read| with_peers_marks(state, user, read)).collect())
}

/// `read`, of `user`'s, with how far the other party of a private
/// conversation read by a mark not written yet.
fn with_peers_marks(state: &AppState, user: UserId, mut read: ReadState) -> ReadState {
    if let (Some(conversation), Some(peer_seq)) = (read.conversation(), read.peer_seq.as_mut()) {
        if let Some(peer) = conversation.peer_of(user) {
            *peer_seq = (*peer_seq).max(state.read_marks.unwritten(peer, &conversation));
        }
    }
    read
}
