import Foundation
import mdb

/// JSON-RPC 2.0 over the agent's stdio, one JSON object per line, in both directions: our requests
/// (awaited by id), our notifications, the agent's notifications (handled in order, on the reading
/// task, before any later answer is delivered: a turn's updates are all in before its result) and the
/// agent's requests (`incoming`, to be served concurrently). A line that is not JSON-RPC is kept as
/// raw output (with a notice) and never ends the connection.
public final class JSONRPCConnection: Sendable {
    private struct State {
        var nextID: Int64 = 1
        var waiting: [Int64: (method: String, slot: ResponseSlot)] = [:]
        var closed = false
    }

    /// The agent's requests, in order; ends when the agent closes its stdout.
    public let incoming: AsyncStream<JSONRPCRequest>
    private let incomingContinuation: AsyncStream<JSONRPCRequest>.Continuation
    private let stdio: AgentStdio
    private let raw: RawOutput
    private let state = Locked(State())
    private let versionField: Bool

    /// A connection over `stdio`; `versionField: false` leaves `"jsonrpc": "2.0"` out of what we send
    /// (Codex's app-server speaks JSON-RPC without it).
    public init(stdio: AgentStdio, host: any DriverHost, protocolName: String, versionField: Bool = true) {
        self.stdio = stdio
        self.raw = RawOutput(host: host, protocolName: protocolName)
        self.versionField = versionField
        (incoming, incomingContinuation) = AsyncStream<JSONRPCRequest>.makeStream()
    }

    /// Reads the agent's stdout until it ends: answers go to their requests, notifications to
    /// `onNotification` (awaited before the next line), requests to `incoming`. When it ends, every
    /// request still waiting fails with `DriverError.agentExited` and `incoming` finishes.
    public func run(onNotification: @Sendable (_ method: String, _ params: JSONValue) async -> Void) async {
        for await line in stdio.lines() {
            await handle(line, onNotification)
        }
        let waiting = state.withLock { state -> [(String, ResponseSlot)] in
            state.closed = true
            defer { state.waiting = [:] }
            return state.waiting.values.map { ($0.method, $0.slot) }
        }
        for (method, slot) in waiting {
            slot.fill(.failure(DriverError.agentExited(waitingFor: "its answer to \(method)")))
        }
        incomingContinuation.finish()
    }

    /// Sends a request and waits for its result (throws the agent's error, or `agentExited`).
    public func request(_ method: String, _ params: JSONValue) async throws -> JSONValue {
        let slot = ResponseSlot()
        let id = state.withLock { state -> Int64? in
            guard !state.closed else { return nil }
            defer { state.nextID += 1 }
            state.waiting[state.nextID] = (method, slot)
            return state.nextID
        }
        guard let id else { throw DriverError.agentExited(waitingFor: "its answer to \(method)") }
        do {
            try await send(message(["id": .int(id), "method": .string(method), "params": params]))
        } catch {
            state.withLock { _ = $0.waiting.removeValue(forKey: id) }
            throw error
        }
        return try await slot.value()
    }

    /// Sends a notification.
    public func notify(_ method: String, _ params: JSONValue) async throws {
        try await send(message(["method": .string(method), "params": params]))
    }

    /// Answers one of the agent's requests with a result.
    public func respond(to id: JSONValue, result: JSONValue) async {
        try? await send(message(["id": id, "result": result]))
    }

    /// Answers one of the agent's requests with an error (`code` -32602 for bad params, -32601 unknown method…).
    public func respond(to id: JSONValue, errorCode code: Int64, message text: String) async {
        try? await send(message(["id": id, "error": ["code": .int(code), "message": .string(text)]]))
    }

    private func message(_ pairs: KeyValuePairs<String, JSONValue>) -> JSONValue {
        .object((versionField ? [("jsonrpc", "2.0")] : []) + pairs.map { ($0.key, $0.value) })
    }

    private func send(_ value: JSONValue) async throws {
        try await stdio.send(value.text)
    }

    private func handle(_ line: [UInt8], _ onNotification: @Sendable (String, JSONValue) async -> Void) async {
        if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { return }
        guard let value = try? JSONValue.parse(Data(line)), case .object = value else {
            return await raw.keep(line, why: "not a JSON object")
        }
        if let method = value["method"]?.stringValue {
            let params = value["params"] ?? .null
            if let id = value["id"], id != .null {
                incomingContinuation.yield(JSONRPCRequest(id: id, method: method, params: params))
            } else {
                await onNotification(method, params)
            }
            return
        }
        guard let id = value["id"]?.intValue, value["result"] != nil || value["error"] != nil else {
            return await raw.keep(line, why: "neither a request, a notification nor a response")
        }
        guard let waiting = state.withLock({ $0.waiting.removeValue(forKey: id) }) else {
            return await raw.keep(line, why: "a response to no request of ours (id \(id))")
        }
        if let error = value["error"], error != .null {
            waiting.slot.fill(.failure(DriverError.remote(
                method: waiting.method, code: error["code"]?.intValue ?? 0, message: error["message"]?.stringValue ?? error.text)))
        } else {
            waiting.slot.fill(.success(value["result"] ?? .null))
        }
    }
}
