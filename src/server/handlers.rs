//! One small function per client event. Each one validates, stores, acks
//! after the commit, then fans out; every error goes back to the client as
//! `{code, message}` and nothing invalid is stored or relayed.

use std::convert::Infallible;
use std::sync::Arc;

use serde::Serialize;
use socketioxide::adapter::LocalAdapter;
use socketioxide::extract::{AckSender, Event, SocketRef, State, TryData};
use socketioxide::handler::{FromMessageParts, Value};
use socketioxide::socket::Socket;

use super::direct;
use super::fanout::Delivery;
use super::identity::{check_not_registered, internal, join_as_guest, now_ms, session_room, start_session};
use super::limits::{Action, ConnectionLimits};
use super::names::name_key;
use super::realtime::{send_or_log, user_room};
use super::rooms::{check_can_read, refusal_to_post};
use super::seat::Seat;
use super::state::AppState;
use super::store::{dm_room, Cursor, Insert, NewMessage, StoredMessage};
use crate::error::{ApiError, ChatError};
use crate::protocol::{
    event, validate_body, validate_cid, validate_name, ConversationList, HistoryPage, HistoryRequest, MessageAck,
    MessageRequest, OnlineAck, OnlineRequest, Reply, SecretRequest, User, HISTORY_PAGE, LOBBY, MAX_CONVERSATIONS,
    MAX_HISTORY_PAGE,
};

/// Answers an event: through its ack when the client asked for one,
/// otherwise errors go out as an `error` event so they are never silent.
/// Acks go straight to a WebSocket (`server::direct`), in order with the
/// live messages and presence that follow them.
pub struct Responder {
    ack: AckSender,
    ack_id: Option<i64>,
    socket: SocketRef,
}

impl FromMessageParts<LocalAdapter> for Responder {
    type Error = Infallible;

    fn from_message_parts(s: &Arc<Socket>, v: &mut Value, ack_id: &Option<i64>) -> Result<Self, Infallible> {
        let ack = <AckSender as FromMessageParts<LocalAdapter>>::from_message_parts(s, v, ack_id)?;
        let socket = <SocketRef as FromMessageParts<LocalAdapter>>::from_message_parts(s, v, ack_id)?;
        Ok(Responder { ack, ack_id: *ack_id, socket })
    }
}

impl Responder {
    /// Acks a posted message and hands back what is to be delivered.
    fn ack_then_deliver<T>(self, result: Result<(MessageAck, Option<T>), ChatError>) -> Option<T> {
        match result {
            Ok((ack, delivery)) => {
                self.send(Ok(ack));
                delivery
            }
            Err(error) => {
                self.send::<MessageAck>(Err(error));
                None
            }
        }
    }

    pub fn send<T: Serialize>(self, result: Result<T, ChatError>) {
        if let Some(id) = self.ack_id {
            direct::ack(&self.socket, self.ack, id, &Reply::from(result));
        } else if let Err(error) = result {
            send_or_log(&self.socket, event::ERROR, &ApiError::from(error));
        }
    }
}

fn seat(s: &SocketRef) -> Seat {
    s.extensions.get::<Seat>().unwrap_or_default()
}

fn connection_limits(s: &SocketRef) -> Option<ConnectionLimits> {
    s.extensions.get::<ConnectionLimits>()
}

/// Spends one of this connection's tokens for `action`.
pub(crate) fn throttle(s: &SocketRef, action: Action) -> Result<(), ChatError> {
    connection_limits(s).map_or(Ok(()), |limits| limits.take(action))
}

/// Who this socket speaks for, if anyone.
pub(crate) fn seat_user(s: &SocketRef) -> Option<User> {
    seat(s).user()
}

pub(crate) fn signed_in(s: &SocketRef) -> Result<User, ChatError> {
    seat(s).user().ok_or(ChatError::NotOnline)
}

pub(crate) fn payload<T>(data: Result<T, impl std::fmt::Display>) -> Result<T, ChatError> {
    data.map_err(|e| ChatError::InvalidPayload(e.to_string()))
}

/// `online {name}`: become a guest named `name`, or rename oneself.
pub async fn online(
    s: SocketRef,
    TryData(request): TryData<OnlineRequest>,
    State(state): State<AppState>,
    reply: Responder,
) {
    let (result, announce) = match go_online(&s, &state, request).await {
        Ok((ack, announce)) => (Ok(ack), announce),
        Err(error) => (Err(error), None),
    };
    let joined = result.is_ok();
    reply.send(result);
    // After the ack, so that the client hears its own `online` (and then
    // the list) after it (`server::direct`).
    if let Some(user) = announce {
        state.presence_feed.online(&user);
    }
    if joined {
        state.presence_feed.snapshot_for(&s);
    }
}

