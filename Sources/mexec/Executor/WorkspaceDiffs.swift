import Foundation
import Logging
import magent
import mdb
import mgit

/// The run's workspace as mgit sees it: the one place the executor diffs, approves, rejects and
/// applies. Every git operation on the workspace goes through `exclusive`, so a proposal, a diff
/// someone asked for and the run's final diff never interleave.
///
/// Its methods block: they are called from agent-connection threads and, through the executor's
/// `onThread`, from a thread of their own, never from the cooperative pool (two blocked pool
/// threads would leave none for the git calls they wait on).
final class WorkspaceDiffs: @unchecked Sendable {
    private let baseline: Baseline
    private let db: MDatabase
    private let runId: Int64
    /// A local checkout approved changes are also applied to (`RunSpec.target`).
    private let target: String?
    private let logger: Logger
    private let lock = NSLock()

    init(baseline: Baseline, db: MDatabase, runId: Int64, target: String?, logger: Logger) {
        self.baseline = baseline
        self.db = db
        self.runId = runId
        self.target = target
        self.logger = logger
    }

    /// The approved point's commit (`runs.base_commit`), nil if git cannot tell.
    func approvedCommit() async -> String? {
        try? await baseline.approvedCommit().hex
    }

    /// `mcli propose`: diffs the workspace; with changes, stores the diff with an approval of kind
    /// `diff` and waits. Approved → committed as the new approved point (and applied to the target);
    /// rejected → the workspace returns to the approved point; expired or canceled → the workspace
    /// is left as it is (nobody decided, so nothing is thrown away).
    func propose(message: String, timeout: Double?) -> AgentResponse {
        do {
            let made: (diff: WorkspaceDiff, row: Diff, approval: Approval)? = try exclusive {
                let diff = try await self.baseline.diff()
                if diff.isEmpty { return nil }
                let title = message.isEmpty ? "Approve these changes?" : message
                let recorded = try self.db.recordDiff(runId: self.runId, Self.newDiff(diff, message: message),
                                                      approval: (title, Self.summary(diff)), expiresInSeconds: timeout)
                return (diff, recorded.diff, recorded.approval!)
            }
            guard let made else { return AgentResponse(ok: true, decision: "nothing") }
            logger.info("diff \(made.row.id) proposed with approval \(made.approval.id)")
            let decided = try AgentRequests.waitForDecision(db: db, approvalId: made.approval.id)
            var response = AgentResponse(ok: true, decision: decided.status.rawValue, note: decided.note,
                                         approvalId: decided.id, by: decided.resolvedBy, diffId: made.row.id)
            switch decided.status {
            case .approved:
                let approver = Self.identity(decided.resolvedBy ?? "unknown")
                let commitMessage = message.isEmpty ? "Approved change (diff \(made.row.id))" : message
                let outcome: (Baseline.Approved, TargetResult?)
                do {
                    outcome = try exclusive { () -> (Baseline.Approved, TargetResult?) in
                        let approved = try await self.baseline.approve(made.diff, approver: approver, message: commitMessage)
                        return (approved, try await self.applyToTarget(approved, approver: approver, message: commitMessage))
                    }
                } catch GitError.approvedPointMoved {
                    // Another proposal of this run was approved while this one waited: its base is
                    // gone, so it can no longer be committed as shown.
                    try db.markDiff(made.row.id, status: "superseded")
                    return AgentResponse(ok: false, error: "diff \(made.row.id) was approved, but another change was approved "
                                         + "since it was made; run mcli propose again to propose what is left")
                }
                try db.markDiffApplied(runId: runId, diffId: made.row.id, commit: outcome.0.commit.hex, target: outcome.1)
                response.commit = outcome.0.commit.hex
                switch outcome.1 {
                case .applied(let commit)?: response.target = "applied to \(target ?? "") as \(commit)"
                case .conflict(let files, _)?: response.target = "not applied to \(target ?? ""): conflict in \(files.joined(separator: ", "))"
                case nil: break
                }
                logger.info("diff \(made.row.id) approved and committed as \(outcome.0.commit.hex)")
            case .rejected:
                try exclusive { _ = try await self.baseline.reject() }
                try db.markDiff(made.row.id, status: "rejected")
                logger.info("diff \(made.row.id) rejected; workspace back at the approved point")
            default:
                logger.info("diff \(made.row.id) \(decided.status.rawValue) undecided; workspace left as it is")
            }
            return response
        } catch let error as MDBError {
            return AgentResponse(ok: false, error: error.description)
        } catch {
            return AgentResponse(ok: false, error: "cannot propose the workspace's changes: \(error)")
        }
    }

