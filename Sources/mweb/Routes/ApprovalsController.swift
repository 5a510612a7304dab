import Hummingbird
import mdb

/// `/approvals`: list, show, decide (the first decision wins; a second is 409).
struct ApprovalsController {
    let store: any MStore

    func addRoutes(to group: RouterGroup<MRequestContext>) {
        group.get("approvals", use: list)
        group.get("approvals/:id", use: show)
        group.post("approvals/:id", use: decide)
    }

    @Sendable func list(_ request: Request, context: MRequestContext) async throws -> Response {
        _ = try context.require(.read)
        var status: ApprovalStatus?
        if let text = request.uri.queryParameters["status"].map(String.init) {
            guard let parsed = ApprovalStatus(rawValue: text) else {
                throw APIError.badRequest("status must be one of \(ApprovalStatus.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            status = parsed
        }
        let runId = try RequestInput.integer(request, "run_id", fallback: 0)
        let limit = try RequestInput.limit(request, fallback: 100)
        let approvals = try await store.approvals(status: status, runId: runId > 0 ? runId : nil, limit: limit)
        return JSONResponse.make(.object([("approvals", .array(approvals.map(\.api)))]))
    }

    @Sendable func show(_ request: Request, context: MRequestContext) async throws -> Response {
        _ = try context.require(.read)
        return JSONResponse.make(try await store.approval(RequestInput.id(context)).api)
    }

    @Sendable func decide(_ request: Request, context: MRequestContext) async throws -> Response {
        let who = try context.require(.steer)
        let id = try RequestInput.id(context)
        let body = try await RequestInput.jsonObject(request)
        guard let word = try body.string("decision"), let decision = Decision(rawValue: word) else {
            throw APIError.invalid("`decision` must be \"approve\" or \"reject\"")
        }
        let approval = try await store.resolveApproval(id: id, decision: decision, by: "web:\(who.name)",
                                                 note: try body.string("note"), always: try body.bool("always") ?? false)
        return JSONResponse.make(approval.api)
    }
}