/// The ack, and the user whose `online` everyone is to hear (a newcomer,
/// or a new name), if any.
async fn go_online(
    s: &SocketRef,
    state: &AppState,
    request: Result<OnlineRequest, impl std::fmt::Display>,
) -> Result<(OnlineAck, Option<User>), ChatError> {
    throttle(s, Action::Join)?;
    let request = payload(request)?;
    let seat = seat(s);
    if let Some(current) = seat.user() {
        // Already someone: the same name just renews the token; another name
        // is a rename, which everyone sees as an `online` for the same id.
        // Only guests rename, and never to a registered name.
        let name = validate_name(request.name())?;
        let mut user = current.clone();
        let mut announce = None;
        if name != current.name {
            if state.store.is_registered(current.id).await.map_err(internal)? {
                return Err(ChatError::MemberRename);
            }
            let key = name_key(name);
            check_not_registered(state, &key).await?;
            user.name = name.to_owned();
            seat.rename(&user, &state.presence)?;
            state.store.rename_user(user.id, name, &key).await.map_err(internal)?;
            announce = Some(user.clone());
        }
        let token = start_session(state, &user).await.map_err(internal)?;
        s.join(session_room(&token));
        return Ok((OnlineAck { user, token }, announce));
    }

    let limits = connection_limits(s);
    let (user, token) = join_as_guest(state, request.name(), limits.as_ref().and_then(|l| l.address())).await?;
    // Checked again under the seat's lock: the name may have been taken, or
    // the socket closed, while the database worked.
    let came_online = seat.sit(&user, &state.presence)?;
    if let Some(limits) = limits {
        limits.assign_user(user.id);
    }
    s.join(user_room(user.id));
    s.join(session_room(&token));
    let announce = came_online.then(|| user.clone());
    Ok((OnlineAck { user, token }, announce))
}

/// `message {text, cid, room?}`: post to a room.
pub async fn message(
    s: SocketRef,
    TryData(request): TryData<MessageRequest>,
    State(state): State<AppState>,
    reply: Responder,
) {
    // Held until the ack is out; taken after the cheap refusals, so a flood
    // is turned away at once instead of queueing for a place.
    let mut _in_flight = None;
    let result = async {
        throttle(&s, Action::Send)?;
        let user = signed_in(&s)?;
        _in_flight = in_flight(&s).await;
        post_message(&state, &user, &payload(request)?).await
    };
    let result = result.await;
    if let Some(delivery) = reply.ack_then_deliver(result) {
        state.fanout.deliver(delivery).await;
    }
}

/// Holds one of this connection's places for a message being stored.
async fn in_flight(s: &SocketRef) -> Option<tokio::sync::OwnedSemaphorePermit> {
    connection_limits(s)?.posting().await
}

/// Validates and stores `user`'s room message; returns the ack, and the
/// message to deliver unless it was a retry. Shared by the socket event and
/// the form post that works without JavaScript.
pub async fn post_message(
    state: &AppState,
    user: &User,
    request: &MessageRequest,
) -> Result<(MessageAck, Option<Delivery>), ChatError> {
    state.limits.user_sends(user.id)?;
    let text = validate_body(&request.text, request.media.is_some())?;
    let room = request.room.as_deref().unwrap_or(LOBBY);
    let new = NewMessage {
        room,
        from: user,
        to: None,
        // Checked in the same transaction as the write.
        members_only: room != LOBBY,
        text,
        cid: request.cid.as_deref(),
        at: now_ms(),
        media: request.media.as_deref(),
    };
    let (ack, stored) = store(state, new).await?;
    Ok((ack, stored.map(|message| Delivery::Room(message.into_chat()))))
}

/// `secret {to, text, cid}`: a private message, delivered to the two
/// parties' sockets only.
pub async fn secret(
    s: SocketRef,
    TryData(request): TryData<SecretRequest>,
    State(state): State<AppState>,
    reply: Responder,
) {
    let mut _in_flight = None;
    let result = async {
        throttle(&s, Action::Send)?;
        let user = signed_in(&s)?;
        _in_flight = in_flight(&s).await;
        post_secret_as(&state, &user, &payload(request)?).await
    };
    if let Some(delivery) = reply.ack_then_deliver(result.await) {
        state.fanout.deliver(delivery).await;
    }
}

/// Validates and stores `user`'s private message; returns the ack, and the
/// message to deliver unless it was a retry. Shared by the socket event and
/// the form post that works without JavaScript.
pub async fn post_secret_as(
    state: &AppState,
    user: &User,
    request: &SecretRequest,
) -> Result<(MessageAck, Option<Delivery>), ChatError> {
    state.limits.user_sends(user.id)?;
    let text = validate_body(&request.text, request.media.is_some())?;
    let recipient = state.store.user(request.to).await.map_err(internal)?.ok_or(ChatError::NoSuchUser)?;
    let room = dm_room(user.id, recipient.id);
    let new = NewMessage {
        room: &room,
        from: user,
        to: Some(&recipient),
        members_only: false,
        text,
        cid: request.cid.as_deref(),
        at: now_ms(),
        media: request.media.as_deref(),
    };
    let (ack, stored) = store(state, new).await?;
    Ok((ack, stored.and_then(StoredMessage::into_secret).map(Delivery::Private)))
}

