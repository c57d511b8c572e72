//! Plain HTML forms that post to server functions (joining, signing in,
//! sending without JavaScript), and the refusal a post comes back with.
//!
//! A refused form post comes back to the page it was sent from with
//! `?__err=…&__path=…` (what server functions do for a browser without
//! JavaScript, and for our plain forms); `__err` is the error's JSON in
//! URL-safe base64. Read here rather than through leptos' `ServerAction`:
//! with the server-function client, it cost 21 KB of the gzipped WASM
//! (docs/performance.md, finding 23).

use leptos::prelude::*;

use crate::error::{code, ApiError};

/// Makes the refusal the page's address carries (`query`, without `?`)
/// known to the forms, if it carries one.
pub fn provide_refused_post(query: &str) {
    if let Some(refused) = parse_refused_post(query) {
        provide_context(refused);
    }
}

/// A form post the server refused, shown on the page it came back to.
#[derive(Clone, Debug, PartialEq)]
struct RefusedPost {
    /// The server function's path, so only its own form shows the error.
    path: String,
    error: ApiError,
}

/// The refusal in a page's query, if any.
fn parse_refused_post(query: &str) -> Option<RefusedPost> {
    // The last pair: each refusal appends its own to the address it was
    // sent from, which may hold an earlier one.
    let param = |name: &str| {
        query.split('&').rev().find_map(|pair| {
            let (key, value) = pair.split_once('=')?;
            (key == name).then(|| percent_decode(&value.replace('+', " ")))
        })
    };
    let (error, path) = (param("__err")?, param("__path")?);
    let error = base64_url_decode(&error)
        .and_then(|json| serde_json::from_str(&json).ok())
        .unwrap_or_else(|| ApiError::new(code::REFUSED, "The server refused the form."));
    Some(RefusedPost { path, error })
}

/// The message of a refused post to the server function at `path`, if the
/// page came back with one.
pub fn refused_post(path: &str) -> Option<String> {
    use_context::<RefusedPost>().filter(|refused| refused.path == path).map(|refused| refused.error.message)
}

/// URL-safe base64 (RFC 4648 §5), padding optional, to text; `None` if it
/// is not base64 or not UTF-8.
fn base64_url_decode(text: &str) -> Option<String> {
    let mut bits = 0u32;
    let mut count = 0;
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    for byte in text.trim_end_matches('=').bytes() {
        let value = match byte {
            b'A'..=b'Z' => byte - b'A',
            b'a'..=b'z' => byte - b'a' + 26,
            b'0'..=b'9' => byte - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => return None,
        };
        bits = (bits << 6) | u32::from(value);
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
        }
    }
    String::from_utf8(out).ok()
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

    /// The query server_fn itself writes for a refused post.
    fn refused_query(path: &str, error: &ApiError) -> String {
        let url = leptos::server_fn::error::ServerFnUrlError::new(path, error.clone()).to_url("http://rtca/").unwrap();
        url.query().unwrap().to_owned()
    }

    #[test]
    fn a_refused_post_comes_back_to_its_own_form() {
        let error = ApiError::new("bad_login", "wrong name or password");
        let query = format!("x=1&{}", refused_query("/api/login", &error));
        let refused = parse_refused_post(&query).unwrap();
        assert_eq!(refused, RefusedPost { path: "/api/login".to_owned(), error });
        Owner::new_root(None).with(|| {
            provide_context(refused);
            assert_eq!(refused_post("/api/login").as_deref(), Some("wrong name or password"));
            assert_eq!(refused_post("/api/join"), None, "another form's error");
        });
        // The last pair wins; a pair without its path is no refusal; an
        // unreadable error still says the form was refused.
        let first = refused_query("/api/join", &ApiError::new("a", "first"));
        let second = refused_query("/api/login", &ApiError::new("b", "second ünïcode & more"));
        assert_eq!(parse_refused_post(&format!("{first}&{second}")).unwrap().error.message, "second ünïcode & more");
        assert_eq!(parse_refused_post(&first.replace("__path", "__elsewhere")), None);
        assert_eq!(parse_refused_post("__err=%21%21&__path=%2Fapi%2Fjoin").unwrap().error.code, "refused");
    }

    #[test]
    fn base64_url_decodes_with_and_without_padding() {
        for text in ["", "f", "fo", "foo", "foob", "fooba", "foobar", "é~?>"] {
            let encoded = base64_url_encode(text.as_bytes());
            assert_eq!(base64_url_decode(&encoded).as_deref(), Some(text), "{encoded}");
            assert_eq!(base64_url_decode(encoded.trim_end_matches('=')).as_deref(), Some(text));
        }
        assert_eq!(base64_url_decode("Zm9v+mFy"), None, "'+' is not URL-safe");
    }

    /// The encoder server_fn uses (base64's URL_SAFE, padded), written out.
    fn base64_url_encode(bytes: &[u8]) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let n = chunk.iter().enumerate().fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
            for i in 0..4 {
                out.push(if i <= chunk.len() { ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char } else { '=' });
            }
        }
        out
    }
}
