import Foundation
import mdb

/// One conversation with Codex's app-server (see `CodexDriver`).
final class CodexSession: Sendable {
    private struct State {
        var threadID = ""
        var turnID: String?
        /// Filled with the turn's final status by `turn/completed` (or `false` when Codex exits).
        var turnEnded: ResponseSlot?
        var readerDone = false
        /// Each file change item's changes, for the approval that names only the item.
        var fileChanges: [String: JSONValue] = [:]
        /// Approval requests not answered yet, by their JSON-RPC id's text.
        var pendingApprovals: [String: JSONValue] = [:]
        var lastUsage: JSONValue?
        /// The thread's token totals when the previous turn ended: a turn's usage is the difference.
        var totalsBefore: JSONValue = .null
    }

    let host: any DriverHost
    let agent: AgentStdio
    let driver: CodexDriver
    let connection: JSONRPCConnection
    let inbox: TurnInbox
    private let state = Locked(State())

    init(host: any DriverHost, agent: AgentStdio, driver: CodexDriver) {
        self.host = host
        self.agent = agent
        self.driver = driver
        connection = JSONRPCConnection(stdio: agent, host: host, protocolName: "Codex app-server JSON-RPC")
        inbox = TurnInbox(host: host)
    }

    func run(prompt: String?) async -> DriverEnd {
        inbox.onCancel { [self] in await self.interrupt() }
        return await Conversation.run(host: host, agent: agent, inbox: inbox, reader: {
            await self.connection.run { method, params in await self.notification(method, params) }
            self.endTurn(status: nil)
        }, serve: {
            await withTaskGroup(of: Void.self) { requests in
                for await request in self.connection.incoming {
                    self.state.withLock { $0.pendingApprovals[request.id.text] = request.id }
                    requests.addTask { await self.answer(request) }
                }
            }
        }, converse: { await self.converse(prompt: prompt) })
    }

    private func converse(prompt: String?) async -> DriverEnd {
        do {
            _ = try await connection.request("initialize", ["clientInfo": ["name": "m", "title": "M", "version": "1"]])
            try await connection.notify("initialized", .object([]))
            var params: [(String, JSONValue)] = [("cwd", .string(host.workspace)), ("approvalPolicy", .string(driver.approvalPolicy))]
            if let sandbox = driver.sandbox { params.append(("sandbox", .string(sandbox))) }
            let started = try await connection.request("thread/start", .object(params))
            guard let id = started["thread"]?["id"]?.stringValue else {
                throw DriverError.badResponse(method: "thread/start", detail: "no thread.id in \(started.text)")
            }
            state.withLock { $0.threadID = id }
        } catch {
            return await failed("\(error)")
        }
        var next: TurnInbox.Next
        if let prompt, !prompt.isEmpty { next = .prompt(prompt) } else { next = await inbox.next() }
        while case .prompt(let text) = next {
            if inbox.canceled { return .canceled }
            inbox.setInTurn(true)
            let status: JSONValue
            do {
                status = try await turn(text)
            } catch {
                inbox.setInTurn(false)
                if inbox.canceled { return .canceled }
                return await failed("\(error)")
            }
            inbox.setInTurn(false)
            if status == .bool(false) {
                if inbox.canceled { return .canceled }
                return await failed("\(DriverError.agentExited(waitingFor: "the end of its turn"))")
            }
            next = await inbox.next()
        }
        return next == .cancel ? .canceled : .finished
    }

    /// `turn/start`, then waits for its `turn/completed`; returns the turn's status (false: Codex exited).
    private func turn(_ text: String) async throws -> JSONValue {
        let ended = ResponseSlot()
        let (thread, running) = state.withLock { state -> (String, Bool) in
            state.turnEnded = ended
            return (state.threadID, !state.readerDone)
        }
        guard running else { return .bool(false) }
        let started = try await connection.request("turn/start", ["threadId": .string(thread),
                                                                   "input": [["type": "text", "text": .string(text)]]])
        if let id = started["turn"]?["id"]?.stringValue {
            state.withLock { if $0.turnEnded === ended { $0.turnID = id } }
        }
        return try await ended.value()
    }

    private func endTurn(status: JSONValue?) {
        let ended = state.withLock { state -> ResponseSlot? in
            if status == nil { state.readerDone = true }
            defer { state.turnEnded = nil; state.turnID = nil }
            return state.turnEnded
        }
        ended?.fill(.success(status ?? .bool(false)))
    }

