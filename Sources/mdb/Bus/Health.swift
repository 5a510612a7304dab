import GRDB

/// What `mcli doctor` reads about a run's processes: the executor and agent recorded for it.
public struct RunProcessRecord: Sendable, Equatable {
    /// The run.
    public var runId: Int64
    /// Its status.
    public var status: RunStatus
    /// Its executor's pid and start time (clock ticks after boot).
    public var executorPid: Int32?, executorStartTicks: Int64?
    /// Its agent's process group and the group leader's start time.
    public var agentPgid: Int32?, agentStartTicks: Int64?
}

extension MDatabase {
    /// `PRAGMA quick_check`: `["ok"]` when the file is sound, else SQLite's list of problems.
    public func quickCheck() throws -> [String] {
        try read { try String.fetchAll($0, sql: "PRAGMA quick_check") }
    }

    /// The processes recorded for runs that are running or waiting (their executor
    /// should be alive) and for lost runs (it should be gone: the reaper ended it).
    public func runProcessRecords() throws -> [RunProcessRecord] {
        try read { db in
            try Row.fetchAll(db, sql: """
                SELECT id, status, executor_pid, executor_start_ticks, agent_pgid, agent_start_ticks FROM runs
                WHERE status IN ('running', 'waiting_approval', 'lost') AND executor_pid IS NOT NULL
                ORDER BY id
                """).map {
                RunProcessRecord(runId: $0["id"], status: $0["status"], executorPid: $0["executor_pid"],
                                 executorStartTicks: $0["executor_start_ticks"], agentPgid: $0["agent_pgid"],
                                 agentStartTicks: $0["agent_start_ticks"])
            }
        }
    }

    /// Runs that are running or waiting with their agent unconfined (`confinement = 'none'`).
    public func unconfinedActiveRuns() throws -> [Int64] {
        try read { db in
            try Int64.fetchAll(db, sql: """
                SELECT id FROM runs WHERE status IN ('running', 'waiting_approval') AND confinement = 'none' ORDER BY id
                """)
        }
    }
}
