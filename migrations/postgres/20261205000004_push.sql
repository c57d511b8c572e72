-- Web Push: each device's subscription (its push service's endpoint and
-- the keys its pushes are encrypted for), kept for the session that gave
-- it: signing out, or the session expiring, forgets the device.
CREATE TABLE push_subscriptions (
    endpoint     TEXT   PRIMARY KEY,
    session_hash BYTEA  NOT NULL REFERENCES sessions (token_hash) ON DELETE CASCADE,
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    p256dh       TEXT   NOT NULL,
    auth         TEXT   NOT NULL,
    created_at   BIGINT NOT NULL
);
CREATE INDEX push_subscriptions_by_user ON push_subscriptions (user_id, created_at);
CREATE INDEX push_subscriptions_by_session ON push_subscriptions (session_hash);
-- The server's VAPID key is made at first start and kept in `meta`
-- ('vapid_private_key'), so every node and every restart signs alike.
