-- Registered accounts. `kind` is 'guest' or 'member'; a member has an
-- argon2id password hash (PHC string). `name_key` is the name as compared
-- (NFKC, lowercased; see src/server/names.rs): registered names are unique
-- by it, and no guest may take one.
ALTER TABLE users ADD COLUMN name_key TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN password_hash TEXT;
-- Existing rows are guests with (at worst) ASCII-lowercased keys.
UPDATE users SET name_key = lower(trim(name));
CREATE UNIQUE INDEX users_member_name ON users(name_key) WHERE kind = 'member';
