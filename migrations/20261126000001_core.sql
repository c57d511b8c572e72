-- RTCA core schema: users, sessions and messages.
-- Times are milliseconds since the Unix epoch.

CREATE TABLE users (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL,
    kind       TEXT    NOT NULL DEFAULT 'guest',
    created_at INTEGER NOT NULL
);

-- Session tokens are never stored: only their SHA-256.
CREATE TABLE sessions (
    token_hash BLOB    PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX sessions_by_user ON sessions(user_id);

-- One table for every conversation. `room` is a public room name ("lobby")
-- or, for a private conversation, "dm:<low user id>:<high user id>".
-- `seq` numbers the messages of one conversation from 1 without gaps.
CREATE TABLE messages (
    id         INTEGER PRIMARY KEY,
    room       TEXT    NOT NULL,
    seq        INTEGER NOT NULL,
    user_id    INTEGER NOT NULL REFERENCES users(id),
    -- For a private message, the recipient.
    to_user_id INTEGER REFERENCES users(id),
    text       TEXT    NOT NULL,
    cid        TEXT,
    created_at INTEGER NOT NULL,
    UNIQUE (room, seq),
    -- A client's retry of the same message is stored once.
    UNIQUE (user_id, cid)
);
