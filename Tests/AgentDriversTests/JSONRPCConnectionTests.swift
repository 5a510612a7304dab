import AgentDrivers
import Foundation
import MTestSupport
import Testing
import mdb

/// The JSON-RPC line transport against a real peer process (`Tests/Fixtures/jsonrpc_peer.py`).
@Suite struct JSONRPCConnectionTests {
    /// Notifications seen, in order (by the reading task).
    final class Seen: @unchecked Sendable {
        private let lock = NSLock()
        private var items: [(String, JSONValue)] = []
        func add(_ method: String, _ params: JSONValue) { lock.withLock { items.append((method, params)) } }
        var all: [(String, JSONValue)] { lock.withLock { items } }
    }

    @Test func requestsNotificationsServerRequestsAndBadLines() async throws {
        let workspace = TempDir("m-jsonrpc")
        let host = RecordingHost(workspace: workspace.path)
        let peer = try AgentProcess(["python3", Paths.fixture("jsonrpc_peer.py")], environment: Paths.environment(), directory: workspace.path)
        let connection = JSONRPCConnection(stdio: peer.stdio, host: host, protocolName: "test JSON-RPC")
        let seen = Seen()
        let reader = Task { await connection.run { method, params in seen.add(method, params) } }

        // The peer's own request arrives on `incoming`; our answer reaches it.
        var requests = connection.incoming.makeAsyncIterator()
        let asked = try #require(await requests.next())
        #expect(asked.method == "peer/ask" && asked.id == "q-1" && asked.params["question"] == "ok?")
        await connection.respond(to: asked.id, result: ["yes": true])

        // A result, and the notification sent before it was handled before the result came back.
        let echoed = try await connection.request("echo", ["x": 1])
        #expect(echoed == ["x": 1])
        #expect(seen.all.map(\.0).contains("peer/before-answer"))
        #expect(seen.all.first?.0 == "peer/hello")

        // An error answer is thrown with the peer's message.
        await #expect(throws: DriverError.remote(method: "fail", code: -32000, message: "it failed")) {
            try await connection.request("fail", .object([]))
        }
        try await host.wait("the peer's record of our answer") { _ in seen.all.contains { $0.0 == "peer/answered" } }
        let answered = try #require(seen.all.first { $0.0 == "peer/answered" }?.1)
        #expect(answered["id"] == "q-1" && answered["result"] == ["yes": true])

        // Lines that are not JSON-RPC are kept as output, with one notice; nothing broke.
        #expect(host.events("output").map { $0["text"] } == ["not json at all\n", "{\"just\": \"an object\"}\n",
                                                            "{\"jsonrpc\": \"2.0\", \"id\": 999, \"result\": {}}\n"])
        #expect(host.events("notice").count == 1)

        // A request the peer never answers fails when it exits.
        await #expect(throws: DriverError.agentExited(waitingFor: "its answer to exit")) {
            try await connection.request("exit", .object([]))
        }
        await reader.value
        await #expect(throws: DriverError.self) { try await connection.request("echo", .object([])) }
    }
}
