import mdb

extension ACPSession {
    /// One `session/update` as M's events: message and thought chunks gathered into `agent.message`,
    /// `plan` → `plan`, `tool_call` → `tool.call`, `tool_call_update` → `tool.result` (with its status
    /// and content, diffs included), `usage_update` → `usage`. Other kinds (mode, commands) are not events.
    func update(_ update: JSONValue) async {
        let kind = update["sessionUpdate"]?.stringValue ?? ""
        switch kind {
        case "agent_message_chunk", "agent_thought_chunk":
            guard let text = update["content"]?["text"]?.stringValue else { return }
            let flushThought = state.withLock { state -> Bool in
                if kind == "agent_message_chunk" {
                    state.message += text
                    return !state.thought.isEmpty
                }
                state.thought += text
                return !state.message.isEmpty
            }
            // A thought after a message (or the reverse) ends the other.
            if flushThought { await flushOther(than: kind) }
        case "plan":
            await flushChunks()
            let entries = update["entries"].flatMap { entries -> [JSONValue]? in
                if case .array(let items) = entries { return items } else { return nil }
            } ?? []
            await host.emit("plan", ["entries": .array(entries.map { entry in
                ["content": entry["content"] ?? "", "status": entry["status"] ?? "pending", "priority": entry["priority"] ?? "medium"]
            })])
        case "tool_call", "tool_call_update":
            await flushChunks()
            guard let id = update["toolCallId"]?.stringValue else { return }
            let fields = remember(id: id, update)
            await host.emit(kind == "tool_call" ? "tool.call" : "tool.result", Self.toolEvent(id: id, fields, update: update))
        case "usage_update":
            var pairs: [(String, JSONValue)] = []
            if let used = update["used"] { pairs.append(("context_used", used)) }
            if let size = update["size"] { pairs.append(("context_size", size)) }
            if let cost = update["cost"], let amount = cost["amount"], cost["currency"]?.stringValue?.uppercased() ?? "USD" == "USD" {
                pairs.append(("total_cost_usd", amount))
            }
            await host.emit("usage", .object(pairs))
        default:
            return
        }
    }

    private func flushOther(than kind: String) async {
        let (role, text) = state.withLock { state -> (String, String) in
            if kind == "agent_message_chunk" {
                defer { state.thought = "" }
                return ("thought", state.thought)
            }
            defer { state.message = "" }
            return ("assistant", state.message)
        }
        await host.emit("agent.message", ["role": .string(role), "text": .string(text)])
    }

    /// Merges an update into what is known of the tool call and returns the merged fields.
    func remember(id: String, _ update: JSONValue) -> [(String, JSONValue)] {
        guard case .object(let pairs) = update else { return [] }
        return state.withLock { state in
            var fields = state.toolCalls[id] ?? []
            for (key, value) in pairs where key != "sessionUpdate" && value != .null {
                if let at = fields.firstIndex(where: { $0.0 == key }) { fields[at].1 = value } else { fields.append((key, value)) }
            }
            state.toolCalls[id] = fields
            return fields
        }
    }

    /// The `tool.call` / `tool.result` data: id, title, kind, status, input, content (a diff carries
    /// `path`, `old_text`, `new_text` and a unified `patch`), output.
    static func toolEvent(id: String, _ fields: [(String, JSONValue)], update: JSONValue) -> JSONValue {
        func field(_ key: String) -> JSONValue? { fields.first { $0.0 == key }?.1 }
        var data: [(String, JSONValue)] = [("id", .string(id))]
        if let title = field("title") { data.append(("title", title)) }
        if let kind = field("kind") { data.append(("kind", kind)) }
        if let status = update["status"] ?? field("status") { data.append(("status", status)) }
        if let input = field("rawInput") { data.append(("input", input)) }
        if let content = update["content"], case .array(let items) = content {
            data.append(("content", .array(items.map(contentItem))))
        }
        if let output = update["rawOutput"] { data.append(("output", output)) }
        if let locations = update["locations"] { data.append(("locations", locations)) }
        return .object(data)
    }

    /// A tool call content item for an event: text as text, a diff with its unified patch.
    static func contentItem(_ item: JSONValue) -> JSONValue {
        switch item["type"]?.stringValue {
        case "diff":
            let path = item["path"]?.stringValue ?? ""
            let old = item["oldText"]?.stringValue
            let new = item["newText"]?.stringValue ?? ""
            return ["type": "diff", "path": .string(path), "old_text": old.map(JSONValue.string) ?? .null, "new_text": .string(new),
                    "patch": .string(UnifiedDiff.replacing(path: path, old: old, new: new))]
        case "content":
            let block = item["content"] ?? .null
            if let text = block["text"]?.stringValue { return ["type": "text", "text": .string(text)] }
            return ["type": "content", "content": block]
        case "terminal":
            return ["type": "terminal", "terminal_id": item["terminalId"] ?? .null]
        default:
            return item
        }
    }
}
