//! A Socket.IO request's head, copied out of its connection's read buffer.
//!
//! socketioxide keeps every socket's handshake request (its headers, URI
//! and extensions) for the socket's life, and hyper parses the head without
//! copying: each header value, and the URI, is a slice of the connection's
//! read buffer (8 to 16 KiB), which lives as long as any slice of it does.
//! With copies, the buffer goes at the upgrade: 16 KiB of the 36 each idle
//! WebSocket held (finding 27 in docs/performance.md).

use axum::extract::{OriginalUri, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Uri};
use axum::middleware::Next;
use axum::response::Response;

use super::SOCKET_PATH;

/// Middleware: copies the head of every Socket.IO request (see above).
pub async fn own_request_head(request: Request, next: Next) -> Response {
    if !request.uri().path().starts_with(SOCKET_PATH) {
        return next.run(request).await;
    }
    let (mut head, body) = request.into_parts();
    own_head(&mut head);
    next.run(Request::from_parts(head, body)).await
}

/// Replaces every part of `head` that may share a buffer with a copy: the
/// header values, the URI, and axum's `OriginalUri` (a clone of it).
fn own_head(head: &mut Parts) {
    let mut headers = HeaderMap::with_capacity(head.headers.len());
    for (name, value) in &head.headers {
        // A value hyper parsed is valid, so copying it cannot fail.
        let mut copy = HeaderValue::from_bytes(value.as_bytes()).unwrap_or_else(|_| value.clone());
        copy.set_sensitive(value.is_sensitive());
        headers.append(name.clone(), copy);
    }
    head.headers = headers;
    let copy = |uri: &Uri| uri.to_string().parse().unwrap_or_else(|_| uri.clone());
    head.uri = copy(&head.uri);
    if let Some(OriginalUri(original)) = head.extensions.get_mut::<OriginalUri>() {
        *original = copy(original);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// Parsed as hyper parses a request (and routed by axum), the head
    /// holds the whole read buffer; its copy holds none of it.
    #[test]
    fn a_copied_head_lets_the_read_buffer_go() {
        use axum::body::Bytes;
        let buffer = Bytes::from(b"/socket.io/?EIO=4&transport=websocketexample.orgbatched".to_vec());
        let uri = Uri::from_maybe_shared(buffer.slice(..37)).unwrap();
        let (mut head, ()) = axum::http::Request::new(()).into_parts();
        head.headers.insert("host", HeaderValue::from_maybe_shared(buffer.slice(37..48)).unwrap());
        head.headers.append("x-presence", HeaderValue::from_maybe_shared(buffer.slice(48..)).unwrap());
        head.extensions.insert(OriginalUri(uri.clone()));
        head.uri = uri.clone();
        let headers = head.headers.clone();
        drop(uri);

        own_head(&mut head);
        assert_eq!(head.headers, headers);
        assert_eq!(head.uri, "/socket.io/?EIO=4&transport=websocket");
        assert_eq!(head.extensions.get::<OriginalUri>().unwrap().0, head.uri);
        drop(headers);
        assert!(buffer.is_unique(), "the copied head holds none of the buffer");
    }
}
