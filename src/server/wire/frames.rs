//! What has been written to a connection, frame by frame ([`FrameTracker`]),
//! and the one frame form RTCA writes itself ([`text_frame`]).

use std::sync::Arc;

/// Follows what is written to a connection: its first response, then, if
/// that was `101 Switching Protocols`, each WebSocket frame, so that a
/// frame of ours goes in only between two.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameTracker {
    /// How much of [`SWITCHING`] the first response has matched.
    Status(usize),
    /// How much of the blank line ending the 101 response's headers is seen.
    Headers(usize),
    /// A frame header, complete once `have` bytes reach its length.
    Header { bytes: [u8; MAX_HEADER], have: usize },
    /// A frame's payload: bytes left, and whether the frame is a Close.
    Payload { remaining: u64, close: bool },
    /// Past a Close frame, a write error or the end: no more frames of ours.
    Closed,
    /// A plain HTTP connection.
    NotWebSocket,
}

const SWITCHING: &[u8] = b"HTTP/1.1 101 ";
const END_OF_HEADERS: &[u8] = b"\r\n\r\n";
/// Two bytes, up to eight of extended length, four of mask.
const MAX_HEADER: usize = 14;
const OPCODE_CLOSE: u8 = 0x8;

impl Default for FrameTracker {
    fn default() -> Self {
        FrameTracker::Status(0)
    }
}

impl FrameTracker {
    pub(super) fn not_websocket() -> Self {
        FrameTracker::NotWebSocket
    }

    /// Accounts for `bytes`, just written.
    pub fn feed(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            match self {
                FrameTracker::Status(matched) => {
                    let want = &SWITCHING[*matched..];
                    let n = want.len().min(bytes.len());
                    if bytes[..n] != want[..n] {
                        *self = FrameTracker::NotWebSocket;
                        return;
                    }
                    *matched += n;
                    bytes = &bytes[n..];
                    if *matched == SWITCHING.len() {
                        *self = FrameTracker::Headers(0);
                    }
                }
                FrameTracker::Headers(matched) => {
                    let mut used = bytes.len();
                    for (i, &byte) in bytes.iter().enumerate() {
                        *matched = match byte {
                            _ if byte == END_OF_HEADERS[*matched] => *matched + 1,
                            b'\r' => 1,
                            _ => 0,
                        };
                        if *matched == END_OF_HEADERS.len() {
                            used = i + 1;
                            break;
                        }
                    }
                    bytes = &bytes[used..];
                    if *matched == END_OF_HEADERS.len() {
                        *self = FrameTracker::boundary();
                    }
                }
                FrameTracker::Header { bytes: header, have } => {
                    let n = (header_len(header, *have) - *have).min(bytes.len());
                    header[*have..*have + n].copy_from_slice(&bytes[..n]);
                    *have += n;
                    bytes = &bytes[n..];
                    if *have >= 2 && *have == header_len(header, *have) {
                        let close = header[0] & 0x0f == OPCODE_CLOSE;
                        *self = FrameTracker::Payload { remaining: payload_len(header), close };
                        self.end_payload_if_done();
                    }
                }
                FrameTracker::Payload { remaining, .. } => {
                    let n = usize::try_from(*remaining).unwrap_or(usize::MAX).min(bytes.len());
                    *remaining -= n as u64;
                    bytes = &bytes[n..];
                    self.end_payload_if_done();
                }
                FrameTracker::Closed | FrameTracker::NotWebSocket => return,
            }
        }
    }

    fn boundary() -> Self {
        FrameTracker::Header { bytes: [0; MAX_HEADER], have: 0 }
    }

    fn end_payload_if_done(&mut self) {
        if let FrameTracker::Payload { remaining: 0, close } = *self {
            *self = if close { FrameTracker::Closed } else { FrameTracker::boundary() };
        }
    }

    /// Between two frames: one of ours may go in now.
    pub fn at_boundary(&self) -> bool {
        matches!(self, FrameTracker::Header { have: 0, .. })
    }

    /// Past the handshake, and not closed.
    pub fn is_websocket(&self) -> bool {
        matches!(self, FrameTracker::Header { .. } | FrameTracker::Payload { .. })
    }

    pub(super) fn is_closed(&self) -> bool {
        matches!(self, FrameTracker::Closed)
    }

    pub(super) fn close(&mut self) {
        if !matches!(self, FrameTracker::NotWebSocket) {
            *self = FrameTracker::Closed;
        }
    }

    /// Bytes that can be written without passing the next boundary (at
    /// least one when not at one).
    pub fn to_boundary(&self) -> usize {
        match self {
            FrameTracker::Header { bytes, have } => header_len(bytes, *have) - *have,
            FrameTracker::Payload { remaining, .. } => usize::try_from(*remaining).unwrap_or(usize::MAX),
            FrameTracker::Status(matched) => SWITCHING.len() - matched,
            FrameTracker::Headers(matched) => END_OF_HEADERS.len() - matched,
            FrameTracker::Closed | FrameTracker::NotWebSocket => usize::MAX,
        }
    }
}

