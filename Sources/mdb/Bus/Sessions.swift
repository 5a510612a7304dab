import GRDB

extension MDatabase {
    /// Opens a browser session for a token, stored by the hash of its cookie value.
    public func createSession(tokenId: Int64, hash: String,
                              lifetimeSeconds: Double = Defaults.sessionLifetimeSeconds) throws -> Session {
        try write(.full) { db in
            // Expired sessions are swept here rather than by a timer: logins are rare.
            try db.execute(sql: "DELETE FROM sessions WHERE expires_at < \(Timestamp.sqlNow)")
            return try Session.fetchOne(db, sql: """
                INSERT INTO sessions (token_id, hash, expires_at)
                VALUES (?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?)) RETURNING *
                """, arguments: [tokenId, hash, MDatabase.leaseModifier(lifetimeSeconds)])!
        }
    }

    /// The token behind an unexpired session whose token is not revoked.
    public func sessionToken(hash: String) throws -> Token? {
        try read { db in
            try Token.fetchOne(db.cachedStatement(sql: """
                SELECT tokens.* FROM sessions JOIN tokens ON tokens.id = sessions.token_id
                WHERE sessions.hash = ? AND sessions.expires_at > \(Timestamp.sqlNow) AND tokens.revoked_at IS NULL
                """), arguments: [hash])
        }
    }

    /// Ends a session (logout). Returns whether one was found.
    @discardableResult
    public func deleteSession(hash: String) throws -> Bool {
        try write { db in
            try db.execute(sql: "DELETE FROM sessions WHERE hash = ?", arguments: [hash])
            return db.changesCount > 0
        }
    }
}
