//! How what goes out reaches WebSockets: live messages (`fanout`), presence
//! (`presence_feed`), acks, and everything else `Outbound` sends. Each is
//! encoded and framed once, then written straight to every WebSocket
//! connection through `wire`: no channel, task or copy per recipient. Sockets on
//! long-polling, or upgraded from it, get the same events through
//! socketioxide.
//!
//! Why (findings 25 and 27 in `docs/performance.md`): through socketioxide,
//! each recipient costs a packet in its channel, a woken writer task and a
//! copy into its connection's tungstenite buffer, and that buffer keeps its
//! largest burst (a storm's presence lists and batches) for the
//! connection's life. A frame written here is one buffer shared by every
//! recipient, freed once the last one has it.
//!
//! Order: on a WebSocket, what goes through here arrives in the order it
//! was sent here, after the socket's `session` (the wire's opener). It may
//! overtake what socketioxide still holds for the socket: an `error` event
//! (`to_socket`). Since acks go through here too, an ack sent
//! before what its request set off still arrives first: the sender's own
//! message after its `message` ack; its own `online` change, then the
//! presence list, after `online`'s (`events::presence::online` announces the
//! change only once it has acked).

use std::sync::Arc;

use axum::extract::ConnectInfo;
use serde::Serialize;
use serde_json::value::RawValue;
use socketioxide::extract::{AckSender, SocketRef};
use socketioxide::operators::BroadcastOperators;
use socketioxide::TransportType;

use super::backlog;
use super::wire::{self, Peer, Sent, Wire};
use crate::engine_io::{encode_ack, encode_event};

/// One event to send: its name and its payload, already serialised.
pub type Event<'a> = (&'a str, &'a RawValue);

/// Recipients handled between two yields to the runtime, so that a large
/// room does not hold a worker thread for the whole of its fan-out.
const WRITES_PER_YIELD: usize = 64;

/// Sends `events`, in order, to every recipient. With `direct`, they are
/// encoded and framed once, into one buffer that goes out in one write per
/// WebSocket connection; without it (`RTCA_DIRECT_WRITES=false`), each is
/// one socketioxide broadcast, as before finding 25. Returns how many
/// sockets were handed them, and what went wrong, if anything.
pub async fn broadcast(
    recipients: BroadcastOperators,
    events: &[Event<'_>],
    direct: bool,
) -> (usize, Result<(), String>) {
    if !direct {
        let reached = recipients.clone().sockets().len();
        let mut failed = Vec::new();
        for &(event, data) in events {
            if let Err(error) = recipients.clone().emit(event, data).await {
                failed.push(format!("{event}: {error:?}"));
            }
        }
        return (reached, if failed.is_empty() { Ok(()) } else { Err(failed.join("; ")) });
    }
    let sockets = recipients.sockets();
    if sockets.is_empty() {
        // Often so for the classic presence events: nobody to encode for.
        return (0, Ok(()));
    }
    let mut frames = Vec::new();
    for &(event, data) in events {
        match encode_event(event, data, None) {
            Ok(packet) => wire::push_text_frame(&mut frames, &packet),
            Err(error) => return (0, Err(error.to_string())),
        }
    }
    let frames: Arc<[u8]> = frames.into();
    // Finding each socket's connection first, in a loop of plain loads,
    // lets the CPU overlap the cache misses of many sockets; between two
    // writes (syscalls) they would be paid one at a time (finding 25).
    let wires: Vec<Option<&Arc<Wire>>> = sockets.iter().map(wire_of).collect();
    // What one recipient through socketioxide is handed, about (its packet
    // framing aside), for its backlog.
    let through_socketioxide = || events.iter().map(|(event, data)| event.len() + data.get().len()).sum::<usize>();
    let (mut reached, mut dropped, mut failed) = (0usize, 0usize, 0usize);
    for (n, (socket, wire)) in sockets.iter().zip(wires).enumerate() {
        if n % WRITES_PER_YIELD == WRITES_PER_YIELD - 1 {
            tokio::task::yield_now().await;
        }
        // Again: the socket may have gone during a yield.
        if !socket.connected() {
            continue;
        }
        match wire.map_or(Sent::NotDirect, |wire| wire.send(&frames)) {
            Sent::Yes => reached += 1,
            Sent::Dropped => dropped += 1,
            Sent::NotDirect if !backlog::admit(socket, through_socketioxide) => dropped += 1,
            Sent::NotDirect => {
                let before = failed;
                for &(event, data) in events {
                    failed += usize::from(socket.emit(event, data).is_err());
                }
                reached += usize::from(failed == before);
            }
        }
    }
    match (dropped, failed) {
        (0, 0) => (reached, Ok(())),
        _ => (reached, Err(format!("{dropped} direct writes dropped, {failed} emits failed"))),
    }
}

/// Answers the client's event `id` with `reply`: straight to its
/// WebSocket, or through socketioxide (`fallback`) where it cannot.
/// Failures are only logged: the socket is gone or too slow, which is not
/// the handler's problem.
pub fn ack<T: Serialize>(socket: &SocketRef, fallback: AckSender, id: i64, reply: &T) {
    // Ids are never negative (socketioxide reads only digits); one that
    // were would simply take socketioxide's path.
    let sent = match (wire_of(socket), u64::try_from(id)) {
        (Some(wire), Ok(id)) => match encode_ack(id, reply) {
            Ok(packet) => wire.send(&wire::text_frame(&packet)),
            // socketioxide will fail the same way, and say so.
            Err(_) => Sent::NotDirect,
        },
        _ => Sent::NotDirect,
    };
    match sent {
        Sent::Yes => {}
        Sent::Dropped => tracing::debug!(sid = %socket.id, "ack dropped: the connection is full or gone"),
        Sent::NotDirect => match serde_json::value::to_raw_value(reply) {
            // Encoded once: its length is what the socket's backlog counts.
            Ok(reply) if !backlog::admit(socket, || reply.get().len()) => {
                tracing::debug!(sid = %socket.id, "ack dropped: the session is over its budget");
            }
            Ok(reply) => {
                if let Err(error) = fallback.send(&reply) {
                    tracing::debug!(sid = %socket.id, ?error, "ack not delivered");
                }
            }
            Err(error) => tracing::warn!(sid = %socket.id, %error, "an ack could not be encoded"),
        },
    }
}

/// The connection of a connected WebSocket socket. For one upgraded from
/// long-polling it is the polling request's connection, which answers
/// `Sent::NotDirect`: such sockets go through socketioxide.
fn wire_of(socket: &SocketRef) -> Option<&Arc<Wire>> {
    if !socket.connected() || socket.transport_type() != TransportType::Websocket {
        return None;
    }
    socket.req_parts().extensions.get::<ConnectInfo<Peer>>().map(|info| &info.0.wire)
}
