import Foundation
import mdb

extension ACPSession {
    /// Default and largest output an ACP terminal keeps (the agent may ask for less).
    static let terminalOutputLimitBytes = 1 << 20

    /// Answers one of the agent's requests: permissions, files and terminals (all confined to the
    /// workspace); anything else is "method not found".
    func answer(id: JSONValue, method: String, params: JSONValue) async {
        do {
            let result: JSONValue
            switch method {
            case "session/request_permission":
                return await permission(id: id, params)
            case "fs/read_text_file":
                result = try readFile(params)
            case "fs/write_text_file":
                try confinement().write(string(params, "path"), content: string(params, "content"))
                result = .object([])
            case "terminal/create":
                result = try createTerminal(params)
            case "terminal/output":
                let (output, truncated, exit) = try terminal(params).snapshot()
                var pairs: [(String, JSONValue)] = [("output", .string(output)), ("truncated", .bool(truncated))]
                if let exit { pairs.append(("exitStatus", Self.exitStatus(exit))) }
                result = .object(pairs)
            case "terminal/wait_for_exit":
                result = Self.exitStatus(await (try terminal(params)).waitForExit())
            case "terminal/kill":
                try terminal(params).kill()
                result = .object([])
            case "terminal/release":
                let id = try string(params, "terminalId")
                let released = state.withLock { $0.terminals.removeValue(forKey: id) }
                released?.kill()
                result = .object([])
            default:
                return await connection.respond(to: id, errorCode: -32601, message: "M does not implement \(method)")
            }
            await connection.respond(to: id, result: result)
        } catch let error as DriverError {
            if case .outsideWorkspace = error {
                await host.emit("notice", ["level": "warning", "text": .string("refused the agent's \(method): \(error)")])
            }
            await connection.respond(to: id, errorCode: -32602, message: error.description)
        } catch {
            await connection.respond(to: id, errorCode: -32603, message: "\(method) failed: \(error)")
        }
    }

    /// `session/request_permission` → an approval whose card shows the tool call as the agent last
    /// described it; the decision picks the matching option (approve → allow once, or allow always when
    /// the person said `always`; reject or expiry → reject once, with the note in `_meta`), a cancel
    /// answers `cancelled`.
    func permission(id: JSONValue, _ params: JSONValue) async {
        await flushChunks()
        let call = params["toolCall"] ?? .null
        let callID = call["toolCallId"]?.stringValue ?? ""
        let known = callID.isEmpty ? [] : remember(id: callID, call)
        func field(_ key: String) -> JSONValue? { known.first { $0.0 == key }?.1 ?? call[key] }
        var options: [ApprovalOption] = []
        if case .array(let items) = params["options"] ?? .null {
            options = items.compactMap { item in
                guard let id = item["optionId"]?.stringValue, let kind = item["kind"]?.stringValue else { return nil }
                return ApprovalOption(id: id, name: item["name"]?.stringValue ?? kind, kind: kind)
            }
        }
        let request = Self.approval(title: field("title")?.stringValue, kind: field("kind")?.stringValue,
                                    rawInput: field("rawInput"), content: field("content"), options: options,
                                    payload: ["protocol": "acp", "tool_call_id": .string(callID),
                                              "tool_call": Self.toolEvent(id: callID, known, update: .object([])),
                                              "options": params["options"] ?? []])
        let decision = await host.requestApproval(request)
        // Answered once: a cancel may already have answered it `cancelled`.
        guard state.withLock({ $0.pendingPermissions.removeValue(forKey: id.text) }) != nil else { return }
        await connection.respond(to: id, result: Self.outcome(for: decision, options: options))
    }

    /// The approval for a permission request: an `execute` tool → `command` (the command line as
    /// title and body), a change with diff content → `diff` (the unified diff as body), else `ask`.
    static func approval(title: String?, kind: String?, rawInput: JSONValue?, content: JSONValue?,
                         options: [ApprovalOption], payload: JSONValue) -> ApprovalRequest {
        var diffs: [String] = []
        var texts: [String] = []
        if case .array(let items) = content ?? .null {
            for item in items.map(contentItem) {
                if let patch = item["patch"]?.stringValue { diffs.append(patch) }
                if let text = item["text"]?.stringValue { texts.append(text) }
            }
        }
        let title = title ?? "The agent asks to use a tool"
        if kind == "execute" {
            let command = rawInput?["command"].flatMap { value -> String? in
                if let text = value.stringValue { return text }
                if case .array(let parts) = value { return parts.compactMap(\.stringValue).joined(separator: " ") }
                return nil
            }
            return ApprovalRequest(kind: "command", title: title, body: command ?? texts.joined(separator: "\n"),
                                   payload: payload, options: options)
        }
        if !diffs.isEmpty {
            return ApprovalRequest(kind: "diff", title: title, body: diffs.joined(), payload: payload, options: options)
        }
        var body = texts.joined(separator: "\n")
        if body.isEmpty, let rawInput, rawInput != .null { body = rawInput.text }
        return ApprovalRequest(kind: "ask", title: title, body: body, payload: payload, options: options)
    }

