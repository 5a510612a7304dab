import Hummingbird
import mdb

/// `/runs`: create, list, show, input, cancel; `/agents`: the kinds a new run may have.
struct RunsController {
    let store: any MStore

    func addRoutes(to group: RouterGroup<MRequestContext>) {
        group.post("runs", use: create)
        group.get("runs", use: list)
        group.get("runs/:id", use: show)
        group.post("runs/:id/input", use: input)
        group.post("runs/:id/cancel", use: cancel)
        group.get("agents", use: agents)
    }

    /// `{"agents": [{"kind"}]}`: what the web app's new-run form offers, so it never guesses.
    @Sendable func agents(_ request: Request, context: MRequestContext) async throws -> Response {
        _ = try context.require(.read)
        return JSONResponse.make(.object([("agents", .array(NewRun.offeredAgents.map { .object([("kind", .string($0))]) }))]))
    }

    @Sendable func create(_ request: Request, context: MRequestContext) async throws -> Response {
        _ = try context.require(.steer)
        let body = try await RequestInput.jsonObject(request)
        let new = try Self.newRun(from: body)
        return JSONResponse.make(try await store.createRun(new).api, status: .created)
    }

    /// `{title?, agent, command | argv, prompt?, pty?, repo?: {url, ref?}, env?, target?}` → `NewRun` (422 on a wrong shape).
    static func newRun(from body: JSONValue) throws -> NewRun {
        var argv: [String]?
        switch body["argv"] {
        case nil, .null?: argv = nil
        case .array(let items)?:
            argv = try items.map {
                guard case .string(let s) = $0 else { throw APIError.invalid("`argv` must be a list of strings") }
                return s
            }
        default: throw APIError.invalid("`argv` must be a list of strings")
        }
        var env: [String: String]?
        switch body["env"] {
        case nil, .null?: env = nil
        case .object(let pairs)?:
            env = try Dictionary(pairs.map { key, value in
                guard case .string(let s) = value else { throw APIError.invalid("`env` values must be strings") }
                return (key, s)
            }, uniquingKeysWith: { _, last in last })
        default: throw APIError.invalid("`env` must be an object of strings")
        }
        var repoUrl: String?, repoRef: String?
        switch body["repo"] {
        case nil, .null?: break
        case let repo? where { if case .object = repo { return true } else { return false } }():
            repoUrl = try repo.string("url")
            repoRef = try repo.string("ref")
            if repoUrl == nil { throw APIError.invalid("`repo.url` is required when `repo` is given") }
        default: throw APIError.invalid("`repo` must be an object {url, ref?}")
        }
        let spec = RunSpec(command: try body.string("command"), argv: argv, prompt: try body.string("prompt"),
                           pty: try body.bool("pty"), env: env, target: try body.string("target"),
                           sandbox: try body.string("sandbox"), network: try body.bool("network"),
                           limits: try Self.limits(body["limits"]), sandboxPaths: try Self.sandboxPaths(body["sandbox_paths"]),
                           approvals: try Self.approvals(body["approvals"]))
        let agent = try body.string("agent") ?? "command"
        let title = try body.string("title") ?? spec.command ?? argv?.joined(separator: " ") ?? ""
        return NewRun(title: String(title.prefix(200)), agent: agent, spec: spec, repoUrl: repoUrl, repoRef: repoRef)
    }

    /// `limits: {timeout_s?, output_bytes?, memory_mb?, pids?}`, whole numbers; 422 for anything
    /// else (the values' ranges are checked with the rest of the run, `RunLimits.refusal`).
    static func limits(_ value: JSONValue?) throws -> RunLimits? {
        let keys = ["timeout_s", "output_bytes", "memory_mb", "pids"]
        switch value {
        case nil, .null?: return nil
        case .object(let pairs)?:
            var numbers: [String: Int64] = [:]
            for (key, value) in pairs {
                guard keys.contains(key) else {
                    throw APIError.invalid("`limits.\(key)` is not a limit: use \(keys.joined(separator: ", "))")
                }
                if case .null = value { continue }
                guard let number = value.intValue else { throw APIError.invalid("`limits.\(key)` must be a whole number") }
                numbers[key] = number
            }
            return RunLimits(timeoutSeconds: numbers["timeout_s"].map { Int(clamping: $0) }, outputBytes: numbers["output_bytes"],
                             memoryMB: numbers["memory_mb"].map { Int(clamping: $0) }, pids: numbers["pids"].map { Int(clamping: $0) })
        default: throw APIError.invalid("`limits` must be an object {timeout_s?, output_bytes?, memory_mb?, pids?}")
        }
    }

