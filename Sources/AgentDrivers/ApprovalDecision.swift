import mdb

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
