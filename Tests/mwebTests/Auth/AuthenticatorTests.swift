import Foundation
import HTTPTypes
import MTestSupport
import Testing
import MAuth
import mdb
@testable import mweb

/// Every `/api/v1` route (method, path) with a body for the ones that take one.
let everyRoute: [(HTTPRequest.Method, String, String?)] = [
    (.get, "/api/v1/runs", nil), (.post, "/api/v1/runs", #"{"command":"true"}"#),
    (.get, "/api/v1/runs/1", nil), (.get, "/api/v1/runs/1/events?after=0", nil),
    (.get, "/api/v1/runs/1/stream?after=0", nil), (.get, "/api/v1/stream", nil),
    (.post, "/api/v1/runs/1/input", #"{"text":"x"}"#), (.post, "/api/v1/runs/1/cancel", nil),
    (.get, "/api/v1/approvals?status=pending", nil), (.get, "/api/v1/approvals/1", nil),
    (.post, "/api/v1/approvals/1", #"{"decision":"approve"}"#),
    (.get, "/api/v1/runs/1/diffs", nil), (.post, "/api/v1/runs/1/diffs", nil), (.get, "/api/v1/diffs/1", nil),
    (.get, "/api/v1/session", nil), (.get, "/api/v1/openapi.yaml", nil),
    (.get, "/api/v1/push/vapid-key", nil),
    (.post, "/api/v1/push/subscriptions",
     #"{"endpoint":"https://push.example.org/x","keys":{"p256dh":"BPc","auth":"aaaaaaaaaaaaaaaaaaaaaa"}}"#),
    (.post, "/api/v1/push/devices", #"{"token":"\#(String(repeating: "ab", count: 32))"}"#),
]

/// The routes that change something and need `steer`.
let steeringRoutes = everyRoute.filter { $0.0 == .post }

@Suite struct AuthenticatorTests {
    @Test func everyRouteWithoutATokenIsUnauthorized() async throws {
        try await LiveServer.with { server in
            _ = try server.db.createRun(NewRun(spec: RunSpec(command: "true")))
            for (method, path, body) in everyRoute {
                let result = try await http(server.port, method, path, body: body)
                #expect(result.status == 401, "\(method) \(path) answered \(result.status)")
                #expect(result.errorCode == "unauthorized")
            }
            // A WebSocket handshake without a token is refused: the socket never
            // opens (the framework answers a refused upgrade with a bare 400).
            let upgrade = try await http(server.port, .get, "/api/v1/runs/1/stream", headers: [
                .upgrade: "websocket", .connection: "Upgrade", .secWebSocketVersion: "13",
                .secWebSocketKey: "dGhlIHNhbXBsZSBub25jZQ==",
            ])
            #expect(upgrade.status != 101)
            #expect(upgrade.status == 400)
            #expect(try await http(server.port, .get, "/healthz").status == 200)
        }
    }

    @Test func readTokenOnSteeringRoutesIsForbidden() async throws {
        try await LiveServer.with { server in
            let run = try server.db.createRun(NewRun(spec: RunSpec(command: "true")))
            _ = try server.db.claimNextRun(workerId: "w")
            let approval = try server.db.requestApproval(runId: run.id, NewApproval(title: "ok?"))
            for (method, path, body) in steeringRoutes {
                let result = try await http(server.port, method, path, token: server.readToken, body: body)
                #expect(result.status == 403, "\(method) \(path) answered \(result.status)")
                #expect(result.errorCode == "forbidden")
            }
            #expect(try await http(server.port, .get, "/api/v1/push/vapid-key", token: server.readToken).status == 403)
            #expect(try server.db.pushSubscriptions(kind: "apns").isEmpty)
            // Nothing changed: the approval still waits, no input or diff request was queued.
            #expect(try server.db.approval(approval.id).status == .pending)
            #expect(try server.db.pendingInputs(runId: run.id).isEmpty)
            #expect(try server.db.runs(limit: 10, beforeId: nil, status: nil).count == 1)
            // And read routes work with it.
            #expect(try await http(server.port, .get, "/api/v1/runs/\(run.id)", token: server.readToken).status == 200)
        }
    }

    @Test func repeatedFailedAttemptsAreRateLimited() async throws {
        try await LiveServer.with({ $0.failedAuthLimit = 5 }) { server in
            for _ in 0..<5 {
                #expect(try await http(server.port, .get, "/api/v1/runs", token: "m_wrong").status == 401)
            }
            let limited = try await http(server.port, .get, "/api/v1/runs", token: "m_wrong")
            #expect(limited.status == 429)
            #expect(limited.errorCode == "rate_limited")
            #expect(Int(limited.headers[.retryAfter] ?? "") ?? 0 > 0)
            // A wrong login from the same address is limited too.
            let login = try await http(server.port, .post, "/api/v1/session", body: #"{"token":"m_wrong"}"#)
            #expect(login.status == 429)
        }
    }

    @Test func aValidTokenPassesAfterTwentyFailures() async throws {
        try await LiveServer.with({ $0.failedAuthLimit = 5 }) { server in
            for _ in 0..<20 {
                _ = try await http(server.port, .get, "/api/v1/runs", token: "m_wrong")
                _ = try await http(server.port, .post, "/api/v1/session", body: #"{"token":"m_wrong"}"#)
            }
            #expect(try await http(server.port, .get, "/api/v1/runs", token: "m_wrong").status == 429)
            // The owner is never locked out: valid credentials pass, by header and by login.
            #expect(try await http(server.port, .get, "/api/v1/runs", token: server.readToken).status == 200)
            let login = try await http(server.port, .post, "/api/v1/session", body: #"{"token":"\#(server.steerToken)"}"#)
            #expect(login.status == 200)
            let cookie = try #require(login.headers[.setCookie]?.split(separator: ";").first.map(String.init))
            #expect(try await http(server.port, .get, "/api/v1/runs", headers: [.cookie: cookie]).status == 200)
        }
    }

    @Test func forwardedForCountsOnlyFromATrustedProxy() async throws {
        let forwardedFor = HTTPField.Name("X-Forwarded-For")!
        // Without a configured proxy the header is ignored: every attempt counts against the peer.
        try await LiveServer.with({ $0.failedAuthLimit = 3 }) { server in
            for i in 0..<3 {
                _ = try await http(server.port, .get, "/api/v1/runs", token: "m_wrong", headers: [forwardedFor: "10.0.0.\(i)"])
            }
            let next = try await http(server.port, .get, "/api/v1/runs", token: "m_wrong", headers: [forwardedFor: "10.0.0.9"])
            #expect(next.status == 429, "a made-up X-Forwarded-For must not buy fresh attempts")
        }
        // Behind a trusted proxy each client is counted on its own.
        try await LiveServer.with({ $0.failedAuthLimit = 3; $0.trustedProxies = ["127.0.0.1"] }) { server in
            for _ in 0..<3 {
                _ = try await http(server.port, .get, "/api/v1/runs", token: "m_wrong", headers: [forwardedFor: "10.0.0.1"])
            }
            #expect(try await http(server.port, .get, "/api/v1/runs", token: "m_wrong",
                                   headers: [forwardedFor: "10.0.0.1"]).status == 429)
            // A client spoofing a hop in front of the proxy is still counted by the address the proxy saw.
            #expect(try await http(server.port, .get, "/api/v1/runs", token: "m_wrong",
                                   headers: [forwardedFor: "1.2.3.4, 10.0.0.1"]).status == 429)
            #expect(try await http(server.port, .get, "/api/v1/runs", token: "m_wrong",
                                   headers: [forwardedFor: "10.0.0.2"]).status == 401)
        }
    }

    @Test func anAuthorizationHeaderWithoutBearerIsRefused() async throws {
        try await LiveServer.with { server in
            for header in [server.readToken, "Basic \(server.readToken)", "Bearer ", "Token \(server.readToken)"] {
                let result = try await http(server.port, .get, "/api/v1/runs", headers: [.authorization: header])
                #expect(result.status == 401, "Authorization: \(header) answered \(result.status)")
                #expect(result.errorCode == "unauthorized")
            }
            #expect(try await http(server.port, .get, "/api/v1/runs", headers: [.authorization: "bearer \(server.readToken)"]).status == 200)
        }
    }

    @Test func aTokenBuysAnHttpOnlyStrictSessionCookie() async throws {
        try await LiveServer.with { server in
            let login = try await http(server.port, .post, "/api/v1/session", body: #"{"token":"\#(server.steerToken)"}"#)
            #expect(login.status == 200)
            #expect(login.json?["scope"]?.stringValue == "steer")
            let setCookie = try #require(login.headers[.setCookie])
            #expect(setCookie.contains("HttpOnly"))
            #expect(setCookie.contains("SameSite=Strict"))
            #expect(!setCookie.contains("Secure"), "plain HTTP on loopback: not Secure")
            let value = try #require(setCookie.split(separator: ";").first.map(String.init))
            #expect(!value.contains(server.steerToken), "the cookie is not the token")
            let me = try await http(server.port, .get, "/api/v1/session", headers: [.cookie: value])
            #expect(me.status == 200)
            #expect(me.json?["name"]?.stringValue == "steer")
            // Behind an HTTPS proxy the cookie is Secure.
            let proxied = try await http(server.port, .post, "/api/v1/session",
                                         headers: [HTTPField.Name("X-Forwarded-Proto")!: "https"],
                                         body: #"{"token":"\#(server.steerToken)"}"#)
            #expect(proxied.headers[.setCookie]?.contains("Secure") == true)
            // Logging out ends the session.
            // (from the page itself: a cookie request that changes something must be same-origin)
            #expect(try await http(server.port, .delete, "/api/v1/session",
                                   headers: [.cookie: value, .origin: "http://\(server.base)"]).status == 204)
            #expect(try await http(server.port, .get, "/api/v1/runs", headers: [.cookie: value]).status == 401)
        }
    }

    @Test func aRevokedTokenStopsWorkingAtOnce() async throws {
        try await LiveServer.with { server in
            #expect(try await http(server.port, .get, "/api/v1/runs", token: server.steerToken).status == 200)
            try server.db.revokeToken("steer")
            #expect(try await http(server.port, .get, "/api/v1/runs", token: server.steerToken).status == 401)
        }
    }

    @Test func tokensAreStoredOnlyAsHashes() async throws {
        try await LiveServer.with { server in
            let stored = try server.db.tokens().map(\.hash)
            for secret in [server.readToken, server.steerToken, server.adminToken] {
                #expect(!stored.contains(secret))
                #expect(stored.contains(Secret.hash(secret)))
            }
        }
    }
}
