//! Chatting: `message` (to a room) and `secret` (to one person), which are
//! one post in two wire shapes; `history` and `conversations` to read back.
//!
//! A message's ack leaves with the committed message itself, from the
//! delivery task (`delivery::fanout`), so that on the sender's socket the
//! ack always comes before the message it acks. Only a retry or a refusal,
//! which deliver nothing, is answered from here.

use socketioxide::extract::{SocketRef, State, TryData};

use super::context::{connection_limits, in_flight, payload, seat_user, signed_in, throttle, AckSlot, Responder};
use crate::error::ChatError;
use crate::protocol::{
    ConversationList, HistoryPage, HistoryRequest, InThread, MessageAck, MessageRequest, SecretRequest, HISTORY_PAGE,
    LOBBY, MAX_CONVERSATIONS, MAX_HISTORY_PAGE,
};
use crate::server::chat::access::conversation_to_read;
use crate::server::chat::history;
use crate::server::chat::post::{post, Post, Posted, Recipient};
use crate::server::limits::Action;
use crate::server::state::AppState;
use crate::server::store::Cursor;

/// `message {text, cid, room?, media?}`: post to a room.
pub async fn message(
    s: SocketRef,
    TryData(request): TryData<MessageRequest>,
    State(state): State<AppState>,
    reply: Responder,
) {
    posted(&s, &state, reply, request).await;
}

/// `secret {to, text, cid?, media?}`: a private message, delivered to the
/// two parties' sockets only.
pub async fn secret(
    s: SocketRef,
    TryData(request): TryData<SecretRequest>,
    State(state): State<AppState>,
    reply: Responder,
) {
    posted(&s, &state, reply, request).await;
}

/// The wire shapes of a post.
trait WirePost {
    fn post(&self) -> Post<'_>;
}

impl WirePost for MessageRequest {
    fn post(&self) -> Post<'_> {
        let to = Recipient::Room(self.room.clone().unwrap_or_else(|| LOBBY.to_owned()));
        Post {
            to,
            text: &self.text,
            cid: self.cid.as_deref(),
            media: self.media.as_deref(),
            reply_to: self.reply_to,
            thread: in_thread(self.thread, self.also_to_conversation),
            mentions: &self.mentions,
            everyone: self.everyone,
        }
    }
}

impl WirePost for SecretRequest {
    fn post(&self) -> Post<'_> {
        Post {
            to: Recipient::Person(self.to),
            text: &self.text,
            cid: self.cid.as_deref(),
            media: self.media.as_deref(),
            reply_to: self.reply_to,
            thread: in_thread(self.thread, self.also_to_conversation),
            mentions: &self.mentions,
            everyone: self.everyone,
        }
    }
}

fn in_thread(root: Option<i64>, in_conversation: bool) -> Option<InThread> {
    root.map(|root| InThread { root, in_conversation })
}

/// One post, whichever shape it came in.
async fn posted(
    s: &SocketRef,
    state: &AppState,
    reply: Responder,
    request: Result<impl WirePost, impl std::fmt::Display>,
) {
    let ack = AckSlot::new(reply);
    let result = async {
        throttle(s, Action::Send)?;
        let sender = signed_in(s)?;
        let on_commit = ack.on_commit(in_flight(s).await, |message| MessageAck {
            id: message.id,
            seq: message.seq,
            at: message.at,
        });
        post(state, &sender, payload(request)?.post(), Some(on_commit)).await
    };
    let answer = match result.await {
        Ok(Posted { fresh: true, .. }) => None,
        Ok(Posted { ack, .. }) => Some(Ok(ack)),
        Err(error) => Some(Err(error)),
    };
    ack.settle(answer);
}

/// `history {room?, with?, before?, after?, limit?}`: a page of a
/// conversation the caller may read — the lobby or a public room (anyone),
/// a private room (its members), or their own private conversation with
/// `with`.
pub async fn history(
    s: SocketRef,
    TryData(request): TryData<HistoryRequest>,
    State(state): State<AppState>,
    reply: Responder,
) {
    reply.send(read_history(&s, &state, request).await);
}

async fn read_history(
    s: &SocketRef,
    state: &AppState,
    request: Result<HistoryRequest, impl std::fmt::Display>,
) -> Result<HistoryPage, ChatError> {
    throttle(s, Action::Read)?;
    let request = payload(request)?;
    let limit = request.limit.unwrap_or(HISTORY_PAGE);
    if limit == 0 || limit > MAX_HISTORY_PAGE {
        return Err(ChatError::InvalidPayload(format!("limit must be 1 to {MAX_HISTORY_PAGE}")));
    }
    let cursor = match (request.before, request.after) {
        (Some(_), Some(_)) => return Err(ChatError::InvalidPayload("give `before` or `after`, not both".into())),
        (Some(seq), None) => Some(Cursor::Before(seq)),
        (None, Some(seq)) => Some(Cursor::After(seq)),
        (None, None) => None,
    };
    let reader = seat_user(s)?.map(|user| user.id);
    let conversation = conversation_to_read(state, reader, request.room.as_deref(), request.with).await?;
    let address = connection_limits(s).and_then(|limits| limits.address());
    let page = match request.thread {
        Some(root) if request.before.is_some() => {
            return Err(ChatError::InvalidPayload(format!("a thread {root} is read forward, with `after`")))
        }
        Some(root) => history::thread(state, address, &conversation, root, request.after.unwrap_or(0), limit).await?,
        None => history::page(state, address, &conversation, cursor, limit).await?,
    };
    Ok(HistoryPage::of(page.messages, page.more, state.history_epoch.to_string(), page.changes))
}

/// `conversations`: the caller's private conversations, most recent first,
/// each with its newest `seq`. A resuming client compares these with what
/// it has, so it also learns of conversations someone started while it was
/// away.
pub async fn conversations(s: SocketRef, State(state): State<AppState>, reply: Responder) {
    let list = async {
        throttle(&s, Action::Read)?;
        let me = signed_in(&s)?;
        let conversations = state.store.conversations(me.id, MAX_CONVERSATIONS).await?;
        Ok(ConversationList { conversations })
    };
    reply.send(list.await);
}