    /// The `RequestPermissionResponse` for a decision.
    static func outcome(for decision: ApprovalDecision, options: [ApprovalOption]) -> JSONValue {
        func first(_ kinds: String...) -> ApprovalOption? {
            for kind in kinds { if let option = options.first(where: { $0.kind == kind }) { return option } }
            return nil
        }
        let chosen: ApprovalOption?
        switch decision.status {
        case .approved: chosen = decision.always ? first("allow_always", "allow_once") : first("allow_once", "allow_always")
        case .rejected, .expired: chosen = decision.always ? first("reject_always", "reject_once") : first("reject_once", "reject_always")
        case .canceled, .pending: chosen = nil
        }
        guard let chosen else { return ["outcome": ["outcome": "cancelled"]] }
        var result: [(String, JSONValue)] = [("outcome", ["outcome": "selected", "optionId": .string(chosen.id)])]
        if let note = decision.note, !note.isEmpty { result.append(("_meta", ["note": .string(note)])) }
        return .object(result)
    }

    func confinement() throws -> WorkspaceConfinement { try WorkspaceConfinement(workspace: host.workspace) }

    private func readFile(_ params: JSONValue) throws -> JSONValue {
        var content = try confinement().read(string(params, "path"))
        let line = params["line"]?.intValue, limit = params["limit"]?.intValue
        if line != nil || limit != nil {
            let lines = content.split(separator: "\n", omittingEmptySubsequences: false)
            let start = max(Int(line ?? 1) - 1, 0)
            let end = limit.map { min(start + Int($0), lines.count) } ?? lines.count
            content = start < end ? lines[start..<end].joined(separator: "\n") : ""
        }
        return ["content": .string(content)]
    }

    private func createTerminal(_ params: JSONValue) throws -> JSONValue {
        let confinement = try confinement()
        let command = try string(params, "command")
        var argv = [command]
        if case .array(let args) = params["args"] ?? .null { argv += args.compactMap(\.stringValue) }
        let directory = try params["cwd"]?.stringValue.map(confinement.resolve) ?? confinement.realWorkspace
        var environment = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
                           "HOME": host.workspace, "LANG": "C.UTF-8"]
        if case .array(let variables) = params["env"] ?? .null {
            for variable in variables {
                if let name = variable["name"]?.stringValue, let value = variable["value"]?.stringValue { environment[name] = value }
            }
        }
        let limit = min(Int(params["outputByteLimit"]?.intValue ?? Int64(Self.terminalOutputLimitBytes)), Self.terminalOutputLimitBytes)
        let process = try host.startProcess(argv, environment: environment, directory: directory)
        let terminal = CapturedProcess(process: process, limit: limit)
        let id = state.withLock { state -> String in
            defer { state.nextTerminal += 1 }
            let id = "term-\(state.nextTerminal)"
            state.terminals[id] = terminal
            return id
        }
        return ["terminalId": .string(id)]
    }

    private func terminal(_ params: JSONValue) throws -> CapturedProcess {
        let id = try string(params, "terminalId")
        guard let terminal = state.withLock({ $0.terminals[id] }) else {
            throw DriverError.invalidRequest("no terminal \(id): it was released or never created")
        }
        return terminal
    }

    private func string(_ params: JSONValue, _ key: String) throws -> String {
        guard let value = params[key]?.stringValue else { throw DriverError.invalidRequest("the request has no \(key)") }
        return value
    }

    static func exitStatus(_ exit: CapturedProcess.ExitStatus) -> JSONValue {
        ["exitCode": exit.exitCode.map { .int(Int64($0)) } ?? .null, "signal": exit.signal.map(JSONValue.string) ?? .null]
    }
}
