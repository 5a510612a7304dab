import Foundation

/// What an agent asks its executor over the run's agent socket: one JSON
/// object per line. There is deliberately no op that resolves an approval:
/// only a person (through mcli or the API, with the database) decides.
/// `ask` covers the kinds `ask`, `command` and `question` (and `diff` with a `body`, from
/// `mcli hook claude`); `propose` diffs the workspace and asks to approve it.
public struct AgentRequest: Codable, Sendable, Equatable {
    /// The operation: `ask` (block until a person approves or rejects) or `propose`.
    public var op: String
    /// The question shown to the person (the approval's title).
    public var text: String?
    /// The approval's kind (default `ask`).
    public var kind: String?
    /// Seconds until the approval expires unanswered (nil: never).
    public var timeout: Double?
    /// Details shown under the title (for `ask`; a `command` approval shows the command here).
    public var body: String?
    /// For `propose`: the commit message the approved change gets.
    public var message: String?

    /// A request.
    public init(op: String, text: String? = nil, kind: String? = nil, timeout: Double? = nil,
                body: String? = nil, message: String? = nil) {
        self.op = op
        self.text = text
        self.kind = kind
        self.timeout = timeout
        self.body = body
        self.message = message
    }

    /// The `ask` operation.
    public static let ask = "ask"
    /// The `propose` operation: diff the workspace, ask to approve it, apply or restore.
    public static let propose = "propose"
}