/// Stores a message and returns its ack, plus the message itself unless
/// this was a retry of one already delivered. A reused `cid` must be a true
/// retry (same conversation, same text, same file); anything else is a
/// client bug. A file must be an upload of the sender's that no other
/// message carries.
async fn store(state: &AppState, new: NewMessage<'_>) -> Result<(MessageAck, Option<StoredMessage>), ChatError> {
    validate_cid(new.cid)?;
    if new.media.is_some_and(|id| id.is_empty() || id.len() > 64) {
        return Err(ChatError::NoSuchMedia);
    }
    let (room, text, media, sender) = (new.room, new.text, new.media, new.from.id);
    let (message, fresh) = match state.store.insert_message(new).await.map_err(internal)? {
        Insert::Stored(message) => (message, true),
        Insert::Duplicate(first) => {
            let same_media = first.media.as_ref().map(|media| media.id.as_str()) == media;
            if first.room != room || first.text != text || !same_media {
                return Err(ChatError::InvalidPayload("this cid was already used for a different message".into()));
            }
            (first, false)
        }
        Insert::MediaRefused => return Err(ChatError::NoSuchMedia),
        Insert::NotAMember => return Err(refusal_to_post(state, sender, room).await),
    };
    let ack = MessageAck { id: message.id, seq: message.seq, at: message.at };
    Ok((ack, fresh.then_some(message)))
}

/// `history {room?, with?, before?, after?, limit?}`: a page of a
/// conversation the caller may read — the lobby or a public room (anyone),
/// a private room (its members), or their own private conversation with
/// `with`. A private conversation is derived from the caller's identity, so
/// no request can name someone else's.
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
    let (room, private) = match (request.room.as_deref(), request.with) {
        (Some(_), Some(_)) => return Err(ChatError::InvalidPayload("give `room` or `with`, not both".into())),
        (None, Some(peer)) => (dm_room(signed_in(s)?.id, peer), true),
        (room, None) => {
            let room = room.unwrap_or(LOBBY);
            check_can_read(state, seat_user(s).map(|u| u.id), room).await?;
            (room.to_owned(), false)
        }
    };
    // One more than asked says whether there is more.
    let mut rows = match cursor {
        Some(cursor) => state.store.page(&room, cursor, limit + 1).await,
        None => state.store.recent(&room, limit + 1).await,
    }
    .map_err(internal)?;
    let more = rows.len() > limit;
    if more {
        // Keep the `limit` nearest the cursor (or the newest, with none).
        match cursor {
            Some(Cursor::After(_)) => rows.truncate(limit),
            _ => drop(rows.remove(0)),
        }
    }
    let epoch = state.history_epoch.to_string();
    Ok(if private {
        HistoryPage {
            secrets: rows.into_iter().filter_map(StoredMessage::into_secret).collect(),
            more,
            epoch,
            ..Default::default()
        }
    } else {
        HistoryPage {
            messages: rows.into_iter().map(StoredMessage::into_chat).collect(),
            more,
            epoch,
            ..Default::default()
        }
    })
}

/// `conversations`: the caller's private conversations, most recent first,
/// each with its newest `seq`. A resuming client compares these with what
/// it has, so it also learns of conversations someone started while it was
/// away.
pub async fn conversations(s: SocketRef, State(state): State<AppState>, reply: Responder) {
    let list = async {
        throttle(&s, Action::Read)?;
        let me = signed_in(&s)?;
        let conversations = state.store.conversations(me.id, MAX_CONVERSATIONS).await.map_err(internal)?;
        Ok(ConversationList { conversations })
    };
    reply.send(list.await);
}

/// `presence` (no payload): the list of everyone online again, as a
/// `presence` event with the next flush, for a client that saw a batch of
/// changes skipped. Acked `{ok: true}` at once.
pub async fn presence(s: SocketRef, State(state): State<AppState>, reply: Responder) {
    let result = throttle(&s, Action::Read);
    let accepted = result.is_ok();
    reply.send(result);
    if accepted {
        state.presence_feed.snapshot_for(&s);
    }
}

/// Any event we do not know.
pub async fn unknown_event(s: SocketRef, Event(name): Event, reply: Responder) {
    let name: String = name.chars().take(64).collect();
    let error = throttle(&s, Action::Other).err().unwrap_or(ChatError::UnknownEvent(name));
    reply.send::<()>(Err(error));
}
