import GRDB

extension MDatabase {
    /// Queues input for a run (durably). Refused for a finished run, so input
    /// is never silently dropped.
    public func queueInput(runId: Int64, text: String, newline: Bool = true, eof: Bool = false,
                           source: String = "cli") throws -> Input {
        try write(.full) { db in
            let (status, _) = try MDatabase.statusAndHolder(db, runId)
            if status.isFinished { throw MDBError.runFinished(id: runId, status: status.rawValue) }
            return try Input.fetchOne(db, sql: """
                INSERT INTO inputs (run_id, text, newline, eof, source) VALUES (?, ?, ?, ?, ?) RETURNING *
                """, arguments: [runId, text, newline, eof, source])!
        }
    }

    /// Input queued for a run and not yet delivered, oldest first.
    public func pendingInputs(runId: Int64) throws -> [Input] {
        try read { db in
            try Input.fetchAll(db, sql: """
                SELECT * FROM inputs WHERE run_id = ? AND delivered_at IS NULL ORDER BY id
                """, arguments: [runId])
        }
    }

    /// Marks input delivered and records its `input` event, in one transaction.
    /// Returns nil if it had already been delivered.
    @discardableResult
    public func markInputDelivered(inputId: Int64) throws -> Event? {
        try write { db in
            guard let input = try Input.fetchOne(db, sql: """
                UPDATE inputs SET delivered_at = \(Timestamp.sqlNow)
                WHERE id = ? AND delivered_at IS NULL RETURNING *
                """, arguments: [inputId]) else { return nil }
            var data: [(String, JSONValue)] = [("text", .string(input.text)), ("source", .string(input.source))]
            if !input.newline { data.append(("newline", false)) }
            if input.eof { data.append(("eof", true)) }
            return try MDatabase.appendEvents(db, runId: input.runId, [NewEvent(EventType.input, .object(data))]).first
        }
    }
}
