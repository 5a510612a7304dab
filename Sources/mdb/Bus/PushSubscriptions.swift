import GRDB

extension MDatabase {
    /// The stored VAPID key pair (nil until `mcli notify add webpush`). Only mweb's sender reads the private key.
    public func vapidKeys() throws -> VAPIDKeyPair? {
        try read { db in
            try Row.fetchOne(db, sql: "SELECT vapid_private, vapid_public FROM push_keys WHERE id = 1")
                .map { VAPIDKeyPair(privateKey: $0[0], publicKey: $0[1]) }
        }
    }

    /// The VAPID public key the web app subscribes with, when Web Push is on
    /// (a key and a `webpush` notifier exist); nil otherwise.
    public func webPushPublicKey() throws -> String? {
        try read { db in
            try String.fetchOne(db, sql: """
                SELECT vapid_public FROM push_keys
                WHERE id = 1 AND EXISTS (SELECT 1 FROM notifiers WHERE kind = 'webpush' AND disabled_at IS NULL)
                """)
        }
    }

    /// Adds a subscription, or updates the keys of the one with the same endpoint (a browser re-subscribing).
    public func addPushSubscription(kind: String, endpoint: String, p256dh: String? = nil, auth: String? = nil) throws -> PushSubscription {
        try write(.full) { db in
            try PushSubscription.fetchOne(db, sql: """
                INSERT INTO push_subscriptions (kind, endpoint, p256dh, auth) VALUES (?, ?, ?, ?)
                ON CONFLICT (kind, endpoint) DO UPDATE SET p256dh = excluded.p256dh, auth = excluded.auth
                RETURNING *
                """, arguments: [kind, endpoint, p256dh, auth])!
        }
    }

    /// Removes a subscription by its endpoint (or device token); returns it, or `pushSubscriptionNotFound`.
    @discardableResult
    public func removePushSubscription(kind: String, endpoint: String) throws -> PushSubscription {
        try write(.full) { db in
            guard let removed = try PushSubscription.fetchOne(db, sql: """
                DELETE FROM push_subscriptions WHERE kind = ? AND endpoint = ? RETURNING *
                """, arguments: [kind, endpoint]) else { throw MDBError.pushSubscriptionNotFound(endpoint) }
            return removed
        }
    }

    /// Removes a subscription the push service says is gone (404/410, Unregistered); no error if already gone.
    public func dropPushSubscription(id: Int64) throws {
        try write { db in try db.execute(sql: "DELETE FROM push_subscriptions WHERE id = ?", arguments: [id]) }
    }

    /// Notes a delivery to a subscription.
    public func markPushSubscriptionSent(id: Int64) throws {
        try write { db in
            try db.execute(sql: "UPDATE push_subscriptions SET last_sent_at = \(Timestamp.sqlNow) WHERE id = ?", arguments: [id])
        }
    }

    /// The subscriptions of one kind, oldest first.
    public func pushSubscriptions(kind: String) throws -> [PushSubscription] {
        try read { db in
            try PushSubscription.fetchAll(db, sql: "SELECT * FROM push_subscriptions WHERE kind = ? ORDER BY id", arguments: [kind])
        }
    }
}
