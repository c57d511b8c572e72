-- Threads: a message can answer a thread's root (one level: a reply is
-- never a root). Replies are messages of the same conversation, numbered
-- by its `seq` like any other, so resuming by `seq` brings them too; a
-- client shows them in the thread, and in the conversation as well those
-- sent there too (`in_conversation`). The root keeps its summary (how
-- many replies, when the last came), which changes as a change does.
ALTER TABLE messages ADD COLUMN thread_root INTEGER REFERENCES messages(id);
ALTER TABLE messages ADD COLUMN in_conversation INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN thread_replies INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN thread_last_at INTEGER;
CREATE INDEX messages_by_thread ON messages(thread_root, seq) WHERE thread_root IS NOT NULL;
