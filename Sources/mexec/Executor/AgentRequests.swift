import Foundation
import Logging
import magent
import mdb
#if canImport(Glibc)
import Glibc
#endif

/// Serves the agent protocol for one run. Runs on a connection's thread.
enum AgentRequests {
    /// Answers one request. `ask` creates an approval (the run moves to
    /// `waiting_approval` in the same transaction) and blocks until a person
    /// decides, it expires, or the run ends.
    static func handle(_ request: AgentRequest, db: MDatabase, runId: Int64, logger: Logger) -> AgentResponse {
        switch request.op {
        case AgentRequest.ask:
            let text = (request.text ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            guard !text.isEmpty else { return AgentResponse(ok: false, error: "ask needs a question: mcli ask \"TEXT\"") }
            if let timeout = request.timeout, !(timeout > 0) {
                return AgentResponse(ok: false, error: "the timeout must be a positive number of seconds")
            }
            do {
                let approval = try db.requestApproval(runId: runId, NewApproval(
                    kind: request.kind.flatMap { $0.isEmpty ? nil : $0 } ?? "ask", title: text,
                    expiresInSeconds: request.timeout))
                logger.info("approval \(approval.id) requested by the agent")
                let watch = try ChangeWatch(path: db.path)
                while true {
                    let current = try db.approval(approval.id)
                    if current.status != .pending {
                        return AgentResponse(ok: true, decision: current.status.rawValue, note: current.note,
                                             approvalId: current.id)
                    }
                    // Sleeps on inotify until someone commits: a decision reaches the
                    // agent within a millisecond, and waiting costs nothing.
                    _ = try watch.waitForChange(timeout: 1)
                }
            } catch let error as MDBError {
                return AgentResponse(ok: false, error: error.description)
            } catch {
                return AgentResponse(ok: false, error: "cannot create the approval: \(error)")
            }
        default:
            return AgentResponse(ok: false, error: "unknown op '\(request.op)': this executor serves ask")
        }
    }
}
