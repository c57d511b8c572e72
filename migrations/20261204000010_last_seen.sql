-- When each user's last connection closed, for "last seen" in a room's
-- member list. NULL: not since this column exists.
ALTER TABLE users ADD COLUMN last_seen_at INTEGER;
