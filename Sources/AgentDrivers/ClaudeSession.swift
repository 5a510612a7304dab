import Foundation
import mdb

/// One conversation with Claude Code's stream-json mode (see `ClaudeDriver`). A turn is one user
/// message line in and everything up to its `result` line out.
final class ClaudeSession: Sendable {
    private struct State {
        /// Filled with `true` at the turn's result, `false` when Claude's stdout ends.
        var turnEnded: ResponseSlot?
        var readerDone = false
        var costSoFar = 0.0
        var interrupts = 0
    }

    let host: any DriverHost
    let agent: AgentStdio
    let inbox: TurnInbox
    private let raw: RawOutput
    private let state = Locked(State())

    init(host: any DriverHost, agent: AgentStdio) {
        self.host = host
        self.agent = agent
        inbox = TurnInbox(host: host)
        raw = RawOutput(host: host, protocolName: "Claude Code stream-json")
    }

    func run(prompt: String?) async -> DriverEnd {
        inbox.onCancel { [self] in await self.interrupt() }
        return await Conversation.run(host: host, agent: agent, inbox: inbox, reader: {
            for await line in self.agent.lines() { await self.handle(line) }
            self.endTurn(completed: false)
        }, converse: { await self.converse(prompt: prompt) })
    }

    private func converse(prompt: String?) async -> DriverEnd {
        var next: TurnInbox.Next
        if let prompt, !prompt.isEmpty { next = .prompt(prompt) } else { next = await inbox.next() }
        while case .prompt(let text) = next {
            if inbox.canceled { return .canceled }
            inbox.setInTurn(true)
            let completed: Bool
            do {
                completed = try await turn(text)
            } catch {
                inbox.setInTurn(false)
                return await failed("\(error)")
            }
            inbox.setInTurn(false)
            if !completed {
                if inbox.canceled { return .canceled }
                return await failed("\(DriverError.agentExited(waitingFor: "the end of its turn"))")
            }
            next = await inbox.next()
        }
        return next == .cancel ? .canceled : .finished
    }

    /// Sends one user message and waits for its `result` (true) or the end of Claude's stdout (false).
    private func turn(_ text: String) async throws -> Bool {
        let message: JSONValue = ["type": "user", "message": ["role": "user", "content": .string(text)]]
        let ended = ResponseSlot()
        let running = state.withLock { state -> Bool in
            state.turnEnded = ended
            return !state.readerDone
        }
        guard running else { return false }
        try await agent.send(message.text)
        return try await ended.value() == .bool(true)
    }

    private func endTurn(completed: Bool) {
        let ended = state.withLock { state -> ResponseSlot? in
            if !completed { state.readerDone = true }
            defer { state.turnEnded = nil }
            return state.turnEnded
        }
        ended?.fill(.success(.bool(completed)))
    }

    /// A cancel during a turn: Claude Code's control request `interrupt` (what its SDKs send); the turn
    /// then ends with a result. If Claude does not stop, the host's cancel ends its process group.
    private func interrupt() async {
        let n = state.withLock { state -> Int in state.interrupts += 1; return state.interrupts }
        let request: JSONValue = ["type": "control_request", "request_id": .string("m-interrupt-\(n)"),
                                  "request": ["subtype": "interrupt"]]
        try? await agent.send(request.text)
    }

    private func failed(_ text: String) async -> DriverEnd {
        await host.emit("notice", ["level": "error", "text": .string(text)])
        return .failed(text)
    }

