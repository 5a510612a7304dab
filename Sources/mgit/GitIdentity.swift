/// A name and email for commits: who approved a change.
public struct GitIdentity: Sendable, Equatable, Codable {
    /// The person's (or system's) name.
    public let name: String
    /// Their email; an address-like text, not checked for deliverability.
    public let email: String

    /// An identity, refused when it would break a commit header (angle brackets, newlines, NUL).
    public init(name: String, email: String) throws {
        for (label, value) in [("name", name), ("email", email)] {
            if value.isEmpty { throw GitError.invalidIdentity("\(label) is empty") }
            if value.contains(where: { "<>\n\r\0".contains($0) }) {
                throw GitError.invalidIdentity("\(label) \(value.debugDescription) contains <, >, a newline or NUL")
            }
        }
        self.name = name
        self.email = email
    }

    private init(unchecked name: String, email: String) {
        self.name = name
        self.email = email
    }

    /// M itself, for snapshots and proposals nobody approved yet.
    public static let system = GitIdentity(unchecked: "M", email: "m@localhost")
}
