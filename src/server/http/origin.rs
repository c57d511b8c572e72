//! Refuses requests another site's page makes on a user's behalf: every
//! Socket.IO request (cross-site WebSocket hijacking) and every
//! state-changing request such as a server-function POST (cross-site
//! request forgery). With a public address, also any request that names
//! another host (DNS rebinding).

use std::net::IpAddr;

use axum::extract::{Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::server::socket::SOCKET_PATH;
use crate::server::state::AppState;

/// The `Origin`, when present, must be this server's own or on the
/// allow-list; clients outside a browser send none and are let through.
pub async fn check_origin(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let guarded = request.uri().path().starts_with(SOCKET_PATH)
        || !matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if guarded {
        if let Some(origin) = request.headers().get(header::ORIGIN) {
            let host = request.headers().get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or_default();
            let origin = origin.to_str().unwrap_or_default();
            // With a public address, only it: a `Host` that names the
            // server proves nothing under DNS rebinding.
            let own = match &state.config.public_url {
                Some(public) => origin == public,
                None => origin.strip_prefix("http://").or_else(|| origin.strip_prefix("https://")) == Some(host),
            };
            if !own && !state.config.allowed_origins.iter().any(|allowed| allowed == origin) {
                tracing::warn!(%origin, path = %request.uri().path(), "refused a cross-origin request");
                return (StatusCode::FORBIDDEN, "cross-origin requests are not allowed").into_response();
            }
        }
    }
    next.run(request).await
}

/// With a public address (`RTCA_PUBLIC_URL`), a request's `Host` must name
/// it, an IP address or `localhost`. A page that DNS rebinding pointed at
/// this server is on another name, which its requests carry, so it cannot
/// read even what anyone may (the lobby's pages, `/api/chat`, files); an IP
/// address or `localhost` is never such a name, so a reverse proxy that
/// passes its upstream's address, or a health check, still gets through.
/// Without a public address every name is taken: the server cannot know
/// which names people use for it.
pub async fn check_host(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if let Some(public) = &state.config.public_url {
        let host = request.headers().get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or_default();
        if !host.is_empty() && !names_this_server(public, host) {
            tracing::warn!(%host, path = %request.uri().path(), "refused a request for another host");
            return (StatusCode::MISDIRECTED_REQUEST, "this server answers to its public address only").into_response();
        }
    }
    next.run(request).await
}

/// Whether a `Host` header may reach the server whose public origin is
/// `public`: the same name (in any case, on any port), an IP address, or
/// `localhost`.
fn names_this_server(public: &str, host: &str) -> bool {
    let name = |authority: &str| -> String {
        let authority = authority.split_once("://").map_or(authority, |(_, rest)| rest);
        let name = match authority.strip_prefix('[') {
            Some(v6) => v6.split(']').next().unwrap_or_default(),
            None => authority.rsplit_once(':').map_or(authority, |(name, _port)| name),
        };
        name.to_ascii_lowercase()
    };
    let asked = name(host);
    asked == name(public) || asked == "localhost" || asked.parse::<IpAddr>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::names_this_server;

    #[test]
    fn a_public_address_answers_its_name_addresses_and_localhost() {
        let public = "https://chat.example.com";
        for host in
            ["chat.example.com", "CHAT.example.com:443", "127.0.0.1:3000", "[::1]:3000", "10.0.0.7", "localhost:3000"]
        {
            assert!(names_this_server(public, host), "{host}");
        }
        for host in ["evil.example", "chat.example.com.evil.example", "example.com", "chat"] {
            assert!(!names_this_server(public, host), "{host}");
        }
        assert!(names_this_server("http://chat.example.com:8080", "chat.example.com:8080"));
    }
}
