import GRDB

extension MDatabase {
    /// Atomically claims the oldest queued run for `workerId` with a fresh lease
    /// (`UPDATE … RETURNING` inside `BEGIN IMMEDIATE`): two workers can never
    /// claim the same run. Returns nil when the queue is empty.
    public func claimNextRun(workerId: String, leaseSeconds: Double = Defaults.leaseDurationSeconds) throws -> Run? {
        try write { db in
            try Run.fetchOne(db, sql: """
                UPDATE runs
                SET status = 'running', worker_id = ?, started_at = \(Timestamp.sqlNow),
                    lease_expires_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?)
                WHERE id = (SELECT id FROM runs WHERE status = 'queued' ORDER BY id LIMIT 1)
                RETURNING *
                """, arguments: [workerId, MDatabase.leaseModifier(leaseSeconds)])
        }
    }

    /// The SQLite date modifier for "now + seconds".
    static func leaseModifier(_ seconds: Double) -> String { seconds < 0 ? "\(seconds) seconds" : "+\(seconds) seconds" }
}
