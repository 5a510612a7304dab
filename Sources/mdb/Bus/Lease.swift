import GRDB

extension MDatabase {
    /// Extends the lease of a run held by `workerId`. Returns false when the
    /// worker no longer holds it (the run was declared lost or finished):
    /// the holder must then stop writing for that run.
    public func renewLease(runId: Int64, workerId: String,
                           leaseSeconds: Double = Defaults.leaseDurationSeconds) throws -> Bool {
        try write { db in
            try db.execute(sql: """
                UPDATE runs SET lease_expires_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?)
                WHERE id = ? AND worker_id = ? AND status IN ('running', 'waiting_approval')
                """, arguments: [MDatabase.leaseModifier(leaseSeconds), runId, workerId])
            return db.changesCount == 1
        }
    }

    /// Hands a held run to another holder (the daemon passes it to the run's executor).
    public func transferLease(runId: Int64, from: String, to: String,
                              leaseSeconds: Double = Defaults.leaseDurationSeconds) throws -> Bool {
        try write { db in
            try db.execute(sql: """
                UPDATE runs SET worker_id = ?, lease_expires_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?)
                WHERE id = ? AND worker_id = ? AND status IN ('running', 'waiting_approval')
                """, arguments: [to, MDatabase.leaseModifier(leaseSeconds), runId, from])
            return db.changesCount == 1
        }
    }

    /// Unfinished, claimed runs whose lease has run out: their holder is gone.
    public func runsWithExpiredLease() throws -> [Run] {
        try read { db in
            try Run.fetchAll(db, sql: """
                SELECT * FROM runs
                WHERE status IN ('running', 'waiting_approval') AND lease_expires_at < \(Timestamp.sqlNow)
                ORDER BY id
                """)
        }
    }

    /// Declares a run `lost` if (and only if) its lease is still expired:
    /// checked again inside the write so a late heartbeat wins the race.
    @discardableResult
    public func markLostIfExpired(runId: Int64, reason: String) throws -> Bool {
        let expired = try read { db in
            try Bool.fetchOne(db, sql: """
                SELECT lease_expires_at < \(Timestamp.sqlNow) FROM runs
                WHERE id = ? AND status IN ('running', 'waiting_approval')
                """, arguments: [runId]) ?? false
        }
        guard expired else { return false }
        do {
            return try write(.full) { db in
                let still = try Bool.fetchOne(db, sql: """
                    SELECT lease_expires_at < \(Timestamp.sqlNow) FROM runs
                    WHERE id = ? AND status IN ('running', 'waiting_approval')
                    """, arguments: [runId]) ?? false
                guard still else { return false }
                var events = [NewEvent(EventType.notice, .object([("level", "error"), ("text", .string(reason))]))]
                events += try MDatabase.cancelPendingApprovals(db, runId: runId)
                events.append(NewEvent(EventType.runFinished, .object([("status", "lost")])))
                try db.execute(sql: """
                    UPDATE runs SET status = 'lost', finished_at = \(Timestamp.sqlNow), lease_expires_at = NULL
                    WHERE id = ?
                    """, arguments: [runId])
                _ = try MDatabase.appendEvents(db, runId: runId, events)
                return true
            }
        }
    }
}
