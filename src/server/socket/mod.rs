//! The socketioxide layer's pieces that everything above builds on: the
//! transport's limits ([`builder`]), the names of the Socket.IO rooms
//! sockets join ([`keys`]), which user a socket speaks for ([`seat`]), who
//! is online across tabs ([`presence`]) and when each user was last seen
//! ([`last_seen`]), and the copied request head ([`head`]). The events a socket can send are registered in
//! `server::events`.

pub mod head;
pub mod keys;
pub mod last_seen;
pub mod presence;
pub mod seat;

use socketioxide::{ParserConfig, SocketIo, SocketIoBuilder};

use super::config::Config;

/// Where Socket.IO requests arrive (socketioxide's default path).
pub const SOCKET_PATH: &str = "/socket.io";

/// How the `session` event's frame begins. A connection takes direct
/// writes (`delivery::wire`) only once that frame has gone out through
/// socketioxide's writer: by then so has CONNECT, queued before it, and the
/// client knows who it is before any live message reaches it.
pub const DIRECT_WRITES_AFTER: &[u8] = b"42[\"session\",";

/// A WebSocket's read buffer, in bytes (see [`builder`]).
const WS_READ_BUFFER: usize = 1024;

/// The Socket.IO layer's builder, with the transport's limits set.
pub fn builder(config: &Config) -> SocketIoBuilder {
    let max_packet = config.max_packet_bytes;
    SocketIo::builder()
        // Bound what one client can make us buffer, on both transports.
        .max_payload(max_packet as u64)
        .ws_max_message_size(max_packet)
        .ws_max_frame_size(max_packet)
        .max_buffer_size(config.socket_buffer)
        // Each WebSocket keeps its read buffer for life. A client's frames
        // are small (a ping, an event), and a longer one is read whole
        // anyway: tungstenite grows the buffer to a frame's announced
        // length. 1 KiB instead of the default 4 saves 3 KiB a connection
        // (finding 27).
        .ws_read_buffer_size(WS_READ_BUFFER)
        .ping_interval(config.ping_interval)
        .ping_timeout(config.ping_timeout)
        // A session that never sends CONNECT is dropped soon (the default
        // is 45 s); `http::handshake` bounds how many one address opens.
        .connect_timeout(config.connect_timeout)
        // RTCA's events carry no binary attachments (files go up over
        // HTTP). socketioxide would otherwise buffer up to 10 MB of them
        // per socket, for up to a minute, before any handler or rate limit
        // sees the packet: a packet announcing any is refused, and its
        // connection closed, before a byte of them is kept.
        .with_parser(ParserConfig::common().max_incoming_binaries(0).max_incoming_binary_buf_size(0))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::protocol::{event, SessionInfo};

    #[test]
    fn direct_writes_wait_for_the_session_frame_as_encoded() {
        let frame = crate::engine_io::encode_event(event::SESSION, &SessionInfo { user: None }, None).unwrap();
        assert!(frame.as_bytes().starts_with(DIRECT_WRITES_AFTER), "{frame}");
    }
}
