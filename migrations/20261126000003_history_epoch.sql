-- Which history this database holds. `seq` restarts at 1 in a new database,
-- so a client that remembers seq 150 from the old one would otherwise ask
-- for "after 150" and miss everything new. Clients compare the epoch and
-- start over when it changes. After restoring a backup (which rewinds seq),
-- give it a new epoch:
--   UPDATE meta SET value = lower(hex(randomblob(8))) WHERE key = 'history_epoch';
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
INSERT INTO meta (key, value) VALUES ('history_epoch', lower(hex(randomblob(8))));
