//! Full-text search in PostgreSQL: `messages.search`, a tsvector of each
//! message's text under the `simple` configuration (no stemming, no stop
//! words: it lowercases and splits), with a GIN index.
//!
//! What it holds is the text as `store::search_terms` writes it (Chinese
//! and Japanese as overlapping pairs), with case and accents folded away
//! first, since `simple` keeps accents. A query word is the phrase of the
//! same tokens (`'你好' <-> '好世'`), perhaps a prefix (`'hel':*`); every
//! word must match. The writer keeps the index true in the message's own
//! transaction: set when stored, rewritten when edited, emptied when
//! deleted.

use super::messages::limit;
use super::PostgresStore;
use crate::protocol::{SearchQuery, UserId, LOBBY};
use crate::server::store::search_terms::{folded, indexed, terms};
use crate::server::store::StoreResult;

/// What `to_tsvector('simple', …)` is given for a message's `text`.
pub(super) fn body(text: &str) -> String {
    indexed(&folded(text), false)
}

/// The tsquery (for `to_tsquery('simple', …)`) finding messages with
/// every one of `words`; `None` when there is none.
fn query_text(words: &[String]) -> Option<String> {
    let phrases: Vec<String> = terms(words)
        .into_iter()
        .map(|term| {
            // Each token a quoted lexeme: inside quotes, a quote is written
            // twice and a backslash escaped.
            let lexemes: Vec<String> = term
                .tokens
                .iter()
                .map(|token| format!("'{}'", folded(token).replace('\\', "\\\\").replace('\'', "''")))
                .collect();
            let phrase = lexemes.join(" <-> ");
            if term.prefix {
                format!("({phrase}:*)")
            } else {
                format!("({phrase})")
            }
        })
        .collect();
    (!phrases.is_empty()).then(|| phrases.join(" & "))
}

impl PostgresStore {
    /// The ids of up to `count` messages `reader` may read that match
    /// `query`, older than `before`, newest first.
    pub(super) async fn search_ids(
        &self,
        reader: Option<UserId>,
        query: &SearchQuery,
        before: Option<i64>,
        count: usize,
    ) -> StoreResult<Vec<i64>> {
        let matching = query_text(&query.words);
        // Who may read what (`chat::access`), as SQLite's (`sqlite::search`).
        let readable = "m.deleted_at IS NULL AND m.id < $2
             AND ($6::text IS NULL OR m.room = $6)
             AND ($7::text IS NULL OR m.user_id IN (SELECT id FROM users WHERE lower(name) = lower($7)))
             AND (NOT $8 OR m.media_id IS NOT NULL)
             AND CASE WHEN m.room LIKE 'dm:%' THEN $3::bigint IS NOT NULL AND (m.user_id = $3 OR m.to_user_id = $3)
                      ELSE m.room = $5
                           OR EXISTS (SELECT 1 FROM rooms r WHERE r.name = m.room AND NOT r.private)
                           OR EXISTS (SELECT 1 FROM room_members rm WHERE rm.room = m.room AND rm.user_id = $3) END";
        let sql = match matching {
            Some(_) => format!(
                "SELECT m.id FROM messages m
                 WHERE m.search @@ to_tsquery('simple', $1) AND {readable}
                 ORDER BY m.id DESC LIMIT $4"
            ),
            None => {
                format!("SELECT m.id FROM messages m WHERE $1::text IS NULL AND {readable} ORDER BY m.id DESC LIMIT $4")
            }
        };
        Ok(sqlx::query_scalar(&sql)
            .bind(matching)
            .bind(before.unwrap_or(i64::MAX))
            .bind(reader)
            .bind(limit(count))
            .bind(LOBBY)
            .bind(query.room.as_deref())
            .bind(query.from.as_deref())
            .bind(query.files_only)
            .fetch_all(&self.pool)
            .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_become_tsquery_phrases() {
        let words = |w: &[&str]| query_text(&w.iter().map(|w| w.to_string()).collect::<Vec<_>>());
        assert_eq!(words(&["你好世"]).as_deref(), Some("('你好' <-> '好世')"));
        assert_eq!(words(&["界", "Hél"]).as_deref(), Some("('界':*) & ('hel':*)"));
        assert_eq!(words(&["it's"]).as_deref(), Some("('it''s':*)"), "a quote stays inside its lexeme");
        assert_eq!(words(&["a\\b"]).as_deref(), Some("('a\\\\b':*)"));
        assert_eq!(words(&[]), None);
        assert_eq!(body("Café 你好"), "cafe  你好 好 ");
    }
}
