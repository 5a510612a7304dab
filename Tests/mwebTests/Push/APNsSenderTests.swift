import AsyncHTTPClient
import Crypto
import Foundation
import MAuth
import MTestSupport
import NIOPosix
import NIOSSL
import Testing
import mdb
@testable import mweb

/// APNs requests as Apple documents them, sent over HTTP/2 and TLS to a real
/// local server (`Tests/Fixtures/apns_server.py`, Python's h2): the path, the
/// apns-* headers, a provider JWT whose ES256 signature verifies with the
/// key's public half, the payload's aps fields and M's own; 410 Unregistered
/// and 400 BadDeviceToken remove the device token, 429 fails the notification.
@Suite(.serialized) struct APNsSenderTests {
    @Test func requestsCarryApplesHeadersASignedTokenAndThePayload() async throws {
        let tmp = TempDir("push-apns")
        let server = try APNsServer(tmp)
        defer { server.stop() }
        let signingKey = P256.Signing.PrivateKey()
        let keyPath = tmp.file("AuthKey_ABC123DEFG.p8")
        try signingKey.pemRepresentation.write(toFile: keyPath, atomically: true, encoding: .utf8)

        let db = try MDatabase(path: tmp.dbPath, create: true)
        let run = try db.createRun(NewRun(title: "deploy the site", spec: RunSpec(command: "true")))
        _ = try db.claimNextRun(workerId: "w")
        let notifier = try db.addNotifier(NewNotifier(kind: .apns, config: .object([
            ("key_path", .string(keyPath)), ("key_id", "ABC123DEFG"), ("team_id", "TEAM123456"),
            ("topic", "org.example.m"), ("environment", "sandbox"), ("server", .string(server.url)),
        ])))
        #expect(notifier.eventTypes == Defaults.phonePushDefaultEvents)
        let good = String(repeating: "ab", count: 32), gone = "dead" + String(repeating: "0", count: 60)
        let bad = "bad0" + String(repeating: "1", count: 60)
        for token in [good, gone, bad] { _ = try db.addPushSubscription(kind: "apns", endpoint: token) }

        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .file(server.certPath)
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(tlsConfiguration: tls))
        let thread = NIOThreadPool(numberOfThreads: 1)
        thread.start()
        do {
            try await exercise(http: http, thread: thread, db: db, run: run, server: server, signingKey: signingKey, good: good)
        } catch {
            try? await http.shutdown()
            try? await thread.shutdownGracefully()
            throw error
        }
        try await http.shutdown()
        try await thread.shutdownGracefully()
    }

    private func exercise(http: HTTPClient, thread: NIOThreadPool, db: MDatabase, run: Run, server: APNsServer,
                          signingKey: P256.Signing.PrivateKey, good: String) async throws {
        let sender = APNsSender(http: http, links: PushLinks(publicURL: "https://m.example.org"),
                                db: OnThread(db: db, thread: thread), tokens: APNsTokenCache())

        let approval = try db.requestApproval(runId: run.id, NewApproval(kind: "command", title: "rm -rf build/"))
        try db.fillOutbox()
        let asked = try #require(try db.claimDueOutbox().first)
        let before = Date()
        try await sender.send(asked)
        let requests = server.requests()
        #expect(requests.count == 3)
        #expect(requests.allSatisfy { $0["http2"]?.boolValue == true })
        let request = try #require(requests.first { $0["headers"]?[":path"]?.stringValue == "/3/device/\(good)" })
        let headers = try #require(request["headers"])
        #expect(headers[":method"]?.stringValue == "POST")
        #expect(headers["apns-topic"]?.stringValue == "org.example.m")
        #expect(headers["apns-push-type"]?.stringValue == "alert")
        #expect(headers["apns-priority"]?.stringValue == "10")
        #expect(headers["apns-collapse-id"]?.stringValue == "m-approval-\(approval.id)")
        let expiration = try #require(headers["apns-expiration"]?.stringValue.flatMap { Double($0) })
        #expect(expiration > before.timeIntervalSince1970 + 3600)

        // The provider token: ES256 over header.claims, kid and iss as configured, iat now.
        let authorization = try #require(headers["authorization"]?.stringValue)
        #expect(authorization.hasPrefix("bearer "))
        let jwt = String(authorization.dropFirst("bearer ".count))
        let parts = jwt.split(separator: ".").map(String.init)
        #expect(parts.count == 3)
        let header = try JSONValue.parse(try #require(Base64URL.decode(parts[0])))
        let claims = try JSONValue.parse(try #require(Base64URL.decode(parts[1])))
        #expect(header["alg"]?.stringValue == "ES256" && header["kid"]?.stringValue == "ABC123DEFG")
        #expect(claims["iss"]?.stringValue == "TEAM123456")
        let iat = try #require(claims["iat"]?.intValue)
        #expect(abs(Double(iat) - before.timeIntervalSince1970) < 60)
        let signature = try P256.Signing.ECDSASignature(rawRepresentation: try #require(Base64URL.decode(parts[2])))
        #expect(signingKey.publicKey.isValidSignature(signature, for: Data((parts[0] + "." + parts[1]).utf8)))

        let payload = try JSONValue.parse(try #require(request["body"]?.stringValue))
        #expect(payload["aps"]?["alert"]?["title"]?.stringValue == "Approval needed")
        #expect(payload["aps"]?["alert"]?["body"]?.stringValue?.contains("rm -rf build/") == true)
        #expect(payload["aps"]?["category"]?.stringValue == APNsSender.approvalCategory)
        #expect(payload["aps"]?["thread-id"]?.stringValue == "m-run-\(run.id)")
        #expect(payload["run_id"]?.intValue == run.id && payload["approval_id"]?.intValue == approval.id)
        #expect(payload["url"]?.stringValue == "https://m.example.org/#/runs/\(run.id)")

        // Unregistered (410) and BadDeviceToken (400) were removed; the good token stays.
        #expect(try db.pushSubscriptions(kind: "apns").map(\.endpoint) == [good])
        try db.markOutboxSent(id: asked.item.id)

        // Decided elsewhere: the same collapse id replaces the request; the token is reused.
        _ = try db.resolveApproval(id: approval.id, decision: .reject, by: "web:phone")
        try db.fillOutbox()
        let resolved = try #require(try db.claimDueOutbox().first)
        try await sender.send(resolved)
        let second = try #require(server.requests().last)
        #expect(second["headers"]?["apns-collapse-id"]?.stringValue == "m-approval-\(approval.id)")
        #expect(second["headers"]?["apns-priority"]?.stringValue == "5")
        #expect(second["headers"]?["authorization"]?.stringValue == authorization)
        let replaced = try JSONValue.parse(try #require(second["body"]?.stringValue))
        #expect(replaced["aps"]?["alert"]?["title"]?.stringValue == "Approval rejected")
        #expect(replaced["aps"]?["category"] == nil)

        // Any other refusal fails the notification (the outbox retries it) and keeps the token.
        _ = try db.addPushSubscription(kind: "apns", endpoint: "busy" + String(repeating: "2", count: 60))
        await #expect(throws: PushError.self) { try await sender.send(resolved) }
        #expect(try db.pushSubscriptions(kind: "apns").count == 2)
    }
}

/// `Tests/Fixtures/apns_server.py` on a free loopback port, with its self-signed certificate.
final class APNsServer: @unchecked Sendable {
    let process: Process
    let port: Int
    let logPath: String
    let certPath: String

    init(_ tmp: TempDir) throws {
        logPath = tmp.file("apns.jsonl")
        certPath = tmp.file("apns-cert.pem")
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Fixtures/apns_server.py").path
        let out = Pipe()
        process = try Exec.start("/usr/bin/env", ["python3", script, "--log", logPath, "--cert", certPath],
                                 stdout: out.fileHandleForWriting)
        var seen = ""
        while !seen.contains("\n") {
            let data = out.fileHandleForReading.availableData
            if data.isEmpty { break }
            seen += String(decoding: data, as: UTF8.self)
        }
        guard let line = seen.split(separator: "\n").first, line.hasPrefix("listening "),
              let port = Int(line.dropFirst("listening ".count)) else {
            process.terminate()
            throw TestFailure("the APNs server did not start (is python3-h2 installed? scripts/setup --test): \(seen)")
        }
        self.port = port
    }

    var url: String { "https://127.0.0.1:\(port)" }

    func stop() { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }

    deinit { stop() }

    /// Every request logged so far.
    func requests() -> [JSONValue] {
        guard let text = try? String(contentsOfFile: logPath, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { try? JSONValue.parse(String($0)) }
    }
}
