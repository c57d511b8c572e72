//! The chat's addresses, as the server renders them and the browser
//! follows them: `/` (the lobby), `/r/{room}`, `/dm/{user}`.

use super::UserId;

/// What an address asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Page {
    /// A room (`None`: the lobby), or my private conversation with a user.
    /// A `/dm/` address whose id is not a number opens the lobby, as a
    /// user who is gone does.
    Chat {
        room: Option<String>,
        with: Option<UserId>,
    },
    NotFound,
}

impl Page {
    /// Exact segments: `/r/general/` (a trailing slash) is not a room.
    pub fn from_path(path: &str) -> Page {
        let segments: Vec<&str> = path.strip_prefix('/').unwrap_or(path).split('/').collect();
        match segments.as_slice() {
            [""] => Page::Chat { room: None, with: None },
            ["r", room] if !room.is_empty() => Page::Chat { room: Some(percent_decode(room)), with: None },
            ["dm", user] if !user.is_empty() => Page::Chat { room: None, with: user.parse().ok() },
            _ => Page::NotFound,
        }
    }
}

/// `text` for an address's query: letters, digits, `-` and `_` as they
/// are, every other byte as `%XX` (a title may be in any script).
pub fn percent_encode(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_' {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

/// Percent-decoding. Room names are plain ASCII, so an encoded one is a
/// name that does not exist; decoding it still shows the reader the name
/// they typed in the notice.
pub fn percent_decode(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1).and_then(|&b| hex(b)), bytes.get(i + 2).and_then(|&b| hex(b))) {
            (b'%', Some(high), Some(low)) => {
                out.push((high * 16 + low) as u8);
                i += 3;
            }
            (byte, _, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn addresses_name_pages() {
        let chat = |room: Option<&str>, with: Option<UserId>| Page::Chat { room: room.map(str::to_owned), with };
        assert_eq!(Page::from_path("/"), chat(None, None));
        assert_eq!(Page::from_path("/r/general"), chat(Some("general"), None));
        assert_eq!(Page::from_path("/r/caf%C3%A9"), chat(Some("café"), None));
        assert_eq!(Page::from_path("/dm/42"), chat(None, Some(42)));
        assert_eq!(Page::from_path("/dm/bob"), chat(None, None));
        for nowhere in ["/r", "/r/", "/r/general/", "/dm/", "/x", "/r/a/b", "//"] {
            assert_eq!(Page::from_path(nowhere), Page::NotFound, "{nowhere}");
        }
    }
}
