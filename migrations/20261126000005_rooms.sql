-- Rooms besides the lobby. A room's name is its key everywhere (URLs,
-- messages.room, the Socket.IO room): 1-32 of [a-z0-9_-], so it cannot
-- clash with "dm:<a>:<b>" or "user:<id>". The lobby is every user's and
-- has no membership rows.
CREATE TABLE rooms (
    name       TEXT    PRIMARY KEY,
    private    INTEGER NOT NULL DEFAULT 0,
    created_by INTEGER REFERENCES users(id),
    created_at INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO rooms (name, private, created_by, created_at) VALUES ('lobby', 0, NULL, 0);

CREATE TABLE room_members (
    room      TEXT    NOT NULL REFERENCES rooms(name) ON DELETE CASCADE,
    user_id   INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    joined_at INTEGER NOT NULL,
    PRIMARY KEY (room, user_id)
) WITHOUT ROWID;
CREATE INDEX room_members_by_user ON room_members(user_id, room);
