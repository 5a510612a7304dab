import GRDB

/// What an agent asks a person to decide.
public struct NewApproval: Sendable, Equatable {
    public var kind: String
    public var title: String
    public var body: String
    public var payload: JSONValue
    public var diffId: Int64?
    /// Seconds until the approval expires unanswered (nil: never).
    public var expiresInSeconds: Double?

    public init(kind: String = "ask", title: String, body: String = "", payload: JSONValue = .object([]),
                diffId: Int64? = nil, expiresInSeconds: Double? = nil) {
        self.kind = kind
        self.title = title
        self.body = body
        self.payload = payload
        self.diffId = diffId
        self.expiresInSeconds = expiresInSeconds
    }
}

extension MDatabase {
    /// Creates a pending approval, its `approval.requested` event and moves the
    /// run to `waiting_approval`, all in one transaction.
    public func requestApproval(runId: Int64, _ new: NewApproval) throws -> Approval {
        guard !new.kind.isEmpty else { throw MDBError.invalidArgument("an approval needs a kind") }
        return try write(.full) { db in
            let (status, _) = try MDatabase.statusAndHolder(db, runId)
            if status.isFinished { throw MDBError.runFinished(id: runId, status: status.rawValue) }
            return try MDatabase.insertApproval(db, runId: runId, status: status, new)
        }
    }

    /// Inserts a pending approval, moves a running run to `waiting_approval` and appends
    /// `approval.requested`, inside the caller's transaction (the run is already locked).
    static func insertApproval(_ db: Database, runId: Int64, status: RunStatus, _ new: NewApproval) throws -> Approval {
        var new = new
        if new.expiresInSeconds == nil,
           let seconds = try Int.fetchOne(db, sql: "SELECT json_extract(spec, '$.approvals.timeout_s') FROM runs WHERE id = ?",
                                         arguments: [runId]), seconds > 0 {
            new.expiresInSeconds = Double(seconds)  // the run's default wait
        }
        let approval = try Approval.fetchOne(db, sql: """
            INSERT INTO approvals (run_id, kind, title, body, payload, diff_id, expires_at)
            VALUES (?, ?, ?, ?, ?, ?, CASE WHEN ? IS NULL THEN NULL
                                           ELSE strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?) END)
            RETURNING *
            """, arguments: [runId, new.kind, new.title, new.body, new.payload.text, new.diffId,
                             new.expiresInSeconds, new.expiresInSeconds.map { MDatabase.leaseModifier($0) }])!
        if status == .running {
            try db.execute(sql: "UPDATE runs SET status = 'waiting_approval' WHERE id = ?", arguments: [runId])
        }
        var data: [(String, JSONValue)] = [
            ("approval_id", .int(approval.id)), ("kind", .string(new.kind)),
            ("title", .string(new.title)), ("body", .string(new.body)),
        ]
        if let diffId = new.diffId { data.append(("diff_id", .int(diffId))) }
        _ = try MDatabase.appendEvents(db, runId: runId, [NewEvent(EventType.approvalRequested, .object(data))])
        return approval
    }

    /// Resolves a pending approval. The first decision wins
    /// (`UPDATE … WHERE status = 'pending'`); any later one throws
    /// `approvalAlreadyResolved`. The run returns to `running` when nothing
    /// else is pending.
    public func resolveApproval(id: Int64, decision: Decision, by: String, note: String? = nil,
                                always: Bool = false) throws -> Approval {
        try write(.full) { db in
            guard let approval = try Approval.fetchOne(db, sql: """
                UPDATE approvals
                SET status = ?, resolved_at = \(Timestamp.sqlNow), resolved_by = ?, note = ?, always = ?
                WHERE id = ? AND status = 'pending'
                RETURNING *
                """, arguments: [decision.status.rawValue, by, note, always, id]) else {
                guard let existing = try Approval.fetchOne(db, key: id) else { throw MDBError.approvalNotFound(id) }
                throw MDBError.approvalAlreadyResolved(id: id, status: existing.status.rawValue)
            }
            try MDatabase.recordResolution(db, approval, decision: decision.eventWord, by: by, note: note)
            return approval
        }
    }

