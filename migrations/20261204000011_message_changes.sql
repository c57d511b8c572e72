-- Messages that change after they are sent: edits, deletions (a tombstone
-- keeps the row, its `seq` and who sent it, and nothing of what it said),
-- and reactions.
ALTER TABLE messages ADD COLUMN edited_at INTEGER;
ALTER TABLE messages ADD COLUMN deleted_at INTEGER;
-- Each conversation numbers its changes from 1 without gaps, as it numbers
-- its messages: a message holds the number of its latest change (0: it
-- never changed). A client that was away asks for every message whose
-- number is above the last it saw, and gets each in its current state.
ALTER TABLE messages ADD COLUMN change_seq INTEGER NOT NULL DEFAULT 0;
CREATE INDEX messages_by_change ON messages(room, change_seq) WHERE change_seq > 0;

-- One row per person and emoji on a message.
CREATE TABLE reactions (
    message_id INTEGER NOT NULL REFERENCES messages(id),
    emoji      TEXT    NOT NULL,
    user_id    INTEGER NOT NULL REFERENCES users(id),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (message_id, emoji, user_id)
) WITHOUT ROWID;
-- The guest sweep asks whether someone reacted to anything.
CREATE INDEX reactions_by_user ON reactions(user_id);