    /// One line of Claude's stdout as events.
    private func handle(_ line: [UInt8]) async {
        if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { return }
        guard let value = try? JSONValue.parse(Data(line)), case .object = value, let type = value["type"]?.stringValue else {
            return await raw.keep(line, why: "not a JSON object with a type")
        }
        let parent: JSONValue? = value["parent_tool_use_id"] == .null ? Optional.none : value["parent_tool_use_id"]
        switch type {
        case "assistant":
            for block in Self.blocks(value["message"]?["content"]) {
                switch block["type"]?.stringValue {
                case "text":
                    await host.emit("agent.message", Self.with(parent, ["role": "assistant", "text": block["text"] ?? ""]))
                case "thinking":
                    await host.emit("agent.message", Self.with(parent, ["role": "thought", "text": block["thinking"] ?? ""]))
                case "tool_use":
                    await host.emit("tool.call", Self.with(parent, ["id": block["id"] ?? .null, "title": .string(Self.title(block)),
                                                                    "name": block["name"] ?? .null, "input": block["input"] ?? .null]))
                default:
                    break
                }
            }
        case "user":
            for block in Self.blocks(value["message"]?["content"]) where block["type"]?.stringValue == "tool_result" {
                let failed = block["is_error"]?.boolValue ?? false
                await host.emit("tool.result", Self.with(parent, ["id": block["tool_use_id"] ?? .null,
                                                                  "status": failed ? "failed" : "completed",
                                                                  "output": .string(Self.text(block["content"]))]))
            }
        case "result":
            await result(value)
        case "control_response", "system", "stream_event", "rate_limit_event":
            break
        default:
            break
        }
    }

    /// The `result` line: the turn's tokens and cost, then `agent.turn_end`.
    private func result(_ value: JSONValue) async {
        var usage: [(String, JSONValue)] = []
        if let tokens = value["usage"] {
            for key in ["input_tokens", "output_tokens", "cache_read_input_tokens", "cache_creation_input_tokens"] {
                if let n = tokens[key], n != .null { usage.append((key, n)) }
            }
        }
        if let total = value["total_cost_usd"].flatMap(Self.number) {
            // Claude reports the session's total so far; the event carries this turn's part and the total.
            let before = state.withLock { state -> Double in defer { state.costSoFar = total }; return state.costSoFar }
            usage.append(("cost_usd", .double(max(total - before, 0))))
            usage.append(("total_cost_usd", .double(total)))
        }
        if !usage.isEmpty { await host.emit("usage", .object(usage)) }
        if value["is_error"]?.boolValue == true, let subtype = value["subtype"]?.stringValue, subtype != "success" {
            let detail = value["result"]?.stringValue ?? subtype
            await host.emit("notice", ["level": "warning", "text": .string("Claude Code ended the turn with \(subtype): \(detail)")])
        }
        let canceled = inbox.canceled
        let reason = canceled ? "cancelled" : (value["stop_reason"]?.stringValue ?? value["subtype"]?.stringValue ?? "end_turn")
        await host.emit("agent.turn_end", ["stop_reason": .string(reason)])
        endTurn(completed: true)
    }

    static func blocks(_ content: JSONValue?) -> [JSONValue] {
        switch content {
        case .array(let items): return items
        case .string(let text): return [["type": "text", "text": .string(text)]]
        default: return []
        }
    }

    /// A tool result's content as text (a string, or text blocks).
    static func text(_ content: JSONValue?) -> String {
        switch content {
        case .string(let text): return text
        case .array(let items): return items.compactMap { $0["text"]?.stringValue }.joined(separator: "\n")
        default: return ""
        }
    }

    /// A tool call's one-line title: Bash's command, a file tool's path, else the tool's name.
    static func title(_ block: JSONValue) -> String {
        let name = block["name"]?.stringValue ?? "tool"
        let input = block["input"] ?? .null
        if let command = input["command"]?.stringValue { return command }
        if let path = input["file_path"]?.stringValue ?? input["path"]?.stringValue { return "\(name) \(path)" }
        if let pattern = input["pattern"]?.stringValue { return "\(name) \(pattern)" }
        return name
    }

    static func number(_ value: JSONValue) -> Double? {
        switch value {
        case .double(let d): return d
        case .int(let i): return Double(i)
        default: return nil
        }
    }

    /// `data` with `parent_tool_use_id` when the line came from a subagent.
    static func with(_ parent: JSONValue?, _ data: JSONValue) -> JSONValue {
        guard let parent, case .object(var pairs) = data else { return data }
        pairs.append(("parent_tool_use_id", parent))
        return .object(pairs)
    }
}
