import GRDB

/// A diff an executor made of its run's workspace, ready to be stored.
public struct NewDiff: Sendable, Equatable {
    /// The approved commit it is measured against.
    public var base: String
    /// The agent's message (`mcli propose --message`), or what asked for it.
    public var message: String
    public var patch: String
    /// JSON array of `{path, status, old_path?, binary, additions, deletions, mode_change?}`.
    public var files: String
    public var fileCount: Int
    public var additions: Int
    public var deletions: Int
    public var truncated: Bool

    /// A diff to store.
    public init(base: String, message: String, patch: String, files: String, fileCount: Int,
                additions: Int, deletions: Int, truncated: Bool) {
        self.base = base
        self.message = message
        self.patch = patch
        self.files = files
        self.fileCount = fileCount
        self.additions = additions
        self.deletions = deletions
        self.truncated = truncated
    }
}

/// Where an approved diff's target checkout ended up.
public enum TargetResult: Sendable, Equatable {
    /// Committed on the target's branch.
    case applied(commit: String)
    /// Not applied: these files conflict; the target is untouched.
    case conflict(files: [String], detail: String)
}

extension MDatabase {
    /// Stores a diff (`diffs` row, status `proposed`) and its `diff.created` event in one durable
    /// transaction. With `approval`, the approval of kind `diff` (run → `waiting_approval`,
    /// `approval.requested {diff_id}`) is created in the same transaction; without, the diff is a
    /// snapshot someone asked for (or the run's last state) and nobody is asked to decide.
    /// `handlingRequest` marks that `diff_requests` row handled, pointing at the new diff.
    public func recordDiff(runId: Int64, _ new: NewDiff, approval ask: (title: String, body: String)? = nil,
                           expiresInSeconds: Double? = nil,
                           handlingRequest requestId: Int64? = nil) throws -> (diff: Diff, approval: Approval?) {
        try write(.full) { db in
            let (status, _) = try MDatabase.statusAndHolder(db, runId)
            if status.isFinished { throw MDBError.runFinished(id: runId, status: status.rawValue) }
            let diff = try Diff.fetchOne(db, sql: """
                INSERT INTO diffs (run_id, base, message, patch, files, additions, deletions, truncated, status)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'proposed') RETURNING *
                """, arguments: [runId, new.base, new.message, new.patch, new.files, new.additions,
                                 new.deletions, new.truncated])!
            _ = try MDatabase.appendEvents(db, runId: runId, [NewEvent(EventType.diffCreated, .object([
                ("diff_id", .int(diff.id)), ("files", .int(Int64(new.fileCount))),
                ("additions", .int(Int64(new.additions))), ("deletions", .int(Int64(new.deletions))),
            ]))])
            if let requestId {
                try db.execute(sql: """
                    UPDATE diff_requests SET handled_at = \(Timestamp.sqlNow), diff_id = ? WHERE id = ? AND run_id = ?
                    """, arguments: [diff.id, requestId, runId])
            }
            guard let ask else { return (diff, nil) }
            // The body is the file summary, not the patch: events stay small, and the patch is one
            // `GET /diffs/{id}` away.
            let approval = try MDatabase.insertApproval(db, runId: runId, status: status, NewApproval(
                kind: "diff", title: ask.title, body: ask.body, diffId: diff.id, expiresInSeconds: expiresInSeconds))
            return (diff, approval)
        }
    }

    /// Marks a diff request handled without a diff (the workspace had no changes), with a `notice`.
    public func finishDiffRequest(runId: Int64, requestId: Int64, notice: String) throws {
        try write(.full) { db in
            _ = try MDatabase.statusAndHolder(db, runId)
            try db.execute(sql: "UPDATE diff_requests SET handled_at = \(Timestamp.sqlNow) WHERE id = ? AND run_id = ?",
                           arguments: [requestId, runId])
            _ = try MDatabase.appendEvents(db, runId: runId, [NewEvent(EventType.notice, .object([
                ("level", "info"), ("text", .string(notice)),
            ]))])
        }
    }

    /// Records that an approved diff is now the workspace's approved point (`diffs.status = applied`,
    /// `applied_at`) with `diff.applied {diff_id, commit, target?}`; a target conflict also appends a
    /// `notice {level: warning}`. One durable transaction.
    public func markDiffApplied(runId: Int64, diffId: Int64, commit: String, target: TargetResult?) throws {
        try write(.full) { db in
            _ = try MDatabase.statusAndHolder(db, runId)
            try db.execute(sql: """
                UPDATE diffs SET status = 'applied', applied_at = \(Timestamp.sqlNow) WHERE id = ? AND run_id = ?
                """, arguments: [diffId, runId])
            var data: [(String, JSONValue)] = [("diff_id", .int(diffId)), ("commit", .string(commit))]
            var events: [NewEvent] = []
            switch target {
            case nil: break
            case .applied(let targetCommit)?:
                data.append(("target", .object([("status", "applied"), ("commit", .string(targetCommit))])))
            case .conflict(let files, let detail)?:
                data.append(("target", .object([("status", "conflict"), ("files", .array(files.map { .string($0) }))])))
                let list = files.joined(separator: ", ")
                events.append(NewEvent(EventType.notice, .object([
                    ("level", "warning"),
                    ("text", .string("diff \(diffId) was approved but not applied to the target: conflict in \(list)"
                                     + (detail.isEmpty ? "" : " (\(detail.prefix(500)))")
                                     + "; the target is unchanged")),
                ])))
            }
            _ = try MDatabase.appendEvents(db, runId: runId, [NewEvent(EventType.diffApplied, .object(data))] + events)
        }
    }

    /// Sets a diff's status (`rejected`, or `superseded` when it could not be applied).
    public func markDiff(_ diffId: Int64, status: String) throws {
        guard ["rejected", "superseded"].contains(status) else {
            throw MDBError.invalidArgument("a diff can be marked rejected or superseded, not \(status)")
        }
        try write(.full) { db in
            try db.execute(sql: "UPDATE diffs SET status = ? WHERE id = ? AND status = 'proposed'",
                           arguments: [status, diffId])
        }
    }
}
