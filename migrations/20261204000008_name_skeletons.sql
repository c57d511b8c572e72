-- Names are also compared by their confusable skeleton (Unicode TS #39), so
-- that look-alikes ("Olivіa" with a Cyrillic і) are one name; and a guest's
-- name stays theirs while their session is live, so it is looked up among
-- guests too (see `sessions.presented` below). The server fills
-- `name_skeleton` for existing users when it starts (SQL has no skeleton
-- function).
ALTER TABLE users ADD COLUMN name_skeleton TEXT NOT NULL DEFAULT '';
CREATE INDEX users_by_name_key ON users(name_key);
CREATE INDEX users_by_name_skeleton ON users(name_skeleton);
-- A session whose token came back at least once (a handshake, the cookie of
-- a page, an upload): only such a session keeps its guest's name, because
-- a client that never presents its token (the prototype's) cannot return
-- to the name anyway.
ALTER TABLE sessions ADD COLUMN presented INTEGER NOT NULL DEFAULT 0;
