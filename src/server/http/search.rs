//! Lists of messages over HTTP, each message a link to its conversation
//! opened around it: search, `GET /api/search?q=&before=` (JSON, for
//! clients outside a browser: a bearer token or the session cookie) and
//! the page `GET /search?q=`; and my mentions, `GET /api/mentions?before=`
//! and the page `GET /mentions`. The pages are rendered here and need no
//! JavaScript, with a link to older ones. Each reads what the asker may
//! read, through the same rules as the socket's `search` and `mentions`
//! (`chat::search`, `chat::mentions`).

use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use leptos::prelude::*;

use crate::chat_state::iso_instant;
use crate::components::message_actions::escape;
use crate::error::{ApiError, ChatError};
use crate::i18n::{self, I18nKeys};
use crate::preferences::Theme;
use crate::protocol::{hit_address, percent_encode, MentionsRequest, SearchHit, SearchPage, SearchRequest};
use crate::server::chat::identity::http_user;
use crate::server::chat::mentions::mentions_of;
use crate::server::chat::search::search;
use crate::server::delivery::wire::Peer;
use crate::server::state::AppState;

/// A search for whoever asks, charged to their address.
async fn run(
    state: &AppState,
    peer: &Peer,
    headers: &HeaderMap,
    request: &SearchRequest,
) -> Result<SearchPage, ChatError> {
    let reader = http_user(state, headers).await?;
    search(state, reader.as_ref(), Some(peer.addr.ip()), request).await
}

pub async fn api(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<Peer>,
    headers: HeaderMap,
    request: Result<Query<SearchRequest>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let request = match request {
        Ok(Query(request)) => request,
        Err(rejection) => return unreadable(&rejection),
    };
    answer(run(&state, &peer, &headers, &request).await)
}

/// A query string that does not read as the request: 400 with why.
fn unreadable(rejection: &axum::extract::rejection::QueryRejection) -> Response {
    (StatusCode::BAD_REQUEST, Json(ApiError::new("invalid_payload", rejection.body_text()))).into_response()
}

/// A page of hits as JSON, or the refusal.
fn answer(found: Result<SearchPage, ChatError>) -> Response {
    match found {
        Ok(page) => Json(page).into_response(),
        Err(error) => super::refusal(error),
    }
}

pub async fn page(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<Peer>,
    headers: HeaderMap,
    request: Result<Query<SearchRequest>, axum::extract::rejection::QueryRejection>,
) -> Response {
    // An address that cannot be read is a page with no search yet.
    let request = request.map(|Query(request)| request).unwrap_or_default();
    let (code, found) = match request.q.trim() {
        "" => (StatusCode::OK, None),
        _ => match run(&state, &peer, &headers, &request).await {
            Ok(page) => (StatusCode::OK, Some(Ok(page))),
            Err(error) => (super::status_of(&error), Some(Err(ApiError::from(error)))),
        },
    };
    super::retry_later((code, Html(render(Listing::Search(request.q), found, &headers))).into_response())
}

/// The messages that called whoever asks, charged to their address.
async fn mentions(
    state: &AppState,
    peer: &Peer,
    headers: &HeaderMap,
    before: Option<i64>,
) -> Result<SearchPage, ChatError> {
    let reader = http_user(state, headers).await?.ok_or(ChatError::NotOnline)?;
    mentions_of(state, &reader, Some(peer.addr.ip()), before).await
}

pub async fn mentions_api(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<Peer>,
    headers: HeaderMap,
    request: Result<Query<MentionsRequest>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let request = match request {
        Ok(Query(request)) => request,
        Err(rejection) => return unreadable(&rejection),
    };
    answer(mentions(&state, &peer, &headers, request.before).await)
}

pub async fn mentions_page(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<Peer>,
    headers: HeaderMap,
    request: Result<Query<MentionsRequest>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let before = request.map(|Query(request)| request.before).unwrap_or_default();
    let (code, found) = match mentions(&state, &peer, &headers, before).await {
        Ok(page) => (StatusCode::OK, Some(Ok(page))),
        Err(error) => (super::status_of(&error), Some(Err(ApiError::from(error)))),
    };
    super::retry_later((code, Html(render(Listing::Mentions, found, &headers))).into_response())
}

/// Which list a page shows.
enum Listing {
    /// What matches this search (none yet while empty).
    Search(String),
    /// The messages that called the reader.
    Mentions,
}

