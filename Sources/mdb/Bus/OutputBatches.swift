import GRDB
import GRDBSQLite

/// A batch of a run's events for the output path's group commit: output the
/// host's shared writer read from the agent's pipes, or events the executor
/// sent it (numbered, so that a batch sent again is stored once).
public struct OutputBatch: Sendable, Equatable {
    /// The run the output belongs to.
    public var runId: Int64
    /// The lease holder the executor runs for: a run taken away gets no more output.
    public var workerId: String
    /// 1, 2, 3 … per run for an executor's events: a batch at or below
    /// `runs.output_batch` is already stored, and only `output_batch + 1` is
    /// stored next (no gaps). Nil for output the writer read itself (the
    /// pipes' consumed bytes keep it from being stored twice).
    public var number: Int64?
    /// The events, in order.
    public var events: [NewEvent]

    /// The output bytes its `output` events carry, per stream (as the agent wrote them).
    public var bytes: OutputCounts
    /// Whether it stores the notice that the run's output reached its cap.
    public var capsOutput: Bool

    public init(runId: Int64, workerId: String, number: Int64?, events: [NewEvent], bytes: OutputCounts = OutputCounts(),
                capsOutput: Bool = false) {
        self.runId = runId
        self.workerId = workerId
        self.number = number
        self.events = events
        self.bytes = bytes
        self.capsOutput = capsOutput
    }
}

/// Bytes of output per stream, as the agent wrote them (a `b64` event counts
/// the bytes it decodes to): the `runs` columns `stdout_bytes`, `stderr_bytes`, `pty_bytes`.
public struct OutputCounts: Sendable, Equatable {
    public var stdout: Int64 = 0
    public var stderr: Int64 = 0
    public var pty: Int64 = 0

    public init(stdout: Int64 = 0, stderr: Int64 = 0, pty: Int64 = 0) {
        self.stdout = stdout
        self.stderr = stderr
        self.pty = pty
    }

    /// The count of a stream by its name in `output` events (`stdout`, `stderr`, `pty`); other names count nowhere.
    public subscript(stream: String) -> Int64 {
        get {
            switch stream {
            case "stdout": stdout
            case "stderr": stderr
            case "pty": pty
            default: 0
            }
        }
        set {
            switch stream {
            case "stdout": stdout = newValue
            case "stderr": stderr = newValue
            case "pty": pty = newValue
            default: break
            }
        }
    }

    /// Every stream's bytes together (what the output cap counts).
    public var total: Int64 { stdout + stderr + pty }
}

/// What a run's output has stored so far, from its `runs` columns.
public struct StoredOutput: Sendable, Equatable {
    /// Bytes stored per stream.
    public var bytes: OutputCounts
    /// The cap's notice is stored: further output is discarded.
    public var capped: Bool