    /// A cancel during a turn: `turn/interrupt`, and every approval request still open answered `cancel`.
    private func interrupt() async {
        let (thread, turn, open) = state.withLock { state -> (String, String?, [JSONValue]) in
            defer { state.pendingApprovals = [:] }
            return (state.threadID, state.turnID, Array(state.pendingApprovals.values))
        }
        for id in open { await connection.respond(to: id, result: ["decision": "cancel"]) }
        if let turn {
            _ = try? await connection.request("turn/interrupt", ["threadId": .string(thread), "turnId": .string(turn)])
        }
    }

    private func failed(_ text: String) async -> DriverEnd {
        await host.emit("notice", ["level": "error", "text": .string(text)])
        return .failed(text)
    }

    // MARK: - Codex → events

    private func notification(_ method: String, _ params: JSONValue) async {
        switch method {
        case "item/started":
            await itemStarted(params["item"] ?? .null)
        case "item/completed":
            await itemCompleted(params["item"] ?? .null)
        case "turn/plan/updated":
            let steps: [JSONValue]
            if case .array(let items) = params["plan"] ?? .null { steps = items } else { steps = [] }
            await host.emit("plan", ["entries": .array(steps.map { step in
                ["content": step["step"] ?? "", "status": .string(Self.planStatus(step["status"]?.stringValue)), "priority": "medium"]
            })])
        case "thread/tokenUsage/updated":
            state.withLock { $0.lastUsage = params["tokenUsage"] }
        case "turn/completed":
            let turn = params["turn"] ?? .null
            let status = turn["status"]?.stringValue ?? "completed"
            let usage = state.withLock { state -> (JSONValue, JSONValue)? in
                guard let usage = state.lastUsage else { return nil }
                defer { state.lastUsage = nil; state.totalsBefore = usage["total"] ?? .null }
                return (usage, state.totalsBefore)
            }
            if let (usage, before) = usage { await host.emit("usage", Self.usage(usage, since: before)) }
            if status == "failed", let message = turn["error"]?["message"]?.stringValue {
                await host.emit("notice", ["level": "warning", "text": .string("Codex's turn failed: \(message)")])
            }
            let reason = ["completed": "end_turn", "interrupted": "cancelled"][status] ?? status
            await host.emit("agent.turn_end", ["stop_reason": .string(reason)])
            endTurn(status: .string(status))
        case "error":
            let message = params["error"]?["message"]?.stringValue ?? params.text
            await host.emit("notice", ["level": "warning", "text": .string("Codex: \(message)")])
        default:
            break
        }
    }

    private func itemStarted(_ item: JSONValue) async {
        guard let id = item["id"]?.stringValue else { return }
        switch item["type"]?.stringValue {
        case "commandExecution":
            await host.emit("tool.call", ["id": .string(id), "title": item["command"] ?? "", "kind": "execute",
                                          "input": ["command": item["command"] ?? .null, "cwd": item["cwd"] ?? .null]])
        case "fileChange":
            state.withLock { $0.fileChanges[id] = item["changes"] ?? [] }
            await host.emit("tool.call", ["id": .string(id), "title": .string(Self.changeTitle(item["changes"])), "kind": "edit",
                                          "content": Self.changeContent(item["changes"])])
        case "mcpToolCall", "dynamicToolCall":
            await host.emit("tool.call", ["id": .string(id), "title": item["tool"] ?? "tool", "kind": "other",
                                          "input": item["arguments"] ?? .null])
        default:
            break
        }
    }

    private func itemCompleted(_ item: JSONValue) async {
        guard let id = item["id"]?.stringValue else { return }
        switch item["type"]?.stringValue {
        case "agentMessage":
            await host.emit("agent.message", ["role": "assistant", "text": item["text"] ?? ""])
        case "reasoning":
            let parts: [JSONValue]
            if case .array(let summary) = item["summary"] ?? .null { parts = summary } else { parts = [] }
            let text = parts.compactMap { $0.stringValue ?? $0["text"]?.stringValue }.joined(separator: "\n")
            if !text.isEmpty { await host.emit("agent.message", ["role": "thought", "text": .string(text)]) }
        case "commandExecution":
            await host.emit("tool.result", ["id": .string(id), "status": .string(Self.toolStatus(item["status"]?.stringValue)),
                                            "output": item["aggregatedOutput"] ?? .null, "exit_code": item["exitCode"] ?? .null])
        case "fileChange":
            await host.emit("tool.result", ["id": .string(id), "status": .string(Self.toolStatus(item["status"]?.stringValue)),
                                            "content": Self.changeContent(item["changes"])])
        case "mcpToolCall", "dynamicToolCall":
            await host.emit("tool.result", ["id": .string(id), "status": .string(Self.toolStatus(item["status"]?.stringValue)),
                                            "output": item["result"] ?? item["contentItems"] ?? .null])
        default:
            break
        }
    }

