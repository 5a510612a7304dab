import GRDB

extension MDatabase {
    /// Stores the hash of a new action token for one approval and notifier,
    /// replacing the one an earlier attempt of the same notification carried.
    public func issueActionToken(approvalId: Int64, notifierId: Int64, hash: String, lifetimeSeconds: Double) throws {
        try write { db in
            try db.execute(sql: """
                INSERT INTO action_tokens (approval_id, notifier_id, hash, expires_at)
                VALUES (?, ?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?))
                ON CONFLICT (approval_id, notifier_id) DO UPDATE
                SET hash = excluded.hash, expires_at = excluded.expires_at, used_at = NULL
                """, arguments: [approvalId, notifierId, hash, MDatabase.leaseModifier(lifetimeSeconds)])
        }
    }

    /// Decides `approvalId` with an action token (a notification's button):
    /// the token must be for that approval, unused and unexpired, and is
    /// spent by this call whatever the outcome. Durable before it returns.
    public func decideWithActionToken(approvalId: Int64, hash: String, decision: Decision) throws -> Approval {
        try write(.full) { db in
            guard let row = try Row.fetchOne(db, sql: """
                SELECT id, approval_id, notifier_id, used_at, expires_at < \(Timestamp.sqlNow) AS expired
                FROM action_tokens WHERE hash = ?
                """, arguments: [hash]) else { throw MDBError.actionRefused("the token is unknown or was replaced") }
            guard row["approval_id"] as Int64 == approvalId else {
                throw MDBError.actionRefused("the token is for another approval")
            }
            guard (row["used_at"] as String?) == nil else { throw MDBError.actionRefused("the token was already used") }
            guard !(row["expired"] as Bool) else { throw MDBError.actionRefused("the token has expired") }
            try db.execute(sql: "UPDATE action_tokens SET used_at = \(Timestamp.sqlNow) WHERE id = ?", arguments: [row["id"] as Int64])
            let by = "notifier:\(row["notifier_id"] as Int64)"
            guard let approval = try Approval.fetchOne(db, sql: """
                UPDATE approvals SET status = ?, resolved_at = \(Timestamp.sqlNow), resolved_by = ?
                WHERE id = ? AND status = 'pending' RETURNING *
                """, arguments: [decision.status.rawValue, by, approvalId]) else {
                let existing = try Approval.fetchOne(db, key: approvalId)
                throw MDBError.approvalAlreadyResolved(id: approvalId, status: existing?.status.rawValue ?? "gone")
            }
            try MDatabase.recordResolution(db, approval, decision: decision.eventWord, by: by, note: nil)
            return approval
        }
    }
}
