import GRDB

/// A run's output as its executor numbers it: batches are stored in order,
/// each at most once, whoever commits them (the host's shared writer or the
/// executor itself).
public struct OutputBatch: Sendable, Equatable {
    /// The run the output belongs to.
    public var runId: Int64
    /// The lease holder the executor runs for: a run taken away gets no more output.
    public var workerId: String
    /// 1, 2, 3 … per run; a batch at or below `runs.output_batch` is already
    /// stored, and only `output_batch + 1` is stored next (no gaps).
    public var number: Int64
    /// The events, in order.
    public var events: [NewEvent]

    public init(runId: Int64, workerId: String, number: Int64, events: [NewEvent]) {
        self.runId = runId
        self.workerId = workerId
        self.number = number
        self.events = events
    }
}

/// What became of one batch of a group commit.
public enum OutputBatchOutcome: Sendable, Equatable {
    /// Its events were stored with these seqs (the first and last; empty batches store nothing).
    case stored(firstSeq: Int64, lastSeq: Int64)
    /// A batch with this number was stored before (a resend after a lost acknowledgement).
    case alreadyStored
    /// An earlier batch is missing (it failed on the way): send again from `expected`.
    case outOfOrder(expected: Int64)
    /// The run does not take it (unknown, finished, or held by another worker); never retried.
    case refused(MDBError)
}

extension MDatabase {
    /// Stores output batches of any number of runs in one write transaction
    /// (a group commit). Each batch is checked on its own: a refused batch
    /// leaves the others in the transaction untouched.
    public func appendOutputBatches(_ batches: [OutputBatch]) throws -> [OutputBatchOutcome] {
        guard !batches.isEmpty else { return [] }
        return try write { db in
            let check = try db.cachedStatement(sql: "SELECT status, worker_id, last_seq, output_batch FROM runs WHERE id = ?")
            let insert = try db.cachedStatement(sql: "INSERT INTO events (run_id, seq, ts, type, data) VALUES (?, ?, ?, ?, ?)")
            let advance = try db.cachedStatement(sql: "UPDATE runs SET last_seq = ?, output_batch = ? WHERE id = ?")
            let now = Timestamp.now()
            var outcomes: [OutputBatchOutcome] = []
            outcomes.reserveCapacity(batches.count)
            for batch in batches {
                guard let row = try Row.fetchOne(check, arguments: [batch.runId]),
                      let status = RunStatus(rawValue: row[0]) else {
                    outcomes.append(.refused(.runNotFound(batch.runId)))
                    continue
                }
                let storedBatch: Int64 = row[3]
                if batch.number <= storedBatch {
                    outcomes.append(.alreadyStored)
                } else if batch.number > storedBatch + 1 {
                    outcomes.append(.outOfOrder(expected: storedBatch + 1))
                } else if status.isFinished {
                    outcomes.append(.refused(.runFinished(id: batch.runId, status: status.rawValue)))
                } else if row[1] != batch.workerId {
                    outcomes.append(.refused(.leaseLost(runId: batch.runId, workerId: batch.workerId)))
                } else {
                    // The hot path of all output: cached statements, one UPDATE per batch.
                    let lastSeq: Int64 = row[2]
                    var seq = lastSeq
                    for event in batch.events {
                        seq += 1
                        try insert.execute(arguments: [batch.runId, seq, event.ts ?? now, event.type, event.json])
                    }
                    try advance.execute(arguments: [seq, batch.number, batch.runId])
                    outcomes.append(.stored(firstSeq: lastSeq + 1, lastSeq: seq))
                }
            }
            return outcomes
        }
    }

    /// The number of the last output batch stored for a run (0 before any).
    public func storedOutputBatch(runId: Int64) throws -> Int64 {
        guard let value = try read({ try Int64.fetchOne($0, sql: "SELECT output_batch FROM runs WHERE id = ?", arguments: [runId]) })
        else { throw MDBError.runNotFound(runId) }
        return value
    }
}