    /// Answers a `POST /runs/{id}/diffs`: a diff without an approval (status `proposed`, nobody is
    /// asked), or a `notice` when nothing changed. The request is marked handled either way.
    func answer(_ request: DiffRequest) {
        do {
            let diff = try exclusive { try await self.baseline.diff() }
            if diff.isEmpty {
                try db.finishDiffRequest(runId: runId, requestId: request.id,
                                         notice: "nothing changed in the workspace since the last approved point")
            } else {
                let recorded = try db.recordDiff(runId: runId, Self.newDiff(diff, message: "requested by \(request.requestedBy)"),
                                                 handlingRequest: request.id)
                logger.info("diff \(recorded.diff.id) made for request \(request.id)")
            }
        } catch {
            logger.warning("cannot answer diff request \(request.id): \(error)")
            try? db.finishDiffRequest(runId: runId, requestId: request.id, notice: "could not make the diff: \(error)")
        }
    }

    /// After the agent exited: records what it left unapproved as a last diff (no approval: the run
    /// is over), so a person can still read it.
    func recordFinalState() {
        do {
            let diff = try exclusive { try await self.baseline.diff() }
            guard !diff.isEmpty else { return }
            let recorded = try db.recordDiff(runId: runId, Self.newDiff(diff, message: "changes left when the run ended"))
            logger.info("diff \(recorded.diff.id) records the workspace's unapproved changes at the end")
        } catch {
            logger.warning("cannot record the workspace's final diff: \(error)")
        }
    }

    private func applyToTarget(_ approved: Baseline.Approved, approver: GitIdentity, message: String) async throws -> TargetResult? {
        guard let target else { return nil }
        do {
            let checkout = try await TargetCheckout.open(target)
            switch try await baseline.apply(approved, to: checkout, approver: approver, message: message) {
            case .applied(let commit): return .applied(commit: commit.hex)
            case .conflict(let files, let detail): return .conflict(files: files, detail: detail)
            }
        } catch {
            // An unusable target (gone, not a checkout, an unsafe path) is reported like a conflict:
            // the workspace's approval stands and the target is untouched.
            return .conflict(files: [], detail: "\(error)")
        }
    }

    /// Runs async git work to completion on this (non-pool) thread, one operation at a time.
    private func exclusive<T: Sendable>(_ work: @escaping @Sendable () async throws -> T) throws -> T {
        lock.lock()
        defer { lock.unlock() }
        return try CallingThreadExecutor.run(work)
    }

    /// The stored form of a diff.
    static func newDiff(_ diff: WorkspaceDiff, message: String) -> NewDiff {
        NewDiff(base: diff.base.hex, message: message, patch: diff.patch, files: diff.filesJSON(),
                fileCount: diff.files.count, additions: diff.additions, deletions: diff.deletions,
                truncated: diff.truncated)
    }

    /// One line per file, for the approval's body (`M path (+3 -1)`, `R old → new`, `A img.png (binary)`).
    static func summary(_ diff: WorkspaceDiff) -> String {
        diff.files.map { file in
            let letter: String
            switch file.status {
            case .added: letter = "A"
            case .modified: letter = "M"
            case .deleted: letter = "D"
            case .renamed: letter = "R"
            case .copied: letter = "C"
            case .typeChanged: letter = "T"
            }
            let name = file.oldPath.map { "\($0) → \(file.path)" } ?? file.path
            let counts = file.binary ? "binary" : "+\(file.additions) -\(file.deletions)"
            let mode = file.modeChange.map { ", mode \($0.from) → \($0.to)" } ?? ""
            return "\(letter) \(name) (\(counts)\(mode))"
        }.joined(separator: "\n")
    }

    /// The approver as a commit author: `resolved_by` (`cli:alice`, `web:phone`) as the name, and an
    /// address under `.invalid` (RFC 2606) so nobody mistakes it for a mailbox.
    static func identity(_ resolvedBy: String) -> GitIdentity {
        let name = String(resolvedBy.filter { !"<>\n\r\0".contains($0) }.prefix(200))
        let local = String(name.map { $0.isLetter || $0.isNumber || "._-".contains($0) ? $0 : "-" })
        return (try? GitIdentity(name: name.isEmpty ? "unknown" : name,
                                 email: "\(local.isEmpty ? "unknown" : local)@m.invalid")) ?? .system
    }
}
