import Foundation
import mdb

/// One ACP conversation: the client side of the protocol for one run (see `ACPDriver`).
final class ACPSession: Sendable {
    struct State {
        var sessionID: String?
        /// Each tool call as the agent last described it (title, kind, content, rawInput…): a
        /// permission request names only its id, and the approval card shows the rest.
        var toolCalls: [String: [(String, JSONValue)]] = [:]
        /// Permission requests not answered yet, by their JSON-RPC id's text.
        var pendingPermissions: [String: JSONValue] = [:]
        var terminals: [String: CapturedProcess] = [:]
        var nextTerminal = 1
        /// Message and thought chunks not yet emitted: consecutive chunks become one event.
        var message = ""
        var thought = ""
    }

    let host: any DriverHost
    let agent: AgentStdio
    let connection: JSONRPCConnection
    let inbox: TurnInbox
    let state = Locked(State())

    init(host: any DriverHost, agent: AgentStdio) {
        self.host = host
        self.agent = agent
        connection = JSONRPCConnection(stdio: agent, host: host, protocolName: "ACP (JSON-RPC 2.0)")
        inbox = TurnInbox(host: host)
    }

    func run(prompt: String?) async -> DriverEnd {
        let end = await Conversation.run(host: host, agent: agent, inbox: inbox, reader: {
            await self.connection.run { method, params in
                if method == "session/update" { await self.update(params["update"] ?? .null) }
            }
        }, serve: { await self.serve() }, converse: { await self.converse(prompt: prompt) })
        // Terminals the agent did not release do not outlive the conversation.
        let left = state.withLock { state -> [CapturedProcess] in
            defer { state.terminals = [:] }
            return Array(state.terminals.values)
        }
        left.forEach { $0.kill() }
        return end
    }

    /// initialize, session/new, then one session/prompt per prompt until the inbox says stop.
    private func converse(prompt: String?) async -> DriverEnd {
        do {
            let initialized = try await connection.request("initialize", [
                "protocolVersion": .int(ACPDriver.protocolVersion),
                "clientCapabilities": [
                    "fs": ["readTextFile": true, "writeTextFile": true],
                    "terminal": true,
                ],
                "clientInfo": ["name": "m", "title": "M", "version": "1"],
            ])
            if let version = initialized["protocolVersion"]?.intValue, version != ACPDriver.protocolVersion {
                await host.emit("notice", ["level": "warning", "text": .string("the agent speaks ACP version \(version); M speaks \(ACPDriver.protocolVersion)")])
            }
            let session = try await connection.request("session/new", ["cwd": .string(host.workspace), "mcpServers": []])
            guard let id = session["sessionId"]?.stringValue else {
                throw DriverError.badResponse(method: "session/new", detail: "no sessionId in \(session.text)")
            }
            state.withLock { $0.sessionID = id }
            inbox.onCancel { [self] in await self.cancelTurn() }
        } catch {
            return await failed(error)
        }
        var next: TurnInbox.Next
        if let prompt, !prompt.isEmpty { next = .prompt(prompt) } else { next = await inbox.next() }
        while case .prompt(let text) = next {
            if inbox.canceled { return .canceled }
            inbox.setInTurn(true)
            do {
                let result = try await connection.request("session/prompt", [
                    "sessionId": .string(sessionID),
                    "prompt": [["type": "text", "text": .string(text)]],
                ])
                inbox.setInTurn(false)
                await flushChunks()
                if let usage = result["usage"], case .object = usage {
                    await host.emit("usage", Self.tokens(usage))
                }
                await host.emit("agent.turn_end", ["stop_reason": result["stopReason"] ?? "end_turn"])
            } catch {
                inbox.setInTurn(false)
                await flushChunks()
                if inbox.canceled { return .canceled }
                return await failed(error)
            }
            next = await inbox.next()
        }
        return next == .cancel ? .canceled : .finished
    }

    var sessionID: String { state.withLock { $0.sessionID ?? "" } }

    /// A cancel during a turn: `session/cancel`, and every permission request still open answered
    /// `cancelled` (the protocol requires it; the host cancels the approvals themselves).
    private func cancelTurn() async {
        try? await connection.notify("session/cancel", ["sessionId": .string(sessionID)])
        let open = state.withLock { state -> [JSONValue] in
            defer { state.pendingPermissions = [:] }
            return Array(state.pendingPermissions.values)
        }
        for id in open {
            await connection.respond(to: id, result: ["outcome": ["outcome": "cancelled"]])
        }
    }

    private func failed(_ error: Error) async -> DriverEnd {
        let text = "\(error)"
        await host.emit("notice", ["level": "error", "text": .string(text)])
        return .failed(text)
    }

    /// Serves the agent's requests, each in a task of its own, so that a permission waiting for a
    /// person holds up neither updates nor file reads.
    private func serve() async {
        await withTaskGroup(of: Void.self) { group in
            for await request in connection.incoming {
                if request.method == "session/request_permission" {
                    // Recorded before anything else arrives, so a cancel right after answers it.
                    state.withLock { $0.pendingPermissions[request.id.text] = request.id }
                }
                group.addTask { await self.answer(id: request.id, method: request.method, params: request.params) }
            }
        }
    }

    /// Emits the chunks gathered so far (a message or a thought ends where something else begins).
    func flushChunks() async {
        let (message, thought) = state.withLock { state -> (String, String) in
            defer { state.message = ""; state.thought = "" }
            return (state.message, state.thought)
        }
        if !thought.isEmpty { await host.emit("agent.message", ["role": "thought", "text": .string(thought)]) }
        if !message.isEmpty { await host.emit("agent.message", ["role": "assistant", "text": .string(message)]) }
    }

    /// ACP's `Usage` (camelCase) as the `usage` event's fields.
    static func tokens(_ usage: JSONValue) -> JSONValue {
        var pairs: [(String, JSONValue)] = []
        for (from, to) in [("inputTokens", "input_tokens"), ("outputTokens", "output_tokens"), ("totalTokens", "total_tokens"),
                           ("cachedReadTokens", "cache_read_tokens"), ("cachedWriteTokens", "cache_write_tokens"),
                           ("thoughtTokens", "thought_tokens")] {
            if let value = usage[from], value != .null { pairs.append((to, value)) }
        }
        return .object(pairs)
    }
}
