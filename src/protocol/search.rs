//! Search: `search {q, before?}` and its page of hits, and how a query is
//! read — words to find, and the filters `in:#room`, `from:@name` and
//! `has:file`.

use serde::{Deserialize, Serialize};

use super::User;
use crate::error::ChatError;

/// Longest query, in characters.
pub const MAX_QUERY_CHARS: usize = 200;
/// Most words a query looks for.
pub const MAX_QUERY_WORDS: usize = 8;
/// Hits a page holds.
pub const SEARCH_PAGE: usize = 20;

/// `search {q, before?}`: the newest hits first; `before` is the id of the
/// last hit of the page before, to read on.
#[derive(Serialize, Deserialize, Clone, Debug, Default)]
pub struct SearchRequest {
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub before: Option<i64>,
}

/// Ack body of `search`: a page of hits, newest first.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct SearchPage {
    pub hits: Vec<SearchHit>,
    /// Older hits wait: ask again with `before` the last one's `id`.
    pub more: bool,
}

/// One message found: where it is, who wrote it when, and the part of its
/// text that matched.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct SearchHit {
    pub id: i64,
    pub seq: i64,
    /// A room's name; none for a private conversation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room: Option<String>,
    /// The other party of a private conversation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub with: Option<User>,
    pub from: User,
    pub at: i64,
    /// It carries a file.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub file: bool,
    /// The text around the first match, cut into pieces that matched or
    /// did not: plain text each, never markup.
    pub snippet: Vec<Fragment>,
}

/// A piece of a hit's text.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Fragment {
    pub text: String,
    /// It matched a word of the query.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub hit: bool,
}

/// A query, read: the words to find (all of them), and the filters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SearchQuery {
    pub words: Vec<String>,
    /// `in:#room`: in this room only.
    pub room: Option<String>,
    /// `from:@name`: written by this person only.
    pub from: Option<String>,
    /// `has:file`: messages with a file only.
    pub files_only: bool,
}

impl SearchQuery {
    /// Reads `q`. A query says what to look for: a word, or a filter.
    pub fn parse(q: &str) -> Result<SearchQuery, ChatError> {
        if q.chars().count() > MAX_QUERY_CHARS {
            return Err(ChatError::InvalidPayload(format!("a search is at most {MAX_QUERY_CHARS} characters")));
        }
        let mut query = SearchQuery::default();
        // Control characters (NUL among them) are never part of a word.
        let q: String = q.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
        for part in q.split_whitespace() {
            if let Some(room) = part.strip_prefix("in:") {
                // Room names are lowercase.
                query.room = Some(room.trim_start_matches('#').to_lowercase()).filter(|r| !r.is_empty());
            } else if let Some(from) = part.strip_prefix("from:") {
                query.from = Some(from.trim_start_matches('@').to_owned()).filter(|f| !f.is_empty());
            } else if part == "has:file" {
                query.files_only = true;
            } else if part.chars().any(char::is_alphanumeric) {
                query.words.push(part.to_owned());
            }
        }
        if query.words.len() > MAX_QUERY_WORDS {
            return Err(ChatError::InvalidPayload(format!("a search looks for at most {MAX_QUERY_WORDS} words")));
        }
        if query.words.is_empty() && query.room.is_none() && query.from.is_none() && !query.files_only {
            return Err(ChatError::InvalidPayload("type a word to look for".into()));
        }
        Ok(query)
    }
}

/// Where a hit is, as an address of the chat: `/r/{room}` or
/// `/dm/{user id}`, opened around the hit.
pub fn hit_address(hit: &SearchHit) -> String {
    let place = match (&hit.room, &hit.with) {
        (Some(room), _) => format!("/r/{}", super::percent_encode(room)),
        (None, Some(with)) => format!("/dm/{}", with.id),
        (None, None) => "/".to_owned(),
    };
    format!("{place}?around={}#m-{}", hit.seq, hit.id)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn queries_read_words_and_filters() {
        let query = SearchQuery::parse("  你好 in:#design from:@Ann has:file  world ").unwrap();
        assert_eq!(
            query,
            SearchQuery {
                words: vec!["你好".into(), "world".into()],
                room: Some("design".into()),
                from: Some("Ann".into()),
                files_only: true
            }
        );
        assert_eq!(SearchQuery::parse("from:@bo").unwrap().words, Vec::<String>::new());
        let odd = SearchQuery::parse("a\u{0}b in:#Club").unwrap();
        assert_eq!((odd.words, odd.room), (vec!["a".to_owned(), "b".to_owned()], Some("club".to_owned())));
        assert!(SearchQuery::parse("   ").is_err(), "nothing to look for");
        assert!(SearchQuery::parse("-- ** ").is_err(), "punctuation alone is nothing");
        assert!(SearchQuery::parse(&"a ".repeat(9)).is_err());
        assert!(SearchQuery::parse(&"x".repeat(MAX_QUERY_CHARS + 1)).is_err());
    }
}
