import Hummingbird
import mdb

/// `/search?q=TEXT&limit=N`: the newest places in any run's output holding
/// every word of `q` (as words or their starts), each with a snippet and the
/// matched stretches in it. A person types plain words; their text is never
/// FTS5 syntax, so no query can be a syntax error (an empty one is a 400).
struct SearchController {
    let store: any MStore

    func addRoutes(to group: RouterGroup<MRequestContext>) {
        group.get("search", use: search)
    }

    @Sendable func search(_ request: Request, context: MRequestContext) async throws -> Response {
        _ = try context.require(.read)
        let query = request.uri.queryParameters["q"].map(String.init) ?? ""
        guard query.contains(where: { !$0.isWhitespace }) else {
            throw APIError.badRequest("give the text to look for as q, for example /api/v1/search?q=error")
        }
        guard query.utf8.count <= WebDefaults.maxSearchBytes else {
            throw APIError.badRequest("the search text is longer than \(WebDefaults.maxSearchBytes) bytes: look for fewer words")
        }
        let limit = try RequestInput.limit(request, fallback: WebDefaults.searchHitsDefault)
        let hits: [SearchHit]
        do {
            hits = try await store.search(query, limit: limit)
        } catch MDBError.invalidArgument(let message) {
            throw APIError.badRequest(message)
        }
        return JSONResponse.make(.object([("hits", .array(hits.map(\.api)))]))
    }
}

extension SearchHit {
    /// The hit as the API shows it; `marks` are `[start, end)` pairs of UTF-16 offsets into `snippet`.
    var api: JSONValue {
        .object([
            ("run_id", .int(runId)), ("seq", .int(seq)), ("event_id", .int(eventId)),
            ("title", .optional(title)), ("snippet", .string(snippet)),
            ("marks", .array(marks.map { .array([.int(Int64($0.lowerBound)), .int(Int64($0.upperBound))]) })),
        ])
    }
}
