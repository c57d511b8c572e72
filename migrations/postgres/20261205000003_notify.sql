-- How much of each conversation (`messages.room`'s key) notifies each
-- person: 'all', 'mentions' or 'mute'. Only chosen levels have a row;
-- without one, private conversations notify of all and rooms of mentions.
CREATE TABLE notify_levels (
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    room    TEXT   NOT NULL,
    level   TEXT   NOT NULL CHECK (level IN ('all', 'mentions', 'mute')),
    PRIMARY KEY (user_id, room)
);
