-- How far each person has read each conversation (`messages.room`'s key):
-- unread counts that survive a reload and agree across devices, and in a
-- private conversation, "Seen" for the other party.
CREATE TABLE read_state (
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    room    TEXT    NOT NULL,
    seq     INTEGER NOT NULL,
    PRIMARY KEY (user_id, room)
) WITHOUT ROWID;
-- The other party's row of a private conversation.
CREATE INDEX read_state_by_room ON read_state(room);
