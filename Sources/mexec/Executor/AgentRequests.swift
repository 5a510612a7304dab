import Foundation
import Logging
import magent
import mdb
#if canImport(Glibc)
import Glibc
#endif

/// Serves the agent protocol for one run. Runs on a connection's thread.
enum AgentRequests {
    /// The approval kinds an agent may ask with `ask`. `diff` comes from `mcli hook claude`, whose
    /// change is shown in the body; `mcli propose` makes real diffs.
    static let askKinds: Set<String> = ["ask", "command", "question", "diff"]

    /// Answers one request. `ask` creates an approval (the run moves to `waiting_approval` in the
    /// same transaction) and blocks until a person decides, it expires, or the run ends; `propose`
    /// does the same for the workspace's diff (nil `diffs`: the run has no baseline).
    static func handle(_ request: AgentRequest, db: MDatabase, runId: Int64, diffs: WorkspaceDiffs?,
                       logger: Logger) -> AgentResponse {
        if let timeout = request.timeout, !(timeout > 0) {
            return AgentResponse(ok: false, error: "the timeout must be a positive number of seconds")
        }
        switch request.op {
        case AgentRequest.ask:
            return ask(request, db: db, runId: runId, logger: logger)
        case AgentRequest.propose:
            guard let diffs else {
                return AgentResponse(ok: false, error: "this run's workspace has no approved point to diff against; see the executor log")
            }
            let message = (request.message ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            return diffs.propose(message: message, timeout: request.timeout)
        default:
            return AgentResponse(ok: false, error: "unknown op '\(request.op)': this executor serves ask and propose")
        }
    }

    private static func ask(_ request: AgentRequest, db: MDatabase, runId: Int64, logger: Logger) -> AgentResponse {
        let text = (request.text ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else { return AgentResponse(ok: false, error: "ask needs a question: mcli ask \"TEXT\"") }
        let kind = request.kind.flatMap { $0.isEmpty ? nil : $0 } ?? "ask"
        guard askKinds.contains(kind) else {
            return AgentResponse(ok: false, error: "unknown approval kind '\(kind)': use ask, command or question")
        }
        // A command is shown verbatim: the body carries it exactly, the title may be cut by a UI.
        let body = request.body ?? (kind == "command" ? text : "")
        // A `diff` approval is shown as a change to review: one without the change itself would
        // have a person approve what they cannot see.
        if kind == "diff", !isUnifiedDiff(body) {
            return AgentResponse(ok: false, error: "an approval of kind diff needs the change itself (a unified diff in its body); use mcli propose for the workspace's changes")
        }
        do {
            let approval = try db.requestApproval(runId: runId, NewApproval(
                kind: kind, title: text, body: body, expiresInSeconds: request.timeout))
            logger.info("approval \(approval.id) (\(kind)) requested by the agent")
            let current = try waitForDecision(db: db, approvalId: approval.id)
            return AgentResponse(ok: true, decision: current.status.rawValue, note: current.note,
                                 approvalId: current.id, by: current.resolvedBy)
        } catch let error as MDBError {
            return AgentResponse(ok: false, error: error.description)
        } catch {
            return AgentResponse(ok: false, error: "cannot create the approval: \(error)")
        }
    }

    /// Whether `body` holds a unified diff: a `---`/`+++` header and a hunk.
    static func isUnifiedDiff(_ body: String) -> Bool {
        let lines = body.split(separator: "\n")
        return lines.contains { $0.hasPrefix("--- ") } && lines.contains { $0.hasPrefix("+++ ") }
            && lines.contains { $0.hasPrefix("@@ ") }
    }

    /// Blocks until the approval is no longer pending and returns it.
    static func waitForDecision(db: MDatabase, approvalId: Int64) throws -> Approval {
        let watch = try ChangeWatch(path: db.path)
        while true {
            let current = try db.approval(approvalId)
            if current.status != .pending { return current }
            // Sleeps on inotify until someone commits: a decision reaches the
            // agent within a millisecond, and waiting costs nothing.
            _ = try watch.waitForChange(timeout: 1)
        }
    }
}
