//! Posting a message, to a room or to one person: one path for both, from
//! the socket's `message` and `secret` and from the form that works without
//! JavaScript alike. It validates, stores, and answers with the ack; the
//! store hands the committed message to delivery itself (`delivery::fanout`).

use super::access::refusal_to_post;
use super::mentions::called;
use crate::error::ChatError;
use crate::protocol::{
    validate_body, validate_cid, ConversationId, Everyone, InThread, Mentions, MessageAck, User, UserId, LOBBY,
};
use crate::server::clock::now_ms;
use crate::server::push::News;
use crate::server::state::AppState;
use crate::server::store::{Insert, NewMessage, OnCommit};

/// Where a message goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recipient {
    /// A room, by name: the lobby, or one the sender has joined.
    Room(String),
    /// One person, privately.
    Person(UserId),
}

/// A message someone wants to post.
#[derive(Debug, Clone)]
pub struct Post<'a> {
    pub to: Recipient,
    /// May be empty when `media` is given (a caption is optional).
    pub text: &'a str,
    pub cid: Option<&'a str>,
    /// The id of an upload of the sender's that the message carries.
    pub media: Option<&'a str>,
    /// The id of the message of the same conversation it answers.
    pub reply_to: Option<i64>,
    /// A reply in this thread, of the same conversation.
    pub thread: Option<InThread>,
    /// The ids of the people it names.
    pub mentions: &'a [UserId],
    /// Whether it calls everyone in the room (`@here`, `@room`).
    pub everyone: Option<Everyone>,
}

/// A posted message's ack, and whether it was stored now (`fresh`) or is a
/// retry of one stored before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posted {
    pub ack: MessageAck,
    pub fresh: bool,
}

/// Validates and stores `sender`'s message. `on_commit` runs once it is
/// committed, before anyone hears of it (the sender's ack); a retry or a
/// refusal never runs it, and the caller answers those. A reused `cid`
/// must be a true retry (same conversation, same text, same file);
/// anything else is a client bug. A file must be an upload of the sender's
/// that no other message carries.
pub async fn post(
    state: &AppState,
    sender: &User,
    post: Post<'_>,
    on_commit: Option<OnCommit>,
) -> Result<Posted, ChatError> {
    state.limits.user_sends(sender.id)?;
    let text = validate_body(post.text, post.media.is_some())?;
    let (conversation, recipient) = match &post.to {
        Recipient::Room(room) => (ConversationId::room(room.as_str()), None),
        Recipient::Person(id) => {
            let recipient = state.store.user(*id).await?.ok_or(ChatError::NoSuchUser)?;
            (ConversationId::pair(sender.id, recipient.id), Some(recipient))
        }
    };
    validate_cid(post.cid)?;
    if post.media.is_some_and(|id| id.is_empty() || id.len() > 64) {
        return Err(ChatError::NoSuchMedia);
    }
    let mut mentions = Mentions::requested(sender.id, post.mentions, post.everyone)?;
    let called = called(state, sender.id, &conversation, &mut mentions).await?;
    let calls_everyone = mentions.everyone.is_some();
    // Who it may notify on a device with no tab open (`server::push`).
    let candidates = match &recipient {
        _ if !state.push.is_on() => Vec::new(),
        Some(recipient) => vec![recipient.id],
        None => called.clone(),
    };
    let pushed_mentions = mentions.clone();
    let room = conversation.room_name();
    let at = now_ms();
    let new = NewMessage {
        conversation: &conversation,
        from: sender,
        to: recipient.as_ref(),
        // Checked in the same transaction as the write.
        members_only: room.is_some_and(|room| room != LOBBY),
        text,
        cid: post.cid,
        at,
        media: post.media,
        reply_to: post.reply_to,
        thread: post.thread,
        mentions,
        called,
        on_commit,
    };
    let inserted = state.store.insert_message(new).await?;
    // Whatever came of it, they are not typing any more.
    state.typing.stopped(&conversation, sender);
    match inserted {
        Insert::Stored { id, seq } => {
            if calls_everyone {
                state.limits.user_called_everyone(sender.id);
            }
            state.push.stored(News {
                conversation: conversation.clone(),
                from: sender.clone(),
                id,
                seq,
                text: text.to_owned(),
                file: post.media.is_some(),
                mentions: pushed_mentions,
                candidates,
            });
            Ok(Posted { ack: MessageAck { id, seq, at }, fresh: true })
        }
        Insert::Duplicate(first) => {
            let same_media = first.media.as_ref().map(|media| media.id.as_str()) == post.media;
            if first.conversation != conversation || first.text != text || !same_media {
                return Err(ChatError::InvalidPayload("this cid was already used for a different message".into()));
            }
            Ok(Posted { ack: MessageAck { id: first.id, seq: first.seq, at: first.at }, fresh: false })
        }
        Insert::MediaRefused => Err(ChatError::NoSuchMedia),
        Insert::ReplyRefused => Err(ChatError::NoSuchMessage),
        Insert::NotAMember => Err(refusal_to_post(state, sender.id, room.unwrap_or_default()).await),
    }
}
