import Foundation

/// The executor's answer to an `AgentRequest`, one JSON object per line.
public struct AgentResponse: Codable, Sendable, Equatable {
    /// False when the request could not be served (`error` says why).
    public var ok: Bool
    /// For `ask`: `approved`, `rejected`, `expired` or `canceled`.
    public var decision: String?
    /// The person's note, if any.
    public var note: String?
    /// The approval this answer is about.
    public var approvalId: Int64?
    /// What went wrong, for a person to act on.
    public var error: String?

    enum CodingKeys: String, CodingKey {
        case ok, decision, note, error
        case approvalId = "approval_id"
    }

    public init(ok: Bool, decision: String? = nil, note: String? = nil, approvalId: Int64? = nil, error: String? = nil) {
        self.ok = ok
        self.decision = decision
        self.note = note
        self.approvalId = approvalId
        self.error = error
    }
}
