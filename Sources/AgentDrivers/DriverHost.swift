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
    /// decided, expired, or canceled (a cancel of the run resolves every pending one as `canceled`).
    func requestApproval(_ request: ApprovalRequest) async -> ApprovalDecision

    /// The run's requests in the order they were made: input texts, `eof`, then `cancel`. The stream
    /// ends when the run ends; a driver reads it from one task only.
    var inputs: AsyncStream<DriverInput> { get }

    /// Starts a helper process the agent asked for (ACP `terminal/create`) inside the run's sandbox, in
    /// its own process group, with stdout and stderr merged into one pipe. `DriverProcess.start` does
    /// it without a sandbox.
    func startProcess(_ argv: [String], environment: [String: String], directory: String) throws -> DriverProcess
}

/// One request of the run, for the driver.
public enum DriverInput: Sendable, Equatable {
    /// Text a person typed: the next prompt (queued while a turn runs).
    case text(String)
    /// End of the conversation: no more prompts; the agent is told to finish and exit.
    case eof
    /// The run is being canceled: stop the current turn now.
    case cancel
}

/// An approval a driver asks the host to create.
public struct ApprovalRequest: Sendable, Equatable {
    /// `command` (a command line), `diff` (a change to files), `question` or `ask`.
    public var kind: String
    /// The approval's title: what the agent wants to do, in one line.
    public var title: String
    /// Details under the title: the command, the unified diff, the tool's input.
    public var body: String
    /// The protocol's own view of the request (tool call id, options…), stored as the approval's payload.
    public var payload: JSONValue
    /// The choices the agent offered (ACP's permission options), empty when it offered none.
    public var options: [ApprovalOption]

    /// An approval request.
    public init(kind: String, title: String, body: String, payload: JSONValue = .object([]), options: [ApprovalOption] = []) {
        self.kind = kind
        self.title = title
        self.body = body
        self.payload = payload
        self.options = options
    }
}

/// One choice an agent offers for a permission request.
public struct ApprovalOption: Sendable, Equatable {
    /// The agent's id for it, sent back when chosen.
    public var id: String
    /// Its label.
    public var name: String
    /// `allow_once`, `allow_always`, `reject_once` or `reject_always`.
    public var kind: String

    /// An option.
    public init(id: String, name: String, kind: String) {
        self.id = id
        self.name = name
        self.kind = kind
    }
}

/// How an approval ended.
public struct ApprovalDecision: Sendable, Equatable {
    /// `approved`, `rejected`, `expired` or `canceled` (never `pending`).
    public var status: ApprovalStatus
    /// The person asked not to be asked again for the same thing (`always`).
    public var always: Bool
    /// The person's note (a reason for a rejection, an answer to a question).
    public var note: String?

    /// A decision.
    public init(status: ApprovalStatus, always: Bool = false, note: String? = nil) {
        self.status = status
        self.always = always
        self.note = note
    }

    /// Whether the agent may go ahead.
    public var approved: Bool { status == .approved }
}
