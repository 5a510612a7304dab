import mdb

/// What a driver needs from the run that hosts it. The executor implements it (tests implement it
/// with a recorder): events go to the run's event log, approvals become `approvals` rows, inputs and
/// the cancel come from the run's requests. Every method may be called from any task; none blocks a
/// thread (they suspend).
public protocol DriverHost: Sendable {
    /// The run's workspace, an absolute path: the agent's working directory and the only folder the
    /// agent may reach through the driver (ACP's `fs/*` and `terminal/*`).
    var workspace: String { get }

    /// Appends one event to the run: a type of DESIGN.md (`agent.message`, `tool.call`, `tool.result`,
    /// `plan`, `usage`, `agent.turn_end`, `notice`, `output`, …) and its data object.
    func emit(_ type: String, _ data: JSONValue) async

    /// Creates an approval (status `waiting_approval` while it is pending) and returns once it is
    /// decided, expired, or canceled: a cancel of the run resolves every pending one as `canceled`, and
    /// so does the cancellation of the calling task (the driver does that when the agent died while
    /// the approval waited).
    func requestApproval(_ request: ApprovalRequest) async -> ApprovalDecision

    /// The run's requests in the order they were made: input texts, `eof`, then `cancel`. The stream
    /// ends when the run ends; a driver reads it from one task only.
    var inputs: AsyncStream<DriverInput> { get }

    /// Starts a helper process the agent asked for (ACP `terminal/create`) inside the run's sandbox, in
    /// its own process group, with stdout and stderr merged into one pipe. `DriverProcess.start` does
    /// it without a sandbox.
    func startProcess(_ argv: [String], environment: [String: String], directory: String) throws -> DriverProcess
}
