import Foundation
import GRDB

extension MDatabase {
    /// Stores a new token by the hash of its secret (the secret itself is never stored).
    /// With `firstUseWithin`, it is a pairing token: refused unless first used within
    /// that many seconds; making one deletes the pairing tokens that expired unused.
    public func createToken(name: String, scope: TokenScope, hash: String,
                            firstUseWithin seconds: Double? = nil) throws -> Token {
        let name = name.trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty else { throw MDBError.invalidArgument("a token needs a name (--name)") }
        guard name.utf8.count <= 200 else { throw MDBError.invalidArgument("a token name is at most 200 bytes") }
        return try write(.full) { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM tokens WHERE name = ?", arguments: [name]) == true {
                throw MDBError.invalidArgument("a token named '\(name)' already exists: pick another name, or revoke it first")
            }
            guard let seconds else {
                return try Token.fetchOne(db, sql: """
                    INSERT INTO tokens (name, scope, hash) VALUES (?, ?, ?) RETURNING *
                    """, arguments: [name, scope.rawValue, hash])!
            }
            // A link nobody opened in time is dead weight in `mcli token list`.
            try db.execute(sql: """
                DELETE FROM tokens WHERE last_used_at IS NULL AND use_by IS NOT NULL AND use_by <= \(Timestamp.sqlNow)
                """)
            return try Token.fetchOne(db, sql: """
                INSERT INTO tokens (name, scope, hash, use_by)
                VALUES (?, ?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?)) RETURNING *
                """, arguments: [name, scope.rawValue, hash, "+\(Int(seconds.rounded(.up))) seconds"])!
        }
    }

    /// Every token, oldest first (revoked ones included, marked by `revoked_at`).
    public func tokens() throws -> [Token] {
        try read { try Token.fetchAll($0, sql: "SELECT * FROM tokens ORDER BY id") }
    }

    /// Revokes a token by id or name (durably); its sessions end with it.
    @discardableResult
    public func revokeToken(_ key: String) throws -> Token {
        try write(.full) { db in
            let token: Token?
            if let id = Int64(key) {
                token = try Token.fetchOne(db, key: id)
            } else {
                token = try Token.fetchOne(db, sql: "SELECT * FROM tokens WHERE name = ?", arguments: [key])
            }
            guard let token else { throw MDBError.tokenNotFound(key) }
            try db.execute(sql: """
                UPDATE tokens SET revoked_at = coalesce(revoked_at, \(Timestamp.sqlNow)) WHERE id = ?
                """, arguments: [token.id])
            try db.execute(sql: "DELETE FROM sessions WHERE token_id = ?", arguments: [token.id])
            return try Token.fetchOne(db, key: token.id)!
        }
    }

    /// The token with this secret hash if it works: not revoked, and not a
    /// pairing token left unused past its `use_by`.
    public func activeToken(hash: String) throws -> Token? {
        try read { db in
            try Token.fetchOne(db.cachedStatement(sql: """
                SELECT * FROM tokens WHERE hash = ? AND revoked_at IS NULL
                AND (use_by IS NULL OR last_used_at IS NOT NULL OR use_by > \(Timestamp.sqlNow))
                """), arguments: [hash])
        }
    }

    /// Records that a token was used, at most once a minute (a write per request would contend with executors).
    public func touchToken(id: Int64) throws {
        try write { db in
            try db.execute(sql: """
                UPDATE tokens SET last_used_at = \(Timestamp.sqlNow)
                WHERE id = ? AND (last_used_at IS NULL OR last_used_at < strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-60 seconds'))
                """, arguments: [id])
        }
    }
}
