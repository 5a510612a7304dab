import Hummingbird
import MAuth
import mdb

/// `/notifiers` (admin): list, add, remove where pushes go (docs/PUSH.md).
struct NotifiersController {
    let store: any MStore

    func addRoutes(to group: RouterGroup<MRequestContext>) {
        group.get("notifiers", use: list)
        group.post("notifiers", use: add)
        group.delete("notifiers/:id", use: remove)
    }

    @Sendable func list(_ request: Request, context: MRequestContext) async throws -> Response {
        _ = try context.require(.admin)
        let notifiers = try await store.notifiers()
        return JSONResponse.make(.object([("notifiers", .array(notifiers.map(\.json)))]))
    }

    /// `{kind: webhook|ntfy|exec|webpush|apns, url?, secret?, token?, command?, subject?, key_path?, key_id?, team_id?,
    /// topic?, environment?, events?: [type], run_ids?: [id], failures_only?}` → 201.
    @Sendable func add(_ request: Request, context: MRequestContext) async throws -> Response {
        _ = try context.require(.admin)
        let body = try await RequestInput.jsonObject(request)
        guard let word = try body.string("kind"), let kind = NotifierKind(rawValue: word) else {
            throw APIError.invalid("`kind` must be one of \(NotifierKind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        var config: [(String, JSONValue)] = []
        for key in ["url", "secret", "token", "command", "subject", "key_path", "key_id", "team_id", "topic", "environment"] {
            if let value = try body.string(key) { config.append((key, .string(value))) }
        }
        let events = try Self.list(body["events"], "events") { $0.stringValue }
        let runIds = try Self.list(body["run_ids"], "run_ids") { $0.intValue }
        let added = try await store.addNotifier(NewNotifier(kind: kind, config: .object(config), events: events ?? [],
                                                            runIds: runIds, failuresOnly: try body.bool("failures_only") ?? false),
                                              vapidKeys: { let pair = VAPIDKeyMaker.generate()
                                                           return VAPIDKeyPair(privateKey: pair.privateKey, publicKey: pair.publicKey) })
        return JSONResponse.make(added.json, status: .created)
    }

    @Sendable func remove(_ request: Request, context: MRequestContext) async throws -> Response {
        _ = try context.require(.admin)
        let removed = try await store.removeNotifier(RequestInput.id(context))
        return JSONResponse.make(NotifierStatus(notifier: removed, counts: [:]).json)
    }

    /// An optional JSON array whose items all convert, or a 422 naming the field.
    private static func list<T>(_ value: JSONValue?, _ name: String, _ item: (JSONValue) -> T?) throws -> [T]? {
        guard let value, value != .null else { return nil }
        guard case .array(let items) = value else { throw APIError.invalid("`\(name)` must be an array") }
        return try items.map {
            guard let converted = item($0) else { throw APIError.invalid("`\(name)` has an item of the wrong type") }
            return converted
        }
    }
}
