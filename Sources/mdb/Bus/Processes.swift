import GRDB

extension MDatabase {
    /// Records the executor process of a run (by its lease holder).
    public func recordExecutor(runId: Int64, workerId: String, pid: Int32, startTicks: Int64) throws {
        try write { db in
            try db.execute(sql: """
                UPDATE runs SET executor_pid = ?, executor_start_ticks = ? WHERE id = ? AND worker_id = ?
                """, arguments: [pid, startTicks, runId, workerId])
            if db.changesCount != 1 { throw MDBError.leaseLost(runId: runId, workerId: workerId) }
        }
    }

    /// Records the agent process (and its process group) of a run (by its lease holder).
    public func recordAgent(runId: Int64, workerId: String, pid: Int32, pgid: Int32, startTicks: Int64) throws {
        try write { db in
            try db.execute(sql: """
                UPDATE runs SET agent_pid = ?, agent_pgid = ?, agent_start_ticks = ? WHERE id = ? AND worker_id = ?
                """, arguments: [pid, pgid, startTicks, runId, workerId])
            if db.changesCount != 1 { throw MDBError.leaseLost(runId: runId, workerId: workerId) }
        }
    }

    /// The recorded processes of a run, or `runNotFound`.
    public func processes(runId: Int64) throws -> RunProcesses {
        let found = try read { db in
            try RunProcesses.fetchOne(db, sql: """
                SELECT id, executor_pid, executor_start_ticks, agent_pid, agent_pgid, agent_start_ticks
                FROM runs WHERE id = ?
                """, arguments: [runId])
        }
        guard let found else { throw MDBError.runNotFound(runId) }
        return found
    }

    /// How many runs are claimed and unfinished, on the whole host (the
    /// daemon's status line; the claim counts them itself, in its statement).
    public func activeRunCount() throws -> Int {
        try read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM runs WHERE status IN ('running', 'waiting_approval')") ?? 0
        }
    }

    /// Everything an executor's control loop acts on, in one read transaction
    /// of cached statements (it runs every few milliseconds per run): status,
    /// cancel, undelivered input (with `includeInputs`) and unhandled diff requests.
    public func runRequests(runId: Int64, includeInputs: Bool) throws -> RunRequests {
        try read { db in
            guard let row = try Row.fetchOne(db.cachedStatement(sql: """
                SELECT status, cancel_requested_at IS NOT NULL FROM runs WHERE id = ?
                """), arguments: [runId]), let status = RunStatus(rawValue: row[0]) else {
                throw MDBError.runNotFound(runId)
            }
            let diffRequests = try DiffRequest.fetchAll(db.cachedStatement(sql: """
                SELECT * FROM diff_requests WHERE run_id = ? AND handled_at IS NULL ORDER BY id
                """), arguments: [runId])
            let inputs = includeInputs ? try Input.fetchAll(db.cachedStatement(sql: """
                SELECT * FROM inputs WHERE run_id = ? AND delivered_at IS NULL ORDER BY id
                """), arguments: [runId]) : []
            return RunRequests(status: status, cancelRequested: row[1], diffRequests: diffRequests, inputs: inputs)
        }
    }
}
