import GRDB

/// A row of `runs`: one agent run, from queued to finished.
public struct Run: Codable, Sendable, Equatable, FetchableRecord, TableRecord {
    public static let databaseTableName = "runs"

    public var id: Int64
    public var title: String
    public var agent: String
    public var spec: String
    public var repoUrl: String?
    public var repoRef: String?
    public var baseCommit: String?
    public var workspace: String?
    public var sandboxMode: String
    /// The confinement in force once the agent started: `bwrap` or `none` (nil before).
    public var confinement: String?
    public var status: RunStatus
    public var exitCode: Int?
    public var createdAt: String
    public var startedAt: String?
    public var finishedAt: String?
    public var workerId: String?
    public var leaseExpiresAt: String?
    public var cancelRequestedAt: String?
    public var lastSeq: Int64

    enum CodingKeys: String, CodingKey {
        case id, title, agent, spec, workspace, status, confinement
        case repoUrl = "repo_url", repoRef = "repo_ref", baseCommit = "base_commit"
        case sandboxMode = "sandbox_mode", exitCode = "exit_code", createdAt = "created_at"
        case startedAt = "started_at", finishedAt = "finished_at", workerId = "worker_id"
        case leaseExpiresAt = "lease_expires_at", cancelRequestedAt = "cancel_requested_at"
        case lastSeq = "last_seq"
    }

    /// The parsed `spec` column (what to run and how).
    public var parsedSpec: RunSpec { (try? RunSpec.decode(spec)) ?? RunSpec() }
}

/// The lifecycle of a run: `queued → running ⇄ waiting_approval → finished`.
public enum RunStatus: String, Codable, Sendable, CaseIterable, DatabaseValueConvertible {
    case queued, running
    case waitingApproval = "waiting_approval"
    case succeeded, failed, canceled, lost

    /// Whether the run has ended (no more events will follow `run.finished`).
    public var isFinished: Bool {
        switch self {
        case .succeeded, .failed, .canceled, .lost: return true
        case .queued, .running, .waitingApproval: return false
        }
    }
}
