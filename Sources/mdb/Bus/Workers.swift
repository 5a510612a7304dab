import GRDB

extension MDatabase {
    /// Registers (or re-registers) a worker row with a fresh heartbeat.
    public func registerWorker(id: String, hostname: String, pid: Int32, concurrency: Int) throws {
        try write { db in
            try db.execute(sql: """
                INSERT INTO workers (id, hostname, pid, concurrency) VALUES (?, ?, ?, ?)
                ON CONFLICT (id) DO UPDATE SET heartbeat_at = \(Timestamp.sqlNow), stopped_at = NULL
                """, arguments: [id, hostname, pid, concurrency])
        }
    }

    /// Records a worker's heartbeat and a short status text.
    public func heartbeatWorker(id: String, status: String) throws {
        try write { db in
            try db.execute(sql: "UPDATE workers SET heartbeat_at = \(Timestamp.sqlNow), status = ? WHERE id = ?",
                           arguments: [status, id])
        }
    }

    /// Marks a worker stopped (a clean shutdown).
    public func stopWorker(id: String) throws {
        try write { db in
            try db.execute(sql: "UPDATE workers SET stopped_at = \(Timestamp.sqlNow), status = 'stopped' WHERE id = ?",
                           arguments: [id])
        }
    }
}
