import mdb

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
