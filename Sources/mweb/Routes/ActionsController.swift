import Hummingbird
import MAuth
import mdb

/// `POST /api/v1/actions/approvals/{id}` `{decision}` with `Authorization: Bearer <action token>`:
/// what a notification's Approve / Reject button calls. The action token
/// (not an API token) decides that one approval, once, before it expires;
/// anything else is 403, an approval decided meanwhile 409.
struct ActionsController {
    let store: any MStore

    func addRoutes(to group: RouterGroup<MRequestContext>) {
        group.post("actions/approvals/:id", use: decide)
    }

    @Sendable func decide(_ request: Request, context: MRequestContext) async throws -> Response {
        let id = try RequestInput.id(context)
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer "), header.count > 7 else {
            throw APIError.unauthorized("a notification's button sends `Authorization: Bearer <its action token>`")
        }
        let body = try await RequestInput.jsonObject(request)
        guard let word = try body.string("decision"), let decision = Decision(rawValue: word) else {
            throw APIError.invalid("`decision` must be \"approve\" or \"reject\"")
        }
        let hash = Secret.hash(String(header.dropFirst(7)))
        return JSONResponse.make(try await store.decideWithActionToken(approvalId: id, hash: hash, decision: decision).api)
    }
}
