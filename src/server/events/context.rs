//! What a handler knows about its socket: the [`Responder`] that answers
//! it, who the socket speaks for (its seat), and its limits. All of it is
//! put in place by `connect::identify` before any handler can run.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use serde::Serialize;
use socketioxide::adapter::LocalAdapter;
use socketioxide::extract::{AckSender, SocketRef};
use socketioxide::handler::{FromMessageParts, Value};
use socketioxide::socket::Socket;
use tokio::sync::OwnedSemaphorePermit;

use crate::error::{ApiError, ChatError};
use crate::protocol::{event, Message, Reply, User};
use crate::server::delivery;
use crate::server::limits::{Action, ConnectionLimits};
use crate::server::socket::seat::Seat;
use crate::server::store::OnCommit;

/// Answers an event: through its ack when the client asked for one,
/// otherwise errors go out as an `error` event so they are never silent.
/// Acks go straight to a WebSocket (`delivery::direct`), in order with the
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
    pub fn send<T: Serialize>(self, result: Result<T, ChatError>) {
        if let Some(id) = self.ack_id {
            delivery::ack(&self.socket, self.ack, id, &Reply::from(result));
        } else if let Err(error) = result {
            delivery::to_socket(&self.socket, event::ERROR, &ApiError::from(error));
        }
    }
}

/// The [`Responder`] of a write that the store commits (a message, a
/// change to one), answered exactly once: by the commit (through
/// [`AckSlot::on_commit`]), or else by [`AckSlot::settle`].
pub struct AckSlot(Arc<Mutex<Option<Responder>>>);

impl AckSlot {
    pub fn new(reply: Responder) -> AckSlot {
        AckSlot(Arc::new(Mutex::new(Some(reply))))
    }

    fn take(slot: &Mutex<Option<Responder>>) -> Option<Responder> {
        slot.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).take()
    }

    /// Acks with `body(message)` once committed. `place` (one of the
    /// connection's writes in flight) is held until then.
    pub fn on_commit<T: Serialize + 'static>(
        &self,
        place: Option<OwnedSemaphorePermit>,
        body: fn(&Message) -> T,
    ) -> OnCommit {
        let slot = Arc::clone(&self.0);
        Box::new(move |message| {
            if let Some(reply) = AckSlot::take(&slot) {
                reply.send(Ok(body(message)));
            }
            drop(place);
        })
    }

    /// Answers what the commit did not (`None`: it did): a write that
    /// changed nothing, or a refusal.
    pub fn settle<T: Serialize>(self, answer: Option<Result<T, ChatError>>) {
        // Taken only to answer: the commit may not have run yet.
        let Some(answer) = answer else { return };
        if let Some(reply) = AckSlot::take(&self.0) {
            reply.send(answer);
        }
    }
}

/// The session token a socket was identified by (its `auth.token`, its
/// cookie, or its `online`'s ack), so that `online` again on the same
/// socket renews that session instead of starting another.
#[derive(Clone)]
pub struct SessionToken(pub String);

pub fn session_token(s: &SocketRef) -> Option<String> {
    s.extensions.get::<SessionToken>().map(|SessionToken(token)| token)
}

/// The socket's seat. `connect::identify` gives every socket one before
/// registering its handlers, so a handler that finds none has met a bug:
/// it says so in the log and answers `internal`, rather than act for a
/// seat nobody else can see (a user it would leave online for good).
pub fn seat(s: &SocketRef) -> Result<Seat, ChatError> {
    required(s.extensions.get::<Seat>(), &s.id)
}

/// The seat found, or the loud failure of finding none (never a fresh one).
fn required(found: Option<Seat>, sid: &dyn std::fmt::Display) -> Result<Seat, ChatError> {
    found.ok_or_else(|| {
        tracing::error!(%sid, "a socket has no seat");
        ChatError::Internal
    })
}

/// Who this socket speaks for, if anyone.
pub fn seat_user(s: &SocketRef) -> Result<Option<User>, ChatError> {
    Ok(seat(s)?.user())
}

/// Who this socket speaks for; `not_online` if nobody.
pub fn signed_in(s: &SocketRef) -> Result<User, ChatError> {
    seat_user(s)?.ok_or(ChatError::NotOnline)
}

pub fn connection_limits(s: &SocketRef) -> Option<ConnectionLimits> {
    s.extensions.get::<ConnectionLimits>()
}

/// Spends one of this connection's tokens for `action`.
pub fn throttle(s: &SocketRef, action: Action) -> Result<(), ChatError> {
    connection_limits(s).map_or(Ok(()), |limits| limits.take(action))
}

/// Holds one of this connection's places for a message being stored.
pub async fn in_flight(s: &SocketRef) -> Option<OwnedSemaphorePermit> {
    connection_limits(s)?.posting().await
}

/// A payload that did not parse is `invalid_payload`, with why.
pub fn payload<T>(data: Result<T, impl std::fmt::Display>) -> Result<T, ChatError> {
    data.map_err(|e| ChatError::InvalidPayload(e.to_string()))
}

/// An event's first argument, or `None` when it was sent with none
/// (`socket.emit("rooms", ack)`) or with `null`: use as
/// `TryData<FirstArg<T>>`. socketioxide's `Data<T>` reads the first
/// argument only and refuses an event without one ("first element not
/// found"). DEPENDENCY: socketioxide-parser-common hands a type that
/// deserializes as a tuple the whole argument list instead
/// (`value::from_value`, `is_de_tuple`), which is what this is; the
/// interop tests send `rooms` with no argument, so a change there fails
/// them.
pub struct FirstArg<T>(pub Option<T>);

impl<'de, T: serde::Deserialize<'de>> serde::Deserialize<'de> for FirstArg<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Arguments<T>(std::marker::PhantomData<T>);
        impl<'de, T: serde::Deserialize<'de>> serde::de::Visitor<'de> for Arguments<T> {
            type Value = FirstArg<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an event's arguments")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut args: A) -> Result<FirstArg<T>, A::Error> {
                let first = args.next_element::<Option<T>>()?.flatten();
                while args.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(FirstArg(first))
            }
        }
        deserializer.deserialize_tuple(1, Arguments(std::marker::PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_socket_without_a_seat_is_an_error_not_a_new_seat() {
        assert!(matches!(required(None, &"sid"), Err(ChatError::Internal)));
        let seat = Seat::default();
        seat.restore(User { id: 1, name: "alice".into() });
        assert_eq!(required(Some(seat), &"sid").map(|seat| seat.user().map(|u| u.id)), Ok(Some(1)));
    }
}