/// A frame header's length, as far as `have` bytes of it tell: two until
/// the second byte gives the length's form and the mask bit.
fn header_len(header: &[u8; MAX_HEADER], have: usize) -> usize {
    if have < 2 {
        return 2;
    }
    let extended = match header[1] & 0x7f {
        126 => 2,
        127 => 8,
        _ => 0,
    };
    let mask = if header[1] & 0x80 != 0 { 4 } else { 0 };
    2 + extended + mask
}

fn payload_len(header: &[u8; MAX_HEADER]) -> u64 {
    match header[1] & 0x7f {
        126 => u64::from(u16::from_be_bytes([header[2], header[3]])),
        127 => {
            u64::from_be_bytes([header[2], header[3], header[4], header[5], header[6], header[7], header[8], header[9]])
        }
        short => u64::from(short),
    }
}

/// One unfragmented, unmasked WebSocket text frame holding `text`, as a
/// server sends it: the same bytes for every recipient.
pub fn text_frame(text: &str) -> Arc<[u8]> {
    let len = text.len();
    let mut frame = Vec::with_capacity(len + 10);
    frame.push(0x80 | 0x1);
    if len < 126 {
        frame.push(len as u8);
    } else if let Ok(short) = u16::try_from(len) {
        frame.push(126);
        frame.extend_from_slice(&short.to_be_bytes());
    } else {
        frame.push(127);
        frame.extend_from_slice(&(len as u64).to_be_bytes());
    }
    frame.extend_from_slice(text.as_bytes());
    frame.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    const RESPONSE: &[u8] = b"HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: upgrade\r\n\
        sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";

    /// A stream as tungstenite would write it: the response, then frames.
    fn stream(frames: &[Arc<[u8]>]) -> (Vec<u8>, Vec<usize>) {
        let mut bytes = RESPONSE.to_vec();
        let mut boundaries = vec![bytes.len()];
        for frame in frames {
            bytes.extend_from_slice(frame);
            boundaries.push(bytes.len());
        }
        (bytes, boundaries)
    }

    fn frames() -> Vec<Arc<[u8]>> {
        vec![
            text_frame("2"),
            text_frame(""),
            text_frame(&"a".repeat(125)),
            text_frame(&"b".repeat(126)),
            text_frame(&"c".repeat(70_000)),
            text_frame("42[\"message\",{}]"),
        ]
    }

    /// Fed in pieces of every size, the tracker is at a boundary exactly
    /// where one frame ends and the next begins.
    #[test]
    fn boundaries_are_found_however_the_writes_are_split() {
        let (bytes, boundaries) = stream(&frames());
        for piece in [1, 2, 3, 7, 13, 126, 4096, bytes.len()] {
            // Pieces across boundaries, as tungstenite writes with nothing of
            // ours waiting.
            let mut tracker = FrameTracker::default();
            for chunk in bytes.chunks(piece) {
                tracker.feed(chunk);
            }
            assert!(tracker.at_boundary(), "pieces of {piece}: {tracker:?}");
            // Pieces cut at boundaries, as with frames of ours waiting.
            let mut tracker = FrameTracker::default();
            let mut seen = Vec::new();
            let mut at = 0;
            while at < bytes.len() {
                let n = piece.min(bytes.len() - at).min(tracker.to_boundary());
                tracker.feed(&bytes[at..at + n]);
                at += n;
                if tracker.at_boundary() {
                    seen.push(at);
                }
                assert!(tracker.is_websocket() || at < RESPONSE.len(), "piece {piece}, at {at}: {tracker:?}");
            }
            assert_eq!(seen, boundaries, "pieces of {piece}");
        }
    }

    #[test]
    fn a_plain_http_response_is_not_a_websocket() {
        let mut tracker = FrameTracker::default();
        tracker.feed(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
        assert_eq!(tracker, FrameTracker::NotWebSocket);
        tracker.feed(&text_frame("x"));
        assert!(!tracker.is_websocket());
    }

    #[test]
    fn nothing_goes_in_after_a_close_frame() {
        let mut tracker = FrameTracker::default();
        tracker.feed(RESPONSE);
        tracker.feed(&text_frame("4"));
        assert!(tracker.at_boundary());
        // Close, with status 1000.
        tracker.feed(&[0x88, 0x02, 0x03, 0xe8]);
        assert_eq!(tracker, FrameTracker::Closed);
    }

    #[test]
    fn a_masked_header_is_measured_with_its_mask() {
        let mut tracker = FrameTracker::default();
        tracker.feed(RESPONSE);
        tracker.feed(&[0x81, 0x83, 1, 2, 3, 4]);
        assert_eq!(tracker.to_boundary(), 3);
        tracker.feed(b"abc");
        assert!(tracker.at_boundary());
    }

    #[test]
    fn text_frames_carry_their_length_in_the_shortest_form() {
        assert_eq!(&text_frame("hi")[..], b"\x81\x02hi");
        assert_eq!(&text_frame(&"x".repeat(300))[..4], &[0x81, 126, 0x01, 0x2c]);
        assert_eq!(&text_frame(&"x".repeat(65_536))[..10], &[0x81, 127, 0, 0, 0, 0, 0, 1, 0, 0]);
    }
}