    /// Appends `approval.resolved` and returns the run to `running` if nothing
    /// else is pending.
    static func recordResolution(_ db: Database, _ approval: Approval, decision: String, by: String,
                                 note: String?) throws {
        var data: [(String, JSONValue)] = [
            ("approval_id", .int(approval.id)), ("decision", .string(decision)), ("by", .string(by)),
        ]
        if let note { data.append(("note", .string(note))) }
        if approval.always { data.append(("always", true)) }
        _ = try MDatabase.appendEvents(db, runId: approval.runId, [NewEvent(EventType.approvalResolved, .object(data))])
        try db.execute(sql: """
            UPDATE runs SET status = 'running'
            WHERE id = ? AND status = 'waiting_approval'
              AND NOT EXISTS (SELECT 1 FROM approvals WHERE run_id = ? AND status = 'pending')
            """, arguments: [approval.runId, approval.runId])
    }

    /// Cancels a run's pending approvals inside a finishing transaction and
    /// returns their `approval.resolved {decision: canceled}` events.
    static func cancelPendingApprovals(_ db: Database, runId: Int64) throws -> [NewEvent] {
        let canceled = try Approval.fetchAll(db, sql: """
            UPDATE approvals SET status = 'canceled', resolved_at = \(Timestamp.sqlNow), resolved_by = 'system'
            WHERE run_id = ? AND status = 'pending' RETURNING *
            """, arguments: [runId])
        return canceled.sorted { $0.id < $1.id }.map {
            NewEvent(EventType.approvalResolved, .object([
                ("approval_id", .int($0.id)), ("decision", "canceled"), ("by", "system"),
            ]))
        }
    }

    /// Resolves approvals past their `expires_at`, with their `approval.resolved
    /// {by: "system"}` events: `expired` (a no) unless the run's spec says
    /// `approvals.on_expiry: "approve"`, then `approved` with a note saying why.
    @discardableResult
    public func expireApprovals() throws -> [Approval] {
        // Called every second by the reaper: look first (a read costs no fsync),
        // write only when something is due.
        let due = try read { db in
            try Bool.fetchOne(db, sql: """
                SELECT EXISTS (SELECT 1 FROM approvals
                               WHERE status = 'pending' AND expires_at IS NOT NULL AND expires_at < \(Timestamp.sqlNow))
                """) ?? false
        }
        guard due else { return [] }
        return try write(.full) { db in
            let expired = try Approval.fetchAll(db, sql: """
                UPDATE approvals SET
                    status = CASE WHEN (SELECT json_extract(r.spec, '$.approvals.on_expiry') FROM runs r
                                        WHERE r.id = approvals.run_id) = 'approve' THEN 'approved' ELSE 'expired' END,
                    resolved_at = \(Timestamp.sqlNow), resolved_by = 'system'
                WHERE status = 'pending' AND expires_at IS NOT NULL AND expires_at < \(Timestamp.sqlNow)
                RETURNING *
                """)
            var resolved: [Approval] = []
            for var approval in expired.sorted(by: { $0.id < $1.id }) {
                if approval.status == .approved {
                    approval.note = Self.approvedOnExpiryNote
                    try db.execute(sql: "UPDATE approvals SET note = ? WHERE id = ?", arguments: [approval.note, approval.id])
                    try MDatabase.recordResolution(db, approval, decision: "approved", by: "system", note: approval.note)
                } else {
                    try MDatabase.recordResolution(db, approval, decision: "expired", by: "system", note: nil)
                }
                resolved.append(approval)
            }
            return resolved
        }
    }

    /// The note of an approval the run's spec approved when nobody answered in time.
    public static let approvedOnExpiryNote = "nobody decided in time; the run's spec approves on expiry"

    /// One approval, or `approvalNotFound`.
    public func approval(_ id: Int64) throws -> Approval {
        guard let approval = try read({ try Approval.fetchOne($0, key: id) }) else { throw MDBError.approvalNotFound(id) }
        return approval
    }

    /// Approvals, newest first, filtered by status and run when given.
    public func approvals(status: ApprovalStatus? = nil, runId: Int64? = nil, limit: Int = 100) throws -> [Approval] {
        try read { db in
            var sql = "SELECT * FROM approvals WHERE 1"
            var args: StatementArguments = []
            if let status { sql += " AND status = ?"; args += [status.rawValue] }
            if let runId { sql += " AND run_id = ?"; args += [runId] }
            sql += " ORDER BY id DESC LIMIT ?"
            args += [max(1, min(limit, Defaults.maxEventPageSize))]
            return try Approval.fetchAll(db, sql: sql, arguments: args)
        }
    }
}
