import Hummingbird
import mdb

/// `/runs/{id}/events`: a page of a run's events after a seq.
struct EventsController {
    let store: any MStore

    func addRoutes(to group: RouterGroup<MRequestContext>) {
        group.get("runs/:id/events", use: page)
    }

    @Sendable func page(_ request: Request, context: MRequestContext) async throws -> Response {
        _ = try context.require(.read)
        let id = try RequestInput.id(context)
        let after = try RequestInput.integer(request, "after", fallback: 0)
        let limit = try RequestInput.limit(request, fallback: WebDefaults.maxListLimit)
        _ = try await store.run(id)
        let events = try await store.events(runId: id, afterSeq: after, limit: limit)
        // Events are embedded as stored (`wireJSON`), never decoded and re-encoded.
        var body = "{\"events\":["
        for (i, event) in events.enumerated() {
            if i > 0 { body += "," }
            body += event.wireJSON
        }
        body += "],\"next_after\":\(events.last?.seq ?? after)}"
        return JSONResponse.text(body)
    }
}
