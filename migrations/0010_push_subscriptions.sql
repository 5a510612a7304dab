-- Web Push and APNs (docs/PUSH.md). The server's VAPID key pair, made once by
-- `mcli notify add webpush`: the private key stays in the database, read only
-- by mweb to sign its requests (never in an API answer); the public key is what
-- the web app subscribes with. Subscriptions are the browsers' endpoints (with
-- their encryption keys) and the native app's APNs device tokens; a push
-- service's 404/410 (APNs: Unregistered, BadDeviceToken) deletes one.
CREATE TABLE push_keys (
    id             INTEGER PRIMARY KEY CHECK (id = 1),
    vapid_private  TEXT NOT NULL,                    -- base64url P-256 private scalar (32 bytes)
    vapid_public   TEXT NOT NULL,                    -- base64url uncompressed point (65 bytes)
    created_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE TABLE push_subscriptions (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    kind          TEXT NOT NULL CHECK (kind IN ('webpush', 'apns')),
    endpoint      TEXT NOT NULL CHECK (endpoint <> ''),  -- the Web Push endpoint URL, or the APNs device token (hex)
    p256dh        TEXT,                              -- Web Push: the browser's base64url public key
    auth          TEXT,                              -- Web Push: the browser's base64url auth secret
    created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    last_sent_at  TEXT,
    UNIQUE (kind, endpoint)
);
