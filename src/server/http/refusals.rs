//! Refused server-function calls: the status that fits, and form posts
//! shown refused only when the server itself refused them.
//!
//! server_fn answers every refusal with 500; [`fit_status`] gives it the
//! status its code calls for (`status_for`, as the file and search APIs
//! do), so a script sees bad input as a 4xx and the database out of reach
//! as a 503 that says when to try again.
//!
//! A form posted without JavaScript comes back, when refused, to the page
//! it was sent from with `?__err=…&__path=…` (server functions' way:
//! `__err` is the error's JSON in URL-safe base64). Anyone can write such
//! an address, so a link could make RTCA show any words as a sign-in
//! error ("session expired, re-enter your password at …"). So every
//! redirect that carries a refusal is signed here (`&__sig=`, an HMAC with
//! a key of this process's), and a page shows a refusal only if its
//! signature holds; the page then carries it in its snapshot, and the
//! browser reads it from there, never from the address.

use std::sync::OnceLock;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

use crate::error::{code, ApiError};
use crate::protocol::percent_decode;
use crate::protocol::RefusedForm;

/// The signing key, new each time the server starts: a refusal is shown
/// right after it is made, never much later.
fn key() -> &'static [u8; 32] {
    static KEY: OnceLock<[u8; 32]> = OnceLock::new();
    KEY.get_or_init(|| {
        let mut key = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        key
    })
}

/// The HMAC-SHA-256 of a refusal's `__err` and `__path`, as they stand in
/// the address.
/// (HMAC takes a key of any length: `None` never happens.)
fn mac(error: &str, path: &str) -> Option<Hmac<Sha256>> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key()).ok()?;
    mac.update(error.as_bytes());
    mac.update(&[0]);
    mac.update(path.as_bytes());
    Some(mac)
}

/// The signature, in hex, as it travels in `__sig`.
fn signature(error: &str, path: &str) -> Option<String> {
    Some(hex::encode(mac(error, path)?.finalize().into_bytes()))
}

/// The last value of `name` in `query`, still encoded. The last: each
/// refusal appends its pair to the address it was sent from, which may
/// hold an earlier one.
fn last<'a>(query: &'a str, name: &str) -> Option<&'a str> {
    query.split('&').rev().find_map(|pair| pair.split_once('=').filter(|(key, _)| *key == name).map(|(_, v)| v))
}

/// The most a server function's refusal (`{code, message}`) is read of.
const MAX_REFUSAL_BYTES: usize = 16 * 1024;

/// Middleware: a server function's refusal (a 500 marked by server_fn's
/// error header) takes the status that fits its code. A form posted
/// without JavaScript is answered by a redirect instead, left as it is.
pub async fn fit_status(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    if response.status() != StatusCode::INTERNAL_SERVER_ERROR
        || !response.headers().contains_key(leptos::server_fn::error::SERVER_FN_ERROR_HEADER)
    {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let body = match axum::body::to_bytes(body, MAX_REFUSAL_BYTES).await {
        Ok(body) => body,
        Err(_) => {
            let error = ApiError::new(code::INTERNAL, "the server's answer was lost");
            serde_json::to_vec(&error).unwrap_or_default().into()
        }
    };
    if let Ok(error) = serde_json::from_slice::<ApiError>(&body) {
        parts.status = super::status_for(&error.code);
    }
    super::retry_later(Response::from_parts(parts, Body::from(body)))
}

/// Middleware: signs every redirect that carries a refusal.
pub async fn sign_refusals(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let Some(location) = response.headers().get(header::LOCATION).and_then(|v| v.to_str().ok()) else {
        return response;
    };
    let query = location.split_once('?').map_or("", |(_, query)| query);
    if let (Some(error), Some(path)) = (last(query, "__err"), last(query, "__path")) {
        let Some(signature) = signature(error, path) else { return response };
        let signed = format!("{location}&__sig={signature}");
        if let Ok(signed) = HeaderValue::from_str(&signed) {
            response.headers_mut().insert(header::LOCATION, signed);
        }
    }
    response
}

/// The refusal a page's `query` carries, if this server signed it.
pub fn verified(query: &str) -> Option<RefusedForm> {
    let (error, path, sig) = (last(query, "__err")?, last(query, "__path")?, last(query, "__sig")?);
    // Compared in constant time, so the time taken says nothing of how
    // close a forged signature came.
    mac(error, path)?.verify_slice(&hex::decode(sig).ok()?).ok()?;
    let path = percent_decode(&path.replace('+', " "));
    let error = base64_url_decode(&percent_decode(&error.replace('+', " ")))
        .and_then(|json| serde_json::from_str(&json).ok())
        .unwrap_or_else(|| ApiError::new(code::REFUSED, "The server refused the form."));
    Some(RefusedForm { path, error })
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// The query server_fn itself writes for a refused post.
    fn refused_query(path: &str, error: &ApiError) -> String {
        let url = leptos::server_fn::error::ServerFnUrlError::new(path, error.clone()).to_url("http://rtca/").unwrap();
        url.query().unwrap().to_owned()
    }

    fn signed(query: &str) -> String {
        format!("{query}&__sig={}", signature(last(query, "__err").unwrap(), last(query, "__path").unwrap()).unwrap())
    }

    #[test]
    fn only_a_signed_refusal_is_shown() {
        let error = ApiError::new("bad_credentials", "wrong name or password ünïcode & more");
        let query = format!("x=1&{}", refused_query("/api/login", &error));
        assert_eq!(verified(&signed(&query)), Some(RefusedForm { path: "/api/login".to_owned(), error }));
        assert_eq!(verified(&query), None, "unsigned");
        let forged = refused_query("/api/login", &ApiError::new("x", "session expired: re-enter your password at …"));
        let stolen_signature = signed(&query).rsplit("&__sig=").next().unwrap().to_owned();
        assert_eq!(verified(&format!("{forged}&__sig={stolen_signature}")), None, "another refusal's signature");
        // The last pair is the one signed and shown.
        let first = refused_query("/api/join", &ApiError::new("a", "first"));
        let second = refused_query("/api/login", &ApiError::new("b", "second"));
        assert_eq!(verified(&signed(&format!("{first}&{second}"))).unwrap().error.message, "second");
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
