import mdb

/// One thing `mcli doctor` found: what it checked, how bad it is, what it
/// saw and what to do about it.
struct Finding: Sendable, Equatable {
    /// How much a finding matters; `warning` and `error` need attention (exit 1).
    enum Severity: String, Sendable, Comparable {
        case ok, info, warning, error

        static func < (a: Severity, b: Severity) -> Bool { a.rank < b.rank }
        private var rank: Int { [.ok: 0, .info: 1, .warning: 2, .error: 3][self] ?? 0 }
    }

    /// The check's name (`integrity`, `wal`, `leases`, …).
    var check: String
    var severity: Severity
    /// What was found.
    var message: String
    /// What to do, when something needs doing.
    var fix: String?

    static func ok(_ check: String, _ message: String) -> Finding { Finding(check: check, severity: .ok, message: message) }
    static func info(_ check: String, _ message: String, fix: String? = nil) -> Finding {
        Finding(check: check, severity: .info, message: message, fix: fix)
    }
    static func warning(_ check: String, _ message: String, fix: String) -> Finding {
        Finding(check: check, severity: .warning, message: message, fix: fix)
    }
    static func error(_ check: String, _ message: String, fix: String) -> Finding {
        Finding(check: check, severity: .error, message: message, fix: fix)
    }

    /// Whether a person should act on it.
    var needsAttention: Bool { severity >= .warning }

    var json: JSONValue {
        .object([("check", .string(check)), ("severity", .string(severity.rawValue)), ("message", .string(message)),
                 ("fix", fix.map(JSONValue.string) ?? .null)])
    }

    /// `warning  wal        the WAL is …` and, indented below, `fix: …`.
    var text: String {
        let head = severity.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0) + check.padding(toLength: 11, withPad: " ", startingAt: 0) + message
        guard let fix else { return head }
        return head + "\n" + String(repeating: " ", count: 19) + "fix: " + fix
    }
}