    public init(bytes: OutputCounts = OutputCounts(), capped: Bool = false) {
        self.bytes = bytes
        self.capped = capped
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
    ///
    /// The hot path of all output: per batch one `SELECT` that both checks it
    /// (the next number, the holder, a run not finished) and reads the last
    /// seq, one `UPDATE` (the seq, the number, the stored bytes per stream and
    /// the cap: the run's output state moves with its events), and one
    /// `INSERT` per event, on cached statements bound and stepped directly (no
    /// argument arrays or rows). Only a batch the check does not pass is
    /// looked at again, to say why. (`UPDATE … RETURNING` in place of the
    /// first two is slower on SQLite 3.40.)
    public func appendOutputBatches(_ batches: [OutputBatch]) throws -> [OutputBatchOutcome] {
        guard !batches.isEmpty else { return [] }
        return try write { db in
            let check = RawStep(db, try db.cachedStatement(sql: """
                SELECT last_seq FROM runs WHERE id = ?1 AND (?2 IS NULL OR output_batch = ?2 - 1) AND worker_id = ?3
                  AND status IN ('queued', 'running', 'waiting_approval')
                """))
            let advance = RawStep(db, try db.cachedStatement(sql: """
                UPDATE runs SET last_seq = ?1, output_batch = coalesce(?2, output_batch), stdout_bytes = stdout_bytes + ?4,
                    stderr_bytes = stderr_bytes + ?5, pty_bytes = pty_bytes + ?6, output_capped = output_capped | ?7
                WHERE id = ?3
                """))
            let insert = RawStep(db, try db.cachedStatement(sql: "INSERT INTO events (run_id, seq, ts, type, data) VALUES (?, ?, ?, ?, ?)"))
            let now = Timestamp.now()
            var outcomes: [OutputBatchOutcome] = []
            outcomes.reserveCapacity(batches.count)
            for batch in batches {
                check.bind(1, batch.runId)
                check.bind(2, batch.number)
                check.bind(3, batch.workerId)
                guard let before = try check.step() else {
                    outcomes.append(try refusal(db, of: batch))
                    continue
                }
                let lastSeq = before + Int64(batch.events.count)
                advance.bind(1, lastSeq)
                advance.bind(2, batch.number)
                advance.bind(3, batch.runId)
                advance.bind(4, batch.bytes.stdout)
                advance.bind(5, batch.bytes.stderr)
                advance.bind(6, batch.bytes.pty)
                advance.bind(7, batch.capsOutput ? 1 : 0)
                _ = try advance.step()
                var seq = lastSeq - Int64(batch.events.count)
                for event in batch.events {
                    seq += 1
                    insert.bind(1, batch.runId)
                    insert.bind(2, seq)
                    insert.bind(3, event.ts ?? now)
                    insert.bind(4, event.type)
                    insert.bind(5, event.json)
                    _ = try insert.step()
                }
                outcomes.append(.stored(firstSeq: lastSeq - Int64(batch.events.count) + 1, lastSeq: lastSeq))
            }
            return outcomes
        }
    }

    /// Why a batch that did not pass the check is not stored.
    private func refusal(_ db: Database, of batch: OutputBatch) throws -> OutputBatchOutcome {
        guard let row = try Row.fetchOne(db, sql: "SELECT status, worker_id, output_batch FROM runs WHERE id = ?",
                                         arguments: [batch.runId]),
              let status = RunStatus(rawValue: row[0]) else {
            return .refused(.runNotFound(batch.runId))
        }
        let storedBatch: Int64 = row[2]
        if let number = batch.number, number <= storedBatch { return .alreadyStored }
        if let number = batch.number, number > storedBatch + 1 { return .outOfOrder(expected: storedBatch + 1) }
        if status.isFinished { return .refused(.runFinished(id: batch.runId, status: status.rawValue)) }
        return .refused(.leaseLost(runId: batch.runId, workerId: batch.workerId))
    }

    /// The number of the last output batch stored for a run (0 before any).
    public func storedOutputBatch(runId: Int64) throws -> Int64 {
        guard let value = try read({ try Int64.fetchOne($0, sql: "SELECT output_batch FROM runs WHERE id = ?", arguments: [runId]) })
        else { throw MDBError.runNotFound(runId) }
        return value
    }
}

extension MDatabase {
    /// What a run's output stored so far (its `runs` columns, moved with every
    /// batch): where reading its agent's pipes goes on after a restart.
    public func storedOutput(runId: Int64) throws -> StoredOutput {
        let row = try read {
            try Row.fetchOne($0, sql: "SELECT stdout_bytes, stderr_bytes, pty_bytes, output_capped FROM runs WHERE id = ?",
                             arguments: [runId])
        }
        guard let row else { throw MDBError.runNotFound(runId) }
        return StoredOutput(bytes: OutputCounts(stdout: row[0], stderr: row[1], pty: row[2]), capped: row[3])
    }
}

/// A cached GRDB statement bound and stepped directly with the SQLite C API:
/// no argument array, no `Row`. Used inside one write transaction.
private struct RawStep {
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
    private let db: Database
    private let statement: OpaquePointer

    init(_ db: Database, _ statement: Statement) {
        self.db = db
        self.statement = statement.sqliteStatement
        sqlite3_reset(self.statement)
    }

    func bind(_ index: Int32, _ value: Int64?) {
        if let value { sqlite3_bind_int64(statement, index, value) } else { sqlite3_bind_null(statement, index) }
    }

    func bind(_ index: Int32, _ value: String) {
        var text = value
        text.withUTF8 { bytes in
            _ = bytes.baseAddress.map { sqlite3_bind_text(statement, index, $0, Int32(bytes.count), RawStep.transient) }
                ?? sqlite3_bind_text(statement, index, "", 0, RawStep.transient)
        }
    }

    /// Steps once and resets: the first column of the row it returned, or nil without one.
    func step() throws -> Int64? {
        defer { sqlite3_reset(statement) }
        switch sqlite3_step(statement) {
        case SQLITE_ROW: return sqlite3_column_int64(statement, 0)
        case SQLITE_DONE: return nil
        case let code:
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
        }
    }
}
