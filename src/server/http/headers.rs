//! Security headers on every HTML page: a Content-Security-Policy that
//! lets only this site's own code run (the page's one inline script, the
//! hydration loader, carries a nonce fresh for each render), no framing
//! by other sites (against clickjacking of Send and Sign out), and no
//! address leaking to other sites in `Referer`.

use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

/// The nonce a page was rendered with, left in its response's extensions
/// by the handler that rendered it (`http::pages`).
#[derive(Clone, Debug)]
pub struct ScriptNonce(pub String);

/// Middleware: adds the headers to every `text/html` response.
pub async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("text/html"));
    if !html {
        return response;
    }
    let nonce = response.extensions().get::<ScriptNonce>().map(|ScriptNonce(nonce)| nonce.as_str());
    // Read once: `cargo leptos watch` sets it for the process's life.
    static WATCH: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let watch = *WATCH.get_or_init(|| std::env::var("LEPTOS_WATCH").is_ok());
    let policy = content_security_policy(nonce, watch);
    let headers = response.headers_mut();
    if let Ok(policy) = HeaderValue::from_str(&policy) {
        headers.insert(header::CONTENT_SECURITY_POLICY, policy);
    }
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response
}

/// The policy: scripts only from this site, or inline with `nonce`
/// (without one, a page runs no inline script: it still reads and posts
/// without JavaScript); WebAssembly compiled from this site's bundle;
/// media and previews from this site (and `blob:`, for files being sent);
/// sockets and fetches to this site only. `watch`: `cargo leptos watch`'s
/// reload socket, on another port, is allowed too.
fn content_security_policy(nonce: Option<&str>, watch: bool) -> String {
    let scripts = match nonce {
        Some(nonce) => format!("script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'"),
        None => "script-src 'self' 'wasm-unsafe-eval'".to_owned(),
    };
    let connect = if watch { "connect-src 'self' ws:" } else { "connect-src 'self'" };
    [
        "default-src 'self'",
        &scripts,
        "style-src 'self'",
        "img-src 'self' blob: data:",
        "media-src 'self' blob:",
        connect,
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
    .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_names_the_nonce_and_forbids_framing() {
        let policy = content_security_policy(Some("abc"), false);
        assert!(policy.contains("script-src 'self' 'nonce-abc' 'wasm-unsafe-eval'"), "{policy}");
        assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
        assert!(!policy.contains("unsafe-inline"), "{policy}");
        assert!(!content_security_policy(None, false).contains("nonce"));
        assert!(content_security_policy(None, true).contains("connect-src 'self' ws:"));
    }
}
