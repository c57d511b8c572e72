//! The site's own files: the WASM bundle, its JavaScript, the stylesheet
//! and `public/`. A release build carries them inside the binary (build.rs
//! embeds what cargo-leptos built, with gzip and brotli copies), so `rtca`
//! runs from any folder with nothing beside it. Any other build (development,
//! `cargo leptos watch`) carries none and serves them from the site root on
//! disk (`RTCA_SITE_ROOT`), as leptos_axum does. A path that is no file
//! renders the app's not-found page either way.
//!
//! Carried files are served with the smallest encoding the browser
//! accepts, an `ETag` (their bytes' hash, taken at build time) and
//! `Cache-Control: no-cache`: their names carry no hash, so a browser asks
//! again each time and is answered `304` while they have not changed.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::app::shell;
use crate::server::state::AppState;

/// One file of the site, as built with this binary.
pub struct SiteFile {
    /// From the site root, with `/`: `pkg/rtca.wasm`, `sw.js`.
    pub path: &'static str,
    pub bytes: &'static [u8],
    /// A strong validator: the bytes' hash and length, quoted.
    pub etag: &'static str,
}

include!(concat!(env!("OUT_DIR"), "/site.rs"));

/// Whether this binary carries its site.
pub fn carried() -> bool {
    !SITE.is_empty()
}

/// The router's fallback: a carried file, else a file on disk (a build
/// that carries none), else the app's not-found page.
pub async fn serve(state: State<AppState>, request: Request) -> Response {
    if let Some(response) = carried_file(&request) {
        return response;
    }
    let uri = request.uri().clone();
    leptos_axum::file_and_error_handler::<AppState, _>(shell)(uri, state, request).await
}

fn find(path: &str) -> Option<&'static SiteFile> {
    SITE.binary_search_by(|file| file.path.cmp(path)).ok().map(|at| &SITE[at])
}

/// The carried file `request` names, in the best encoding it accepts.
fn carried_file(request: &Request) -> Option<Response> {
    if SITE.is_empty() || !matches!(*request.method(), Method::GET | Method::HEAD) {
        return None;
    }
    let path = request.uri().path().trim_start_matches('/');
    let plain = find(path)?;
    let (file, encoding) = [("br", ".br"), ("gzip", ".gz")]
        .into_iter()
        .filter(|(encoding, _)| accepts(request.headers(), encoding))
        .find_map(|(encoding, suffix)| Some((find(&format!("{path}{suffix}"))?, Some(encoding))))
        .unwrap_or((plain, None));
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type(path)));
    headers.insert(header::ETAG, HeaderValue::from_static(file.etag));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if let Some(encoding) = encoding {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(encoding));
    }
    let unchanged = request
        .headers()
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|tag| tag.trim().trim_start_matches("W/") == file.etag || tag.trim() == "*");
    if unchanged {
        return Some((StatusCode::NOT_MODIFIED, headers).into_response());
    }
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(file.bytes.len()));
    let body = if request.method() == Method::HEAD { Body::empty() } else { Body::from(file.bytes) };
    Some((StatusCode::OK, headers, body).into_response())
}

/// Whether `headers`' `Accept-Encoding` takes `encoding` (not at `q=0`).
fn accepts(headers: &HeaderMap, encoding: &str) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|item| {
            let mut parts = item.split(';').map(str::trim);
            let named = parts.next().is_some_and(|name| name.eq_ignore_ascii_case(encoding));
            let refused = parts
                .any(|param| param.strip_prefix("q=").and_then(|q| q.parse::<f32>().ok()).is_some_and(|q| q <= 0.0));
            named && !refused
        })
}

/// The type a browser needs for each kind of file the site has (WASM must
/// be `application/wasm` to compile as it streams in).
fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or_default() {
        "wasm" => "application/wasm",
        "js" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "html" => "text/html; charset=utf-8",
        "json" => "application/json",
        "webmanifest" => "application/manifest+json",
        "ico" => "image/x-icon",
        "png" => "image/png",
        "svg" => "image/svg+xml",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_are_taken_unless_refused() {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT_ENCODING, HeaderValue::from_static("gzip, deflate, br;q=0, zstd"));
        assert!(accepts(&headers, "gzip"));
        assert!(!accepts(&headers, "br"), "q=0 refuses it");
        headers.insert(header::ACCEPT_ENCODING, HeaderValue::from_static("BR;q=0.5"));
        assert!(accepts(&headers, "br"));
        assert!(!accepts(&HeaderMap::new(), "gzip"));
    }

    #[test]
    fn the_bundle_has_the_types_browsers_need() {
        assert_eq!(content_type("pkg/rtca.wasm"), "application/wasm");
        assert_eq!(content_type("sw.js"), "text/javascript; charset=utf-8");
        assert_eq!(content_type("manifest.webmanifest"), "application/manifest+json");
        // The carried list is sorted, for the search.
        assert!(SITE.windows(2).all(|pair| pair[0].path < pair[1].path));
    }
}
