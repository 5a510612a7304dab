import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import MAuth
import MTestSupport
import NIOCore
import mdb
@testable import mweb

/// A live mweb on port 0 over a temp database, with tokens of every scope.
struct LiveServer: Sendable {
    let port: Int
    let db: MDatabase
    let readToken: String
    let steerToken: String
    let adminToken: String

    var base: String { "127.0.0.1:\(port)" }

    /// Starts the app in-process, runs `body`, and stops the app.
    static func with<T: Sendable>(_ tweak: @Sendable (inout AppConfig) -> Void = { _ in },
                                  _ body: @Sendable (LiveServer) async throws -> T) async throws -> T {
        let tmp = TempDir("mweb")
        let db = try MDatabase(path: tmp.dbPath, create: true)
        func token(_ scope: TokenScope) throws -> String {
            let secret = Secret.generate()
            _ = try db.createToken(name: scope.rawValue, scope: scope, hash: Secret.hash(secret))
            return secret
        }
        let tokens = (try token(.read), try token(.steer), try token(.admin))
        var config = AppConfig(databasePath: tmp.dbPath)
        config.port = 0
        tweak(&config)
        let (urls, continuation) = AsyncStream.makeStream(of: String.self)
        var logger = Logger(label: "mweb-test")
        logger.logLevel = .critical
        let app = try buildApplication(config: config, logger: logger) { url in continuation.yield(url) }
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                try await app.runService(gracefulShutdownSignals: [])
                return nil
            }
            var iterator = urls.makeAsyncIterator()
            guard let url = await iterator.next(), let port = Int(url.split(separator: ":").last ?? "") else {
                throw TestFailure("mweb did not start")
            }
            let server = LiveServer(port: port, db: db, readToken: tokens.0, steerToken: tokens.1, adminToken: tokens.2)
            defer { withExtendedLifetime(tmp) {} }
            do {
                let result = try await body(server)
                group.cancelAll()
                return result
            } catch {
                group.cancelAll()
                throw error
            }
        }!
    }
}

/// A failed expectation outside `#expect`.
struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// One HTTP exchange's result: status, headers and the body parsed as JSON.
struct HTTPResult: Sendable {
    var status: Int
    var headers: HTTPFields
    var text: String
    var json: JSONValue? { try? JSONValue.parse(text) }
    /// `error.code` of an error body.
    var errorCode: String? { json?["error"]?["code"]?.stringValue }
}

/// Sends one request on a fresh connection (as a separate client would).
func http(_ port: Int, _ method: HTTPRequest.Method, _ path: String, token: String? = nil,
          headers: HTTPFields = [:], body: String? = nil) async throws -> HTTPResult {
    var fields = headers
    if let token { fields[.authorization] = "Bearer \(token)" }
    if body != nil, fields[.contentType] == nil { fields[.contentType] = "application/json" }
    let request = TestClient.Request(path, method: method, authority: "127.0.0.1:\(port)", headers: fields,
                                     body: body.map { ByteBuffer(string: $0) })
    let response = try await TestClient.withClient(host: "127.0.0.1", port: port) { client in
        try await client.execute(request)
    }
    return HTTPResult(status: Int(response.status.code), headers: response.headers,
                      text: response.body.map { String(buffer: $0) } ?? "")
}
