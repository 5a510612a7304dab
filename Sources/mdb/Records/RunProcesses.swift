import GRDB

/// The processes behind a run (columns of `runs` added by migration 2): its
/// executor and its agent's process group, each pid with its start time so
/// that a reused pid is never signalled by mistake.
public struct RunProcesses: Codable, Sendable, Equatable, FetchableRecord {
    public var runId: Int64
    public var executorPid: Int32?
    public var executorStartTicks: Int64?
    public var agentPid: Int32?
    public var agentPgid: Int32?
    public var agentStartTicks: Int64?

    enum CodingKeys: String, CodingKey {
        case runId = "id", executorPid = "executor_pid", executorStartTicks = "executor_start_ticks"
        case agentPid = "agent_pid", agentPgid = "agent_pgid", agentStartTicks = "agent_start_ticks"
    }

    public init(runId: Int64, executorPid: Int32? = nil, executorStartTicks: Int64? = nil, agentPid: Int32? = nil,
                agentPgid: Int32? = nil, agentStartTicks: Int64? = nil) {
        self.runId = runId
        self.executorPid = executorPid
        self.executorStartTicks = executorStartTicks
        self.agentPid = agentPid
        self.agentPgid = agentPgid
        self.agentStartTicks = agentStartTicks
    }
}
