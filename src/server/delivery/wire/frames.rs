//! What has been written to a connection, frame by frame ([`FrameTracker`]),
//! and the one frame form RTCA writes itself ([`text_frame`]).

use std::sync::Arc;

/// Follows what is written to a connection: its first response, then, if
/// that was `101 Switching Protocols`, each WebSocket frame, so that a
/// frame of ours goes in only between two whole messages, and only once
/// the frame that opens the way (the `opener`) has gone by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameTracker {
    phase: Phase,
    /// Inside a message sent in fragments: nothing goes in before its last.
    fragmented: bool,
    /// What the payload of the frame that opens the way starts with, until
    /// it has gone by (then `None`).
    opener: Option<&'static [u8]>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// How much of [`SWITCHING`] the first response has matched.
    Status(usize),
    /// How much of the blank line ending the 101 response's headers is seen.
    Headers(usize),
    /// A frame header, complete once `have` bytes reach its length.
    Header { bytes: [u8; MAX_HEADER], have: usize },
    /// A frame's payload: bytes left; whether the frame is a Close; while it
    /// may still be the opener, how much of it matches.
    Payload { remaining: u64, close: bool, opener_matched: Option<usize> },
    /// Past a Close frame, a write error or the end: no more frames of ours.
    Closed,
    /// A plain HTTP connection, or direct writes are off.
    NotWebSocket,
}

const SWITCHING: &[u8] = b"HTTP/1.1 101 ";
const END_OF_HEADERS: &[u8] = b"\r\n\r\n";
/// Two bytes, up to eight of extended length, four of mask.
const MAX_HEADER: usize = 14;
const OPCODE_CONTINUATION: u8 = 0x0;
const OPCODE_TEXT: u8 = 0x1;
const OPCODE_BINARY: u8 = 0x2;
const OPCODE_CLOSE: u8 = 0x8;
const FIN: u8 = 0x80;

impl FrameTracker {
    /// A new connection, whose frames of ours wait for a text frame whose
    /// payload starts with `opener`.
    pub fn watching(opener: &'static [u8]) -> Self {
        FrameTracker { phase: Phase::Status(0), fragmented: false, opener: Some(opener) }
    }

    pub(super) fn not_websocket() -> Self {
        FrameTracker { phase: Phase::NotWebSocket, fragmented: false, opener: None }
    }

