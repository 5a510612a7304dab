import Foundation

/// What an agent asks its executor over the run's agent socket: one JSON
/// object per line. There is deliberately no op that resolves an approval:
/// only a person (through mcli or the API, with the database) decides.
/// Issue 6 adds `propose` and `question` here.
public struct AgentRequest: Codable, Sendable, Equatable {
    /// The operation: `ask` (block until a person approves or rejects).
    public var op: String
    /// The question shown to the person (the approval's title).
    public var text: String?
    /// The approval's kind (default `ask`).
    public var kind: String?
    /// Seconds until the approval expires unanswered (nil: never).
    public var timeout: Double?

    public init(op: String, text: String? = nil, kind: String? = nil, timeout: Double? = nil) {
        self.op = op
        self.text = text
        self.kind = kind
        self.timeout = timeout
    }

    /// The `ask` operation.
    public static let ask = "ask"
}
