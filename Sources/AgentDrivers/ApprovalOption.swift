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