    /// Accounts for `bytes`, just written.
    pub fn feed(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            match &mut self.phase {
                Phase::Status(matched) => {
                    let want = &SWITCHING[*matched..];
                    let n = want.len().min(bytes.len());
                    if bytes[..n] != want[..n] {
                        self.phase = Phase::NotWebSocket;
                        return;
                    }
                    *matched += n;
                    bytes = &bytes[n..];
                    if *matched == SWITCHING.len() {
                        self.phase = Phase::Headers(0);
                    }
                }
                Phase::Headers(matched) => {
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
                        self.phase = Phase::boundary();
                    }
                }
                Phase::Header { bytes: header, have } => {
                    let n = (header_len(header, *have) - *have).min(bytes.len());
                    header[*have..*have + n].copy_from_slice(&bytes[..n]);
                    *have += n;
                    bytes = &bytes[n..];
                    if *have >= 2 && *have == header_len(header, *have) {
                        let header = *header;
                        self.start_payload(&header);
                    }
                }
                Phase::Payload { remaining, opener_matched, .. } => {
                    let n = usize::try_from(*remaining).unwrap_or(usize::MAX).min(bytes.len());
                    if let (Some(matched), Some(opener)) = (opener_matched.as_mut(), self.opener) {
                        let k = (opener.len() - *matched).min(n);
                        if bytes[..k] == opener[*matched..*matched + k] {
                            *matched += k;
                        } else {
                            *opener_matched = None;
                        }
                    }
                    *remaining -= n as u64;
                    bytes = &bytes[n..];
                    self.end_payload_if_done();
                }
                Phase::Closed | Phase::NotWebSocket => return,
            }
        }
    }

    fn start_payload(&mut self, header: &[u8; MAX_HEADER]) {
        let opcode = header[0] & 0x0f;
        let fin = header[0] & FIN != 0;
        if matches!(opcode, OPCODE_CONTINUATION | OPCODE_TEXT | OPCODE_BINARY) {
            // Control frames may come between a message's fragments and
            // change nothing here.
            self.fragmented = !fin;
        }
        let may_open = self.opener.is_some() && opcode == OPCODE_TEXT;
        self.phase = Phase::Payload {
            remaining: payload_len(header),
            close: opcode == OPCODE_CLOSE,
            opener_matched: may_open.then_some(0),
        };
        self.end_payload_if_done();
    }

    fn end_payload_if_done(&mut self) {
        if let Phase::Payload { remaining: 0, close, opener_matched } = self.phase {
            if opener_matched.is_some() && opener_matched == self.opener.map(<[u8]>::len) {
                self.opener = None;
            }
            self.phase = if close { Phase::Closed } else { Phase::boundary() };
        }
    }

    /// Between two whole messages.
    fn between_messages(&self) -> bool {
        matches!(self.phase, Phase::Header { have: 0, .. }) && !self.fragmented
    }

    /// A frame of ours may go in now: between two whole messages, after the
    /// opener.
    pub fn open_to_ours(&self) -> bool {
        self.between_messages() && self.opener.is_none()
    }

    /// Past the handshake, and not closed.
    pub fn is_websocket(&self) -> bool {
        matches!(self.phase, Phase::Header { .. } | Phase::Payload { .. })
    }

    pub(super) fn is_closed(&self) -> bool {
        matches!(self.phase, Phase::Closed)
    }

    pub(super) fn is_plain_http(&self) -> bool {
        matches!(self.phase, Phase::NotWebSocket)
    }

    pub(super) fn close(&mut self) {
        if !self.is_plain_http() {
            self.phase = Phase::Closed;
        }
    }

    /// Bytes that can be written without passing the end of the current
    /// frame (at least one, unless between two frames).
    pub fn bytes_to_boundary(&self) -> usize {
        match &self.phase {
            Phase::Header { bytes, have } => header_len(bytes, *have) - *have,
            Phase::Payload { remaining, .. } => usize::try_from(*remaining).unwrap_or(usize::MAX),
            Phase::Status(matched) => SWITCHING.len() - matched,
            Phase::Headers(matched) => END_OF_HEADERS.len() - matched,
            Phase::Closed | Phase::NotWebSocket => usize::MAX,
        }
    }
}

