//! Changing a message after it was sent: editing or deleting my own, and
//! reacting to anyone's, from the socket (`edit`, `delete`, `react`) and
//! from the forms that work without JavaScript alike. It validates, stores
//! and answers; the store hands the changed message to delivery itself,
//! in the same stream as new messages (`delivery::fanout`).

use crate::error::{ChatError, InvalidInput};
use crate::protocol::{validate_body, validate_emoji, ChangeAck, User, MAX_REACTIONS};
use crate::server::clock::now_ms;
use crate::server::state::AppState;
use crate::server::store::{ChangeOutcome, Edit, MessageChange, OnCommit};

/// What to do to a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change<'a> {
    /// New text for my message (a message with a file may have none).
    Edit(&'a str),
    /// My message, for everyone: a tombstone stays.
    Delete,
    /// My reaction with this emoji, on or off.
    React(&'a str),
}

/// A change's ack, and whether it was stored now (`fresh`, acked by the
/// commit) or changed nothing (the same text again, deleting twice).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changed {
    pub ack: ChangeAck,
    pub fresh: bool,
}

/// Validates and stores `user`'s change to message `id`. `on_commit` runs
/// once it is committed, before anyone hears of it (the ack); a change
/// that changes nothing, or a refusal, never runs it, and the caller
/// answers those. Changes share the sending limit: each is a commit and a
/// delivery to the whole conversation, as a message is.
pub async fn change(
    state: &AppState,
    user: &User,
    id: i64,
    change: Change<'_>,
    on_commit: Option<OnCommit>,
) -> Result<Changed, ChatError> {
    state.limits.user_sends(user.id)?;
    let edit = match change {
        Change::Edit(text) => Edit::Text(validate_body(text, true)?),
        Change::Delete => Edit::Delete,
        Change::React(emoji) => Edit::React(validate_emoji(emoji)?),
    };
    if id <= 0 {
        return Err(ChatError::NoSuchMessage);
    }
    let request = MessageChange { id, by: user.id, edit, at: now_ms(), max_reactions: MAX_REACTIONS, on_commit };
    let (message, fresh) = match state.store.change_message(request).await? {
        ChangeOutcome::Changed(message) => (message, true),
        ChangeOutcome::Unchanged(message) => (message, false),
        ChangeOutcome::NoSuchMessage => return Err(ChatError::NoSuchMessage),
        ChangeOutcome::NotYours => return Err(ChatError::NotYourMessage),
        ChangeOutcome::Deleted => return Err(ChatError::MessageDeleted),
        ChangeOutcome::NotAMember => return Err(ChatError::NotAMember),
        ChangeOutcome::TooManyReactions => return Err(ChatError::TooManyReactions { max: MAX_REACTIONS }),
        ChangeOutcome::EmptyText => return Err(InvalidInput::EmptyText.into()),
    };
    Ok(Changed { ack: ChangeAck { id: message.id, change: message.revision.change }, fresh })
}
