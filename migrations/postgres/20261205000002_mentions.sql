-- Whom a message calls, as sent: the ids of the people it names
-- (comma-separated), and `everyone`: 'here' (the room's members online)
-- or 'room' (all of them).
ALTER TABLE messages ADD COLUMN mentions TEXT;
ALTER TABLE messages ADD COLUMN everyone TEXT;
-- Who each message called: the people it names who can read it, and the
-- members `@here` or `@room` reached when it was sent. Unread mention
-- counts and the list of my mentions read it by person.
CREATE TABLE mentioned (
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    room       TEXT   NOT NULL,
    seq        BIGINT NOT NULL,
    message_id BIGINT NOT NULL REFERENCES messages (id),
    PRIMARY KEY (user_id, room, seq)
);
CREATE INDEX mentioned_by_user ON mentioned (user_id, message_id);
-- A deleted message calls nobody any more: its rows go.
CREATE INDEX mentioned_by_message ON mentioned (message_id);