    /// `sandbox_paths: {read?: [path], write?: [path]}`; 422 for another shape (which paths are
    /// allowed is checked with the rest of the run).
    static func sandboxPaths(_ value: JSONValue?) throws -> SandboxPaths? {
        func list(_ key: String, _ value: JSONValue?) throws -> [String]? {
            switch value {
            case nil, .null?: return nil
            case .array(let items)?:
                return try items.map {
                    guard case .string(let s) = $0 else { throw APIError.invalid("`sandbox_paths.\(key)` must be a list of absolute paths") }
                    return s
                }
            default: throw APIError.invalid("`sandbox_paths.\(key)` must be a list of absolute paths")
            }
        }
        switch value {
        case nil, .null?: return nil
        case .object(let pairs)?:
            if let other = pairs.first(where: { $0.0 != "read" && $0.0 != "write" }) {
                throw APIError.invalid("`sandbox_paths.\(other.0)` is unknown: use read and write")
            }
            return SandboxPaths(read: try list("read", value?["read"]), write: try list("write", value?["write"]))
        default: throw APIError.invalid("`sandbox_paths` must be an object {read?: [path], write?: [path]}")
        }
    }

    /// `approvals: {timeout_s?, on_expiry?: "reject"|"approve"}`; 422 for anything else.
    static func approvals(_ value: JSONValue?) throws -> ApprovalPolicy? {
        switch value {
        case nil, .null?: return nil
        case let policy? where { if case .object = policy { return true } else { return false } }():
            var result = ApprovalPolicy(onExpiry: try policy.string("on_expiry"))
            switch policy["timeout_s"] {
            case nil, .null?: break
            case let timeout? where timeout.intValue != nil: result.timeoutSeconds = Int(clamping: timeout.intValue!)
            default: throw APIError.invalid("`approvals.timeout_s` must be a whole number of seconds")
            }
            return result
        default: throw APIError.invalid("`approvals` must be an object {timeout_s?, on_expiry?}")
        }
    }

    @Sendable func list(_ request: Request, context: MRequestContext) async throws -> Response {
        _ = try context.require(.read)
        let limit = try RequestInput.limit(request, fallback: 50)
        let before = try RequestInput.integer(request, "before", fallback: 0)
        var status: RunStatus?
        if let text = request.uri.queryParameters["status"].map(String.init) {
            guard let parsed = RunStatus(rawValue: text) else {
                throw APIError.badRequest("status must be one of \(RunStatus.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            status = parsed
        }
        let runs = try await store.runs(limit: limit, beforeId: before > 0 ? before : nil, status: status)
        var fields: [(String, JSONValue)] = [("runs", .array(runs.map(\.api)))]
        fields.append(("next_before", runs.count == limit ? .optional(runs.last?.id) : .null))
        return JSONResponse.make(.object(fields))
    }

    @Sendable func show(_ request: Request, context: MRequestContext) async throws -> Response {
        _ = try context.require(.read)
        return JSONResponse.make(try await store.run(RequestInput.id(context)).api)
    }

    @Sendable func input(_ request: Request, context: MRequestContext) async throws -> Response {
        let who = try context.require(.steer)
        let id = try RequestInput.id(context)
        let body = try await RequestInput.jsonObject(request)
        let text = try body.string("text") ?? ""
        let eof = try body.bool("eof") ?? false
        if text.isEmpty && !eof { throw APIError.invalid("send `text`, or `eof: true` to close the run's input") }
        let input = try await store.queueInput(runId: id, text: text, newline: try body.bool("newline") ?? true, eof: eof,
                                         source: "web:\(who.name)")
        return JSONResponse.make(.object([
            ("id", .int(input.id)), ("run_id", .int(input.runId)), ("text", .string(input.text)),
            ("newline", .bool(input.newline)), ("eof", .bool(input.eof)), ("created_at", .string(input.createdAt)),
        ]), status: .accepted)
    }

    @Sendable func cancel(_ request: Request, context: MRequestContext) async throws -> Response {
        let who = try context.require(.steer)
        return JSONResponse.make(try await store.requestCancel(runId: RequestInput.id(context), by: "web:\(who.name)").api,
                                 status: .accepted)
    }
}
