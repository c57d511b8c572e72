-- A message can answer another of its conversation: it shows a quote of
-- the original, read as the original stands now (edited, or deleted).
ALTER TABLE messages ADD COLUMN reply_to INTEGER REFERENCES messages(id);
