-- Listing a user's private conversations (`conversations` event, sidebar)
-- reads the messages they sent and the ones they received; one partial
-- index for each side keeps that off a full table scan.
CREATE INDEX messages_private_sent ON messages(user_id, room) WHERE to_user_id IS NOT NULL;
CREATE INDEX messages_private_received ON messages(to_user_id, room) WHERE to_user_id IS NOT NULL;