/// The page, as HTML, in the reader's theme and language: no script,
/// every text escaped by the view.
fn render(listing: Listing, found: Option<Result<SearchPage, ApiError>>, headers: &HeaderMap) -> String {
    let header = |name| headers.get(name).and_then(|value: &axum::http::HeaderValue| value.to_str().ok());
    let cookie = header(axum::http::header::COOKIE);
    let theme = cookie.map_or(Theme::System, Theme::from_cookie_header);
    let locale = i18n::from_headers(cookie, header(axum::http::header::ACCEPT_LANGUAGE));
    let w = locale.get_keys_const();
    let (q, empty) = match &listing {
        Listing::Search(q) => (q.clone(), w.search_none().inner()),
        Listing::Mentions => (String::new(), w.mentions_none().inner()),
    };
    let body = match found {
        None => view! { <p class="search-empty">{w.search_help().inner()}</p> }.into_any(),
        Some(Err(why)) => {
            let said = i18n::error_message_in(locale, &why.code, &why.message);
            view! { <p class="notice" role="alert" data-testid="search-error">{said}</p> }.into_any()
        }
        Some(Ok(page)) if page.hits.is_empty() => {
            view! { <p class="search-empty" data-testid="search-none">{empty}</p> }.into_any()
        }
        Some(Ok(page)) => {
            let older = page.more.then(|| {
                let before = page.hits.last().map(|hit| hit.id).unwrap_or_default();
                let href = match &listing {
                    Listing::Search(q) => format!("/search?q={}&before={before}", percent_encode(q)),
                    Listing::Mentions => format!("/mentions?before={before}"),
                };
                view! { <a class="search-older" href=href data-testid="search-older">{w.search_older().inner()}</a> }
            });
            let hits = page.hits.into_iter().map(|hit| hit_row(hit, w)).collect::<Vec<_>>();
            view! {
                <ol class="search-hits" data-testid="search-hits">{hits}</ol>
                {older}
            }
            .into_any()
        }
    };
    let (title, heading) = match &listing {
        Listing::Search(q) if q.trim().is_empty() => (format!("{} · RTCA", w.search_title().inner()), None),
        Listing::Search(q) => (format!("{} · {} · RTCA", q.trim(), w.search_title().inner()), None),
        Listing::Mentions => {
            let mentions = w.mentions_title().inner();
            (format!("{mentions} · RTCA"), Some(view! { <h1 class="listing-title">{mentions}</h1> }))
        }
    };
    let html = view! {
        <header class="topbar">
            <a class="brand" href="/">"RTCA"</a>
            <form class="search" method="get" action="/search" role="search" aria-label=w.search_landmark().inner()>
                <input type="search" name="q" value=q aria-label=w.search_label().inner()
                    placeholder=w.search_placeholder().inner() data-testid="search-input"/>
                <button type="submit">{w.search_button().inner()}</button>
            </form>
        </header>
        <main class="search-page">{heading}{body}</main>
    }
    .to_html();
    let title = escape(&title);
    // Only ever "light" or "dark": nothing from the request is written here.
    let theme = theme.attribute().map(|value| format!(" data-theme=\"{value}\"")).unwrap_or_default();
    let lang = i18n::tag(locale);
    format!(
        "<!DOCTYPE html><html lang=\"{lang}\"{theme}><head><meta charset=\"utf-8\"/><meta name=\"viewport\" \
         content=\"width=device-width, initial-scale=1\"/><meta name=\"color-scheme\" content=\"light dark\"/>\
         <link rel=\"icon\" href=\"/favicon.ico\"/><title>{title}</title>\
         <link rel=\"stylesheet\" href=\"/pkg/rtca.css\"/></head><body>{html}</body></html>"
    )
}

fn hit_row(hit: SearchHit, w: I18nKeys) -> impl IntoView {
    let href = hit_address(&hit);
    let place = match (&hit.room, &hit.with) {
        (Some(room), _) => format!("#{room}"),
        (None, Some(with)) => i18n::fill(w.search_with().inner(), &[("name", &with.name)]),
        (None, None) => String::new(),
    };
    let snippet = hit
        .snippet
        .into_iter()
        .map(|piece| match piece.hit {
            true => view! { <mark>{piece.text}</mark> }.into_any(),
            false => piece.text.into_any(),
        })
        .collect::<Vec<_>>();
    view! {
        <li class="search-hit" data-testid="search-hit">
            <a href=href>
                <span class="search-place">{place}</span>
                " · "
                <span class="from">{hit.from.name}</span>
                " · "
                <time datetime=iso_instant(hit.at)>{iso_instant(hit.at).replace('T', " ").replace('Z', " UTC")}</time>
                {hit.file.then_some(w.search_a_file().inner())}
                <p class="search-snippet">{snippet}</p>
            </a>
        </li>
    }
}
