//! Full-text search in SQLite: an FTS5 index of every message's text
//! (`messages_search`, contentless: the text itself stays in `messages`).
//!
//! unicode61 finds Latin, Greek and Cyrillic words, whatever their case or
//! accents; what it indexes is the text as `store::search_terms` writes it
//! (Chinese and Japanese as overlapping pairs), and a query is a phrase of
//! the same tokens per word (`"你好 好世"`, `"hel"*`).
//!
//! The writer (`group_commit`, `changes`) keeps the index true in the same
//! transaction as the message: indexed when stored; when edited or
//! deleted, its old words taken out (FTS5's `delete` command, given the
//! text as it was indexed) and its new ones put in. Messages stored before
//! the index existed are indexed when the store opens ([`backfill`]).
//! `columnsize=0`: nothing ranks hits by length, so no row sizes are kept
//! (finding 34 measures what the index costs the writer).

use sqlx::{Row, SqlitePool};

use super::SqliteStore;
use crate::protocol::{SearchQuery, UserId, LOBBY};
use crate::server::store::search_terms::{indexed, terms};
use crate::server::store::StoreResult;

/// Messages indexed per transaction while catching up at open.
const BACKFILL_BATCH: i64 = 2_000;

/// The FTS5 expression finding messages with every one of `words`: each
/// term a quoted phrase, ending in `*` when it is a prefix. `None` when
/// there is no word.
fn match_expression(words: &[String]) -> Option<String> {
    let phrases: Vec<String> = terms(words)
        .into_iter()
        .map(|term| {
            // Inside double quotes every character is literal; a quote is
            // written twice.
            let phrase = format!("\"{}\"", term.tokens.join(" ").replace('"', "\"\""));
            if term.prefix {
                phrase + "*"
            } else {
                phrase
            }
        })
        .collect();
    (!phrases.is_empty()).then(|| phrases.join(" AND "))
}

/// Indexes message `id`, whose text is `text`, in the writer's transaction.
pub(super) fn index(tx: &rusqlite::Connection, id: i64, text: &str) -> rusqlite::Result<()> {
    if text.is_empty() {
        return Ok(());
    }
    tx.prepare_cached("INSERT INTO messages_search (rowid, body) VALUES (?, ?)")?
        .execute(rusqlite::params![id, indexed(text, false)])?;
    Ok(())
}

/// Takes message `id`, whose text was `old_text`, out of the index (it is
/// being edited or deleted). A contentless index forgets a row only when
/// told the very words it indexed for it: `indexed` gives them again.
pub(super) fn unindex(tx: &rusqlite::Connection, id: i64, old_text: &str) -> rusqlite::Result<()> {
    if old_text.is_empty() {
        return Ok(());
    }
    tx.prepare_cached("INSERT INTO messages_search (messages_search, rowid, body) VALUES ('delete', ?, ?)")?
        .execute(rusqlite::params![id, indexed(old_text, false)])?;
    Ok(())
}

/// Indexes the messages stored before the index existed, a batch per
/// transaction; `meta.search_indexed_upto` says how far it got, so a stop
/// midway resumes, and goes once all are (from then on the writer keeps
/// the index whole). Runs before the writer starts.
pub(super) async fn backfill(pool: &SqlitePool) -> StoreResult<u64> {
    let mut indexed_now = 0;
    loop {
        let mut tx = pool.begin().await?;
        let upto: Option<i64> =
            sqlx::query_scalar("SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'search_indexed_upto'")
                .fetch_optional(&mut *tx)
                .await?;
        let Some(upto) = upto else { return Ok(indexed_now) };
        let rows = sqlx::query("SELECT id, text FROM messages WHERE id > ? AND deleted_at IS NULL ORDER BY id LIMIT ?")
            .bind(upto)
            .bind(BACKFILL_BATCH)
            .fetch_all(&mut *tx)
            .await?;
        let Some(last) = rows.last().map(|row| row.try_get::<i64, _>("id")).transpose()? else {
            sqlx::query("DELETE FROM meta WHERE key = 'search_indexed_upto'").execute(&mut *tx).await?;
            tx.commit().await?;
            return Ok(indexed_now);
        };
        for row in &rows {
            let text: String = row.try_get("text")?;
            if !text.is_empty() {
                sqlx::query("INSERT INTO messages_search (rowid, body) VALUES (?, ?)")
                    .bind(row.try_get::<i64, _>("id")?)
                    .bind(indexed(&text, false))
                    .execute(&mut *tx)
                    .await?;
            }
        }
        sqlx::query("UPDATE meta SET value = ? WHERE key = 'search_indexed_upto'").bind(last).execute(&mut *tx).await?;
        tx.commit().await?;
        indexed_now += rows.len() as u64;
    }
}

impl SqliteStore {
    /// The ids of up to `limit` messages `reader` may read that match
    /// `query`, older than `before`, newest first.
    pub(super) async fn search_ids(
        &self,
        reader: Option<UserId>,
        query: &SearchQuery,
        before: Option<i64>,
        limit: usize,
    ) -> StoreResult<Vec<i64>> {
        let matching = match_expression(&query.words);
        // Who may read what (`chat::access`): the lobby and public rooms,
        // private rooms one is a member of, one's own private
        // conversations. Deleted messages are never found.
        let readable = "m.deleted_at IS NULL AND m.id < ?2
             AND (?6 IS NULL OR m.room = ?6)
             AND (?7 IS NULL OR m.user_id IN (SELECT id FROM users WHERE name = ?7 COLLATE NOCASE))
             AND (NOT ?8 OR m.media_id IS NOT NULL)
             AND CASE WHEN m.room LIKE 'dm:%' THEN ?3 IS NOT NULL AND (m.user_id = ?3 OR m.to_user_id = ?3)
                      ELSE m.room = ?5
                           OR EXISTS (SELECT 1 FROM rooms r WHERE r.name = m.room AND r.private = 0)
                           OR EXISTS (SELECT 1 FROM room_members rm WHERE rm.room = m.room AND rm.user_id = ?3) END";
        let sql = match matching {
            // The index gives its matches newest first; the first `limit`
            // readable ones end the walk.
            Some(_) => format!(
                "SELECT m.id FROM messages_search s JOIN messages m ON m.id = s.rowid
                 WHERE messages_search MATCH ?1 AND {readable}
                 ORDER BY s.rowid DESC LIMIT ?4"
            ),
            None => format!("SELECT m.id FROM messages m WHERE ?1 IS NULL AND {readable} ORDER BY m.id DESC LIMIT ?4"),
        };
        let ids = sqlx::query_scalar(&sql)
            .bind(matching)
            .bind(before.unwrap_or(i64::MAX))
            .bind(reader)
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .bind(LOBBY)
            .bind(query.room.as_deref())
            .bind(query.from.as_deref())
            .bind(query.files_only)
            .fetch_all(&self.pool)
            .await?;
        Ok(ids)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn terms_become_fts5_phrases() {
        let words = |w: &[&str]| match_expression(&w.iter().map(|w| w.to_string()).collect::<Vec<_>>());
        assert_eq!(words(&["你好世"]).unwrap(), "\"你好 好世\"");
        assert_eq!(words(&["界", "Hel"]).unwrap(), "\"界\"* AND \"Hel\"*");
        assert_eq!(words(&["a你"]).unwrap(), "\"a 你\"*", "a word ending in one character goes on");
        assert_eq!(words(&["ab"]).unwrap(), "\"ab\"", "two letters are a whole word");
        assert_eq!(words(&["a\"bc"]).unwrap(), "\"a\"\"bc\"*", "a quote stays inside its phrase");
        assert_eq!(words(&[]), None);
    }
}
