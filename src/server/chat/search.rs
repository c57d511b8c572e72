//! Searching what one may read: the query read (`SearchQuery`), the store
//! asked (it alone knows who may read what, in the same query), and each
//! message found cut down to a hit, with the part of its text that
//! matched. The socket event, the HTTP API and the `/search` page all come
//! here.

use std::net::IpAddr;

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

use crate::error::ChatError;
use crate::protocol::{Fragment, Message, SearchHit, SearchPage, SearchQuery, SearchRequest, User, SEARCH_PAGE};
use crate::server::state::AppState;

/// What one search costs its asker's address in read budget, in bytes
/// (`RTCA_RATE_READ_BYTES_ADDRESS`): its reply is small, but each is a
/// query over every message.
pub const SEARCH_COST: usize = 64 * 1024;

/// Characters of a hit's text shown before its first match.
const CONTEXT_BEFORE: usize = 40;
/// Characters a snippet holds at most.
const SNIPPET_CHARS: usize = 160;

/// A page of what `reader` (`None`: not signed in) may read that matches
/// `request.q`, newest first; charged to the asker's `address`.
pub async fn search(
    state: &AppState,
    reader: Option<&User>,
    address: Option<IpAddr>,
    request: &SearchRequest,
) -> Result<SearchPage, ChatError> {
    let query = SearchQuery::parse(&request.q)?;
    state.limits.may_read(address)?;
    state.limits.charge_read(address, SEARCH_COST);
    let found = state.store.search(reader.map(|u| u.id), &query, request.before, SEARCH_PAGE + 1).await?;
    let more = found.len() > SEARCH_PAGE;
    let hits = found.into_iter().take(SEARCH_PAGE).map(|message| hit(message, reader, &query.words)).collect();
    Ok(SearchPage { hits, more })
}

/// `message` as a hit for `reader`: where it is, who wrote it when, and
/// the part of its text around the first of `words` (its start for none).
pub(super) fn hit(message: Message, reader: Option<&User>, words: &[String]) -> SearchHit {
    let room = message.conversation.room_name().map(str::to_owned);
    let with = match (&room, reader) {
        (None, Some(me)) if message.from.id == me.id => message.to.clone(),
        (None, _) => Some(message.from.clone()),
        (Some(_), _) => None,
    };
    SearchHit {
        id: message.id,
        seq: message.seq,
        room,
        with,
        file: message.media.is_some(),
        snippet: snippet(&message.text, words),
        from: message.from,
        at: message.at,
    }
}

/// A character as search compares it: without accents, in lower case
/// (as the index's tokenizer folds it).
fn fold(c: char) -> impl Iterator<Item = char> {
    std::iter::once(c).nfd().filter(|c| !is_combining_mark(*c)).flat_map(char::to_lowercase)
}

/// The part of `text` around the first of `words` found in it, cut into
/// what matched and what did not, with "…" where it was cut.
pub fn snippet(text: &str, words: &[String]) -> Vec<Fragment> {
    let chars: Vec<char> = text.chars().collect();
    // The folded text, and for each of its characters, the original's.
    let (mut folded, mut origin) = (Vec::with_capacity(chars.len()), Vec::with_capacity(chars.len()));
    for (at, c) in chars.iter().enumerate() {
        for f in fold(*c) {
            folded.push(f);
            origin.push(at);
        }
    }
    let mut matched = vec![false; chars.len()];
    for word in words {
        let word: Vec<char> = word.chars().flat_map(fold).collect();
        if word.is_empty() {
            continue;
        }
        let mut at = 0;
        while at + word.len() <= folded.len() {
            if folded[at..at + word.len()] == word[..] {
                for k in at..at + word.len() {
                    matched[origin[k]] = true;
                }
                at += word.len();
            } else {
                at += 1;
            }
        }
    }
    let first = matched.iter().position(|m| *m).unwrap_or(0);
    let start = first.saturating_sub(CONTEXT_BEFORE);
    let end = (start + SNIPPET_CHARS).min(chars.len());
    let mut fragments: Vec<Fragment> = Vec::new();
    if start > 0 {
        fragments.push(Fragment { text: "…".into(), hit: false });
    }
    for at in start..end {
        match fragments.last_mut() {
            Some(last) if last.hit == matched[at] && !(at == start && start > 0) => last.text.push(chars[at]),
            _ => fragments.push(Fragment { text: chars[at].to_string(), hit: matched[at] }),
        }
    }
    if end < chars.len() {
        fragments.push(Fragment { text: "…".into(), hit: false });
    }
    fragments
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(fragments: &[Fragment]) -> String {
        fragments.iter().map(|f| if f.hit { format!("[{}]", f.text) } else { f.text.clone() }).collect()
    }

    #[test]
    fn snippets_mark_every_match_whatever_its_case_and_accents() {
        let words = vec!["cafe".to_owned(), "你好".to_owned()];
        assert_eq!(shown(&snippet("Un CAFÉ, 你好世界, café", &words)), "Un [CAFÉ], [你好]世界, [café]");
        let long = format!("{} needle {}", "a".repeat(100), "b".repeat(300));
        let cut = shown(&snippet(&long, &["NEEDLE".to_owned()]));
        assert!(cut.starts_with('…') && cut.ends_with('…') && cut.contains("[needle]"), "{cut}");
        assert_eq!(cut.chars().filter(|c| *c == 'a').count(), CONTEXT_BEFORE - 1);
        assert_eq!(shown(&snippet("no match", &["zz".to_owned()])), "no match");
    }
}
