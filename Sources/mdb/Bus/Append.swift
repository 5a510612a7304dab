import GRDB

extension MDatabase {
    /// Appends events to a run in one short write transaction: `seq` continues
    /// from `runs.last_seq` without gaps and `last_seq` moves in the same
    /// transaction. With `workerId`, the append fails unless that worker still
    /// holds the run (a run taken away as `lost` gets no more output).
    @discardableResult
    public func append(runId: Int64, _ events: [NewEvent], workerId: String? = nil,
                       durability: Durability = .normal) throws -> [Event] {
        guard !events.isEmpty else { return [] }
        return try write(durability) { db in
            let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT status, worker_id, last_seq FROM runs WHERE id = ?"),
                                       arguments: [runId])
            guard let row, let status = RunStatus(rawValue: row[0]) else { throw MDBError.runNotFound(runId) }
            if status.isFinished { throw MDBError.runFinished(id: runId, status: status.rawValue) }
            if let workerId, row[1] != workerId { throw MDBError.leaseLost(runId: runId, workerId: workerId) }
            return try MDatabase.appendEvents(db, runId: runId, events, lastSeq: row[2])
        }
    }

    /// A run's status and lease holder, read inside the caller's write transaction (throws if unknown).
    static func statusAndHolder(_ db: Database, _ runId: Int64) throws -> (RunStatus, String?) {
        let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT status, worker_id FROM runs WHERE id = ?"),
                                   arguments: [runId])
        guard let row, let status = RunStatus(rawValue: row[0]) else { throw MDBError.runNotFound(runId) }
        return (status, row[1])
    }

    /// Inserts events after the run's `last_seq` and advances it. Must run
    /// inside a write transaction that already knows the run exists.
    static func appendEvents(_ db: Database, runId: Int64, _ events: [NewEvent], lastSeq known: Int64? = nil) throws -> [Event] {
        guard !events.isEmpty else { return [] }
        let lastSeq = try known ?? Int64.fetchOne(db.cachedStatement(sql: "SELECT last_seq FROM runs WHERE id = ?"),
                                                  arguments: [runId]) ?? 0
        let insert = try db.cachedStatement(
            sql: "INSERT INTO events (run_id, seq, ts, type, data) VALUES (?, ?, ?, ?, ?)")
        let now = Timestamp.now()
        var stored: [Event] = []
        stored.reserveCapacity(events.count)
        var seq = lastSeq
        for event in events {
            seq += 1
            let ts = event.ts ?? now
            let data = event.json
            try insert.execute(arguments: [runId, seq, ts, event.type, data])
            stored.append(Event(id: db.lastInsertedRowID, runId: runId, seq: seq, ts: ts, type: event.type, data: data))
        }
        try db.cachedStatement(sql: "UPDATE runs SET last_seq = ? WHERE id = ?").execute(arguments: [seq, runId])
        return stored
    }
}