impl Phase {
    fn boundary() -> Self {
        Phase::Header { bytes: [0; MAX_HEADER], have: 0 }
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
    let mut frame = Vec::with_capacity(text.len() + 10);
    push_text_frame(&mut frame, text);
    frame.into()
}

/// Appends [`text_frame`]'s bytes to `out`: frames written one after
/// another are still whole frames, and go out in one write.
pub fn push_text_frame(out: &mut Vec<u8>, text: &str) {
    let len = text.len();
    out.push(0x80 | 0x1);
    if len < 126 {
        out.push(len as u8);
    } else if let Ok(short) = u16::try_from(len) {
        out.push(126);
        out.extend_from_slice(&short.to_be_bytes());
    } else {
        out.push(127);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
    out.extend_from_slice(text.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    const RESPONSE: &[u8] = b"HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: upgrade\r\n\
        sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";
    const OPENER: &[u8] = b"42[\"session\",";

    fn opened() -> FrameTracker {
        let mut tracker = FrameTracker::watching(OPENER);
        tracker.feed(RESPONSE);
        tracker.feed(&text_frame("42[\"session\",{}]"));
        assert!(tracker.open_to_ours());
        tracker
    }

    /// A stream as tungstenite would write it: the response, the opener,
    /// then frames; and where frames of ours may go in.
    fn stream(frames: &[Arc<[u8]>]) -> (Vec<u8>, Vec<usize>) {
        let mut bytes = RESPONSE.to_vec();
        bytes.extend_from_slice(&text_frame("42[\"session\",{\"user\":null}]"));
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

    /// Fed in pieces of every size, the tracker lets ours in exactly where
    /// one frame ends and the next begins, from the opener on.
    #[test]
    fn boundaries_are_found_however_the_writes_are_split() {
        let (bytes, boundaries) = stream(&frames());
        for piece in [1, 2, 3, 7, 13, 126, 4096, bytes.len()] {
            // Pieces across boundaries, as tungstenite writes with nothing of
            // ours waiting.
            let mut tracker = FrameTracker::watching(OPENER);
            for chunk in bytes.chunks(piece) {
                tracker.feed(chunk);
            }
            assert!(tracker.open_to_ours(), "pieces of {piece}: {tracker:?}");
            // Pieces cut at boundaries, as with frames of ours waiting.
            let mut tracker = FrameTracker::watching(OPENER);
            let mut seen = Vec::new();
            let mut at = 0;
            while at < bytes.len() {
                let n = piece.min(bytes.len() - at).min(tracker.bytes_to_boundary());
                assert!(n > 0, "piece {piece}, at {at}: no progress in {tracker:?}");
                tracker.feed(&bytes[at..at + n]);
                at += n;
                if tracker.open_to_ours() {
                    seen.push(at);
                }
                assert!(tracker.is_websocket() || at < RESPONSE.len(), "piece {piece}, at {at}: {tracker:?}");
            }
            assert_eq!(seen, boundaries, "pieces of {piece}");
        }
    }

    #[test]
    fn a_plain_http_response_is_not_a_websocket() {
        let mut tracker = FrameTracker::watching(OPENER);
        tracker.feed(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
        assert!(tracker.is_plain_http());
        tracker.feed(&text_frame("x"));
        assert!(!tracker.is_websocket());
    }

    /// Until the opener (RTCA's `session`, after Socket.IO's CONNECT) has
    /// gone by, nothing of ours goes in; only a whole text frame starting
    /// with it opens the way.
    #[test]
    fn nothing_goes_in_before_the_opener() {
        let mut tracker = FrameTracker::watching(OPENER);
        tracker.feed(RESPONSE);
        assert!(!tracker.open_to_ours(), "right after the handshake");
        tracker.feed(&text_frame("40{\"sid\":\"x\"}"));
        tracker.feed(&text_frame("42[\"session\""));
        assert!(!tracker.open_to_ours(), "a frame shorter than the opener");
        let mut binary = text_frame("42[\"session\",{}]").to_vec();
        binary[0] = FIN | OPCODE_BINARY;
        tracker.feed(&binary);
        assert!(!tracker.open_to_ours(), "a binary frame");
        let opener = text_frame("42[\"session\",{}]");
        tracker.feed(&opener[..opener.len() - 1]);
        assert!(!tracker.open_to_ours(), "the opener, not whole yet");
        tracker.feed(&opener[opener.len() - 1..]);
        assert!(tracker.open_to_ours());
    }

    /// A message in fragments takes nothing of ours between them, control
    /// frames in between or not.
    #[test]
    fn nothing_goes_in_between_a_messages_fragments() {
        let mut tracker = opened();
        tracker.feed(&[OPCODE_TEXT, 1, b'a']);
        assert!(!tracker.open_to_ours());
        tracker.feed(&[FIN | 0x9, 0]);
        assert!(!tracker.open_to_ours(), "after a ping between fragments");
        tracker.feed(&[FIN | OPCODE_CONTINUATION, 1, b'b']);
        assert!(tracker.open_to_ours());
    }

    #[test]
    fn nothing_goes_in_after_a_close_frame() {
        let mut tracker = opened();
        tracker.feed(&text_frame("4"));
        assert!(tracker.open_to_ours());
        // Close, with status 1000.
        tracker.feed(&[0x88, 0x02, 0x03, 0xe8]);
        assert!(tracker.is_closed());
        assert!(!tracker.open_to_ours());
    }

    #[test]
    fn a_masked_header_is_measured_with_its_mask() {
        let mut tracker = opened();
        tracker.feed(&[0x81, 0x83, 1, 2, 3, 4]);
        assert_eq!(tracker.bytes_to_boundary(), 3);
        tracker.feed(b"abc");
        assert!(tracker.open_to_ours());
    }

    #[test]
    fn text_frames_carry_their_length_in_the_shortest_form() {
        assert_eq!(&text_frame("hi")[..], b"\x81\x02hi");
        assert_eq!(&text_frame(&"x".repeat(300))[..4], &[0x81, 126, 0x01, 0x2c]);
        assert_eq!(&text_frame(&"x".repeat(65_536))[..10], &[0x81, 127, 0, 0, 0, 0, 0, 1, 0, 0]);
    }
}