    // MARK: - Codex's requests → approvals

    private func answer(_ request: JSONRPCRequest) async {
        let params = request.params
        let approval: ApprovalRequest
        switch request.method {
        case "item/commandExecution/requestApproval":
            let command = params["command"]?.stringValue ?? "a command"
            var body = command
            if let reason = params["reason"]?.stringValue, !reason.isEmpty { body += "\n\n" + reason }
            approval = ApprovalRequest(kind: "command", title: command, body: body,
                                       payload: ["protocol": "codex", "item_id": params["itemId"] ?? .null,
                                                 "cwd": params["cwd"] ?? .null, "reason": params["reason"] ?? .null])
        case "item/fileChange/requestApproval":
            let item = params["itemId"]?.stringValue ?? ""
            let changes = state.withLock { $0.fileChanges[item] } ?? []
            approval = ApprovalRequest(kind: "diff", title: Self.changeTitle(changes), body: Self.patch(changes),
                                       payload: ["protocol": "codex", "item_id": .string(item), "reason": params["reason"] ?? .null])
        default:
            state.withLock { _ = $0.pendingApprovals.removeValue(forKey: request.id.text) }
            return await connection.respond(to: request.id, errorCode: -32601, message: "M does not implement \(request.method)")
        }
        let decision = await host.requestApproval(approval)
        guard state.withLock({ $0.pendingApprovals.removeValue(forKey: request.id.text) }) != nil else { return }
        let word: String
        switch decision.status {
        case .approved: word = decision.always ? "acceptForSession" : "accept"
        case .rejected, .expired: word = "decline"
        case .canceled, .pending: word = "cancel"
        }
        await connection.respond(to: request.id, result: ["decision": .string(word)])
    }

    // MARK: - Shapes

    /// File changes as a unified diff: an added file's content as all `+`, a deleted one's as all `-`,
    /// an update's hunks under `---`/`+++` headers.
    static func patch(_ changes: JSONValue?) -> String {
        guard case .array(let items) = changes ?? .null else { return "" }
        return items.map { change in
            let path = change["path"]?.stringValue ?? "?"
            let diff = change["diff"]?.stringValue ?? ""
            switch change["kind"]?["type"]?.stringValue {
            case "add": return UnifiedDiff.replacing(path: path, old: nil, new: diff)
            case "delete": return UnifiedDiff.replacing(path: path, old: diff, new: "").replacingOccurrences(of: "+++ \(path)", with: "+++ /dev/null")
            default: return diff.hasPrefix("---") ? diff : "--- \(path)\n+++ \(change["kind"]?["move_path"]?.stringValue ?? path)\n" + diff
            }
        }.joined()
    }

    static func changeContent(_ changes: JSONValue?) -> JSONValue {
        guard case .array(let items) = changes ?? .null else { return [] }
        return .array(items.map { change in
            ["type": "diff", "path": change["path"] ?? .null, "change": change["kind"]?["type"] ?? .null,
             "patch": .string(patch(.array([change])))]
        })
    }

    static func changeTitle(_ changes: JSONValue?) -> String {
        guard case .array(let items) = changes ?? .null, !items.isEmpty else { return "Change files" }
        let paths = items.compactMap { $0["path"]?.stringValue }
        return "Change " + paths.prefix(3).joined(separator: ", ") + (paths.count > 3 ? " and \(paths.count - 3) more" : "")
    }

    static func toolStatus(_ status: String?) -> String {
        switch status {
        case "completed": return "completed"
        case "declined": return "rejected"
        case "inProgress": return "in_progress"
        default: return "failed"
        }
    }

    static func planStatus(_ status: String?) -> String {
        switch status {
        case "completed": return "completed"
        case "inProgress": return "in_progress"
        default: return "pending"
        }
    }

    /// `ThreadTokenUsage` as the `usage` event: this turn's tokens (the thread's totals now, less
    /// those when the previous turn ended) and the thread's total so far.
    static func usage(_ usage: JSONValue, since before: JSONValue) -> JSONValue {
        let total = usage["total"] ?? .null
        var pairs: [(String, JSONValue)] = []
        for (from, to) in [("inputTokens", "input_tokens"), ("outputTokens", "output_tokens"),
                           ("cachedInputTokens", "cache_read_tokens"), ("reasoningOutputTokens", "reasoning_tokens")] {
            if let now = total[from]?.intValue { pairs.append((to, .int(now - (before[from]?.intValue ?? 0)))) }
        }
        if let n = total["totalTokens"], n != .null { pairs.append(("total_tokens", n)) }
        return .object(pairs)
    }
}
