import Foundation

/// The executor's answer to an `AgentRequest`, one JSON object per line.
public struct AgentResponse: Codable, Sendable, Equatable {
    /// False when the request could not be served (`error` says why).
    public var ok: Bool
    /// `approved`, `rejected`, `expired` or `canceled`; for `propose` also `nothing` (no changes).
    public var decision: String?
    /// The person's note, if any.
    public var note: String?
    /// The approval this answer is about.
    public var approvalId: Int64?
    /// What went wrong, for a person to act on.
    public var error: String?
    /// Who decided (`resolved_by`), when someone did.
    public var by: String?
    /// For `propose`: the diff that was proposed.
    public var diffId: Int64?
    /// For an approved `propose`: the workspace's new approved commit.
    public var commit: String?
    /// For an approved `propose` on a run with a target: what happened there, for a person to read.
    public var target: String?

    enum CodingKeys: String, CodingKey {
        case ok, decision, note, error, by, commit, target
        case approvalId = "approval_id", diffId = "diff_id"
    }

    /// A response.
    public init(ok: Bool, decision: String? = nil, note: String? = nil, approvalId: Int64? = nil, error: String? = nil,
                by: String? = nil, diffId: Int64? = nil, commit: String? = nil, target: String? = nil) {
        self.ok = ok
        self.decision = decision
        self.note = note
        self.approvalId = approvalId
        self.error = error
        self.by = by
        self.diffId = diffId
        self.commit = commit
        self.target = target
    }
}
