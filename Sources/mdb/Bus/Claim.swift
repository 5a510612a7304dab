import GRDB

extension MDatabase {
    /// Atomically claims the oldest queued run for `workerId` with a fresh lease
    /// (`UPDATE … RETURNING` inside `BEGIN IMMEDIATE`): two workers can never
    /// claim the same run. With `activeLimit`, only while fewer runs than that
    /// are running or waiting for approval on the host, counted in the same
    /// statement, so two daemons cannot both take the last free slot. Returns
    /// nil when the queue is empty or the limit is reached.
    public func claimNextRun(workerId: String, leaseSeconds: Double = Defaults.leaseDurationSeconds,
                             activeLimit: Int = .max) throws -> Run? {
        try write { db in
            try Run.fetchOne(db, sql: """
                UPDATE runs
                SET status = 'running', worker_id = ?, started_at = \(Timestamp.sqlNow),
                    lease_expires_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?)
                WHERE id = (SELECT id FROM runs WHERE status = 'queued' ORDER BY id LIMIT 1)
                  AND (SELECT count(*) FROM runs WHERE status IN ('running', 'waiting_approval')) < ?
                RETURNING *
                """, arguments: [workerId, MDatabase.leaseModifier(leaseSeconds), activeLimit])
        }
    }

    /// The SQLite date modifier for "now + seconds".
    static func leaseModifier(_ seconds: Double) -> String { seconds < 0 ? "\(seconds) seconds" : "+\(seconds) seconds" }
}
