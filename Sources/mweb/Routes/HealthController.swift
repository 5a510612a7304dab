import Hummingbird
import mdb

/// `GET /healthz` (no token): the process answers and the database reads.
struct HealthController {
    let store: any MStore

    func addRoutes(to router: Router<MRequestContext>) {
        router.get("healthz", use: health)
    }

    @Sendable func health(_ request: Request, context: MRequestContext) async throws -> Response {
        do {
            let last = try await store.lastEventId()
            return JSONResponse.make(.object([("status", "ok"), ("last_event_id", .int(last))]))
        } catch {
            throw APIError(.serviceUnavailable, "unavailable", "the database cannot be read: \(error)")
        }
    }
}
