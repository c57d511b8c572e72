-- Who owns an upload, and who created a room, are looked up by user: to
-- count a user's rooms (`rooms_created_by`), and by the sweep of abandoned
-- guests, which keeps anyone who owns either.
CREATE INDEX uploads_by_owner ON uploads(owner);
CREATE INDEX rooms_by_creator ON rooms(created_by);
