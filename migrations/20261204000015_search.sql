-- Full-text search over messages (src/server/store/sqlite/search.rs).
-- Contentless: the text stays in `messages`; the index holds it with each
-- run of Chinese or Japanese characters written as overlapping pairs, so a
-- word inside such a run is found. unicode61 folds case and accents. No
-- row sizes (`columnsize=0`): hits are ordered by time, never ranked.
CREATE VIRTUAL TABLE messages_search USING fts5(
    body,
    content = '',
    columnsize = 0,
    tokenize = 'unicode61 remove_diacritics 2'
);
-- The messages stored before now are indexed when the store opens, a
-- batch at a time; this says how far that got, and goes once it is done.
INSERT INTO meta (key, value) VALUES ('search_indexed_upto', '0');
