//! What a socket can ask for: one small handler per client event, grouped
//! by what they touch (`chat`, `changes`, `mentions`, `presence`, `push`,
//! `reading`, `rooms`, `search`, `typing`), and `connect` for a socket's
//! arrival and departure. Handlers stay thin: they read the
//! request, call the rules in `server::chat`, and answer through their
//! [`Responder`].
//!
//! [`on`] is the registration table. It runs in the connect middleware,
//! before socketioxide sends the namespace CONNECT: a client that emits
//! right after connecting (the prototype's does) could otherwise lose that
//! event.

mod changes;
mod chat;
mod connect;
mod context;
mod mentions;
mod presence;
mod push;
mod reading;
mod rooms;
mod search;
mod typing;

use socketioxide::extract::{Event, SocketRef};
use socketioxide::handler::ConnectHandler;
use socketioxide::SocketIo;

pub use context::Responder;

use self::context::throttle;
use crate::error::ChatError;
use crate::protocol::event;
use crate::server::limits::Action;

/// Serves the default namespace: every socket is identified as it
/// connects ([`connect::identify`]), then greeted ([`connect::connected`]).
pub fn serve(io: &SocketIo) {
    io.ns("/", connect::connected.with(connect::identify));
}

/// The table: which handler answers which event.
fn on(s: &SocketRef) {
    s.on(event::ONLINE, presence::online);
    s.on(event::PRESENCE, presence::presence);
    s.on(event::MESSAGE, chat::message);
    s.on(event::SECRET, chat::secret);
    s.on(event::HISTORY, chat::history);
    s.on(event::CONVERSATIONS, chat::conversations);
    s.on(event::ROOMS, rooms::list);
    s.on(event::CREATE_ROOM, rooms::create);
    s.on(event::JOIN_ROOM, rooms::join);
    s.on(event::LEAVE_ROOM, rooms::leave);
    s.on(event::INVITE, rooms::invite);
    s.on(event::ROOM_MEMBERS, rooms::members);
    s.on(event::EDIT, changes::edit);
    s.on(event::DELETE, changes::delete);
    s.on(event::REACT, changes::react);
    s.on(event::CHANGES, changes::changes);
    s.on(event::TYPING, typing::typing);
    s.on(event::READ, reading::read);
    s.on(event::READS, reading::reads);
    s.on(event::NOTIFY, reading::notify);
    s.on(event::PUSH_SUBSCRIBE, push::subscribe);
    s.on(event::PUSH_UNSUBSCRIBE, push::unsubscribe);
    s.on(event::SEARCH, search::search);
    s.on(event::MENTIONS, mentions::mentions);
    s.on_fallback(unknown);
    s.on_disconnect(connect::disconnected);
}

/// Any event we do not know.
async fn unknown(s: SocketRef, Event(name): Event, reply: Responder) {
    let name: String = name.chars().take(64).collect();
    let error = throttle(&s, Action::Other).err().unwrap_or(ChatError::UnknownEvent(name));
    reply.send::<()>(Err(error));
}
