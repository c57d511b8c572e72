-- Files people share. Bytes live outside the database, stored once per
-- content (by SHA-256, see src/server/media/blobs.rs); the database holds
-- who uploaded what, and which message carries it.
CREATE TABLE media_blobs (
    sha256     TEXT    PRIMARY KEY,
    size       INTEGER NOT NULL,
    -- Upright pixel size of an image; NULL for other files.
    width      INTEGER,
    height     INTEGER,
    -- The preview's type (image/jpeg or image/png); NULL when there is none.
    thumb_mime TEXT,
    -- Bumped by every upload of these bytes: the orphan sweep only removes
    -- blobs nobody has uploaded for a whole grace period.
    last_used  INTEGER NOT NULL
) WITHOUT ROWID;

-- One row per upload. `id` is random and unguessable; it is what URLs and
-- messages name. An upload is private to its owner until a message carries
-- it; from then on it is readable by whoever can read that message.
CREATE TABLE uploads (
    id         TEXT    PRIMARY KEY,
    sha256     TEXT    NOT NULL REFERENCES media_blobs(sha256),
    owner      INTEGER NOT NULL REFERENCES users(id),
    name       TEXT    NOT NULL,
    mime       TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    message_id INTEGER REFERENCES messages(id)
) WITHOUT ROWID;
CREATE INDEX uploads_by_blob ON uploads(sha256);
CREATE INDEX uploads_unlinked ON uploads(created_at) WHERE message_id IS NULL;

ALTER TABLE messages ADD COLUMN media_id TEXT REFERENCES uploads(id);
