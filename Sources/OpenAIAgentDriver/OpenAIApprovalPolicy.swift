/// When the built-in agent asks before a tool call.
public enum OpenAIApprovalPolicy: Sendable, Equatable {
    /// Never: every tool call runs (the sandbox is the boundary).
    case never
    /// Before every change: `write_file` and `shell` (a command may write); reading does not ask.
    case onWrite
    /// Before every tool call.
    case always
    /// `shell` commands that start with one of these prefixes run without asking, other commands and
    /// writes ask.
    case allowedPrefixes([String])

    /// The policy named `never`, `on-write` or `always` (a run spec's list of prefixes is `.allowedPrefixes`).
    public init?(name: String) {
        switch name {
        case "never": self = .never
        case "on-write": self = .onWrite
        case "always": self = .always
        default: return nil
        }
    }
}
