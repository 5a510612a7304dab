import Hummingbird
import mdb

/// `/runs/{id}/diffs` and `/diffs/{id}`: read what executors recorded, and ask
/// for a fresh diff (a `diff_requests` row the run's executor picks up: 202).
struct DiffsController {
    let store: any MStore

    func addRoutes(to group: RouterGroup<MRequestContext>) {
        group.get("runs/:id/diffs", use: list)
        group.post("runs/:id/diffs", use: request)
        group.get("diffs/:id", use: show)
    }

    @Sendable func list(_ request: Request, context: MRequestContext) async throws -> Response {
        _ = try context.require(.read)
        let diffs = try await store.diffs(runId: RequestInput.id(context), limit: try RequestInput.limit(request, fallback: 100))
        return JSONResponse.make(.object([("diffs", .array(diffs.map { $0.api(withPatch: false) }))]))
    }

    @Sendable func show(_ request: Request, context: MRequestContext) async throws -> Response {
        _ = try context.require(.read)
        return JSONResponse.make(try await store.diff(RequestInput.id(context)).api(withPatch: true))
    }

    @Sendable func request(_ request: Request, context: MRequestContext) async throws -> Response {
        let who = try context.require(.steer)
        let asked = try await store.requestDiff(runId: RequestInput.id(context), by: "web:\(who.name)")
        return JSONResponse.make(.object([
            ("id", .int(asked.id)), ("run_id", .int(asked.runId)), ("created_at", .string(asked.createdAt)),
        ]), status: .accepted)
    }
}
