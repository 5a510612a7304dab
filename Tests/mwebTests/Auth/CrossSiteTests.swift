import Foundation
import HTTPTypes
import Testing
import mdb
@testable import mweb

/// A page on another port of the same host (or a sibling host behind the same
/// proxy) gets the person's cookie sent along; it must not be able to steer M.
@Suite struct CrossSiteTests {
    static let secFetchSite = HTTPField.Name("Sec-Fetch-Site")!

    /// Logs in with the steer token and returns the `Cookie` header value.
    func login(_ server: LiveServer, headers: HTTPFields = [:]) async throws -> String {
        let login = try await http(server.port, .post, "/api/v1/session", headers: headers,
                                   body: #"{"token":"\#(server.steerToken)"}"#)
        #expect(login.status == 200)
        return try #require(login.headers[.setCookie]?.split(separator: ";").first.map(String.init))
    }

    @Test func aCrossSitePostWithTheCookieCreatesNothing() async throws {
        try await LiveServer.with { server in
            let cookie = try await login(server)
            let body = #"{"command":"echo pwned"}"#
            let attempts: [(String, HTTPFields)] = [
                ("a foreign Origin", [.cookie: cookie, .origin: "http://127.0.0.1:9999"]),
                ("a foreign Origin as text/plain", [.cookie: cookie, .origin: "http://127.0.0.1:9999", .contentType: "text/plain"]),
                ("a sibling host", [.cookie: cookie, .origin: "https://agent.example.org"]),
                ("an opaque Origin", [.cookie: cookie, .origin: "null"]),
                ("Sec-Fetch-Site: same-site", [.cookie: cookie, Self.secFetchSite: "same-site"]),
                ("Sec-Fetch-Site: cross-site with a same-origin Origin",
                 [.cookie: cookie, Self.secFetchSite: "cross-site", .origin: "http://\(server.base)"]),
                ("no Origin and no Sec-Fetch-Site", [.cookie: cookie]),
            ]
            for (what, headers) in attempts {
                let result = try await http(server.port, .post, "/api/v1/runs", headers: headers, body: body)
                #expect(result.status == 403, "\(what) answered \(result.status)")
                #expect(result.errorCode == "cross_site", "\(what)")
            }
            // Same origin, but not JSON: a form or text/plain body is what a cross-site page can send unchecked.
            for type in ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"] {
                let result = try await http(server.port, .post, "/api/v1/runs",
                                            headers: [.cookie: cookie, .origin: "http://\(server.base)", .contentType: type],
                                            body: body)
                #expect(result.status == 415, "\(type) answered \(result.status)")
            }
            #expect(try server.db.runs(limit: 10, beforeId: nil, status: nil).isEmpty, "nothing was created")
            // Deciding an approval, cancelling and logging out are refused the same way.
            let run = try server.db.createRun(NewRun(spec: RunSpec(command: "true")))
            _ = try server.db.claimNextRun(workerId: "w")
            let approval = try server.db.requestApproval(runId: run.id, NewApproval(title: "ok?"))
            let foreign: HTTPFields = [.cookie: cookie, .origin: "http://127.0.0.1:9999"]
            #expect(try await http(server.port, .post, "/api/v1/approvals/\(approval.id)", headers: foreign,
                                   body: #"{"decision":"approve"}"#).status == 403)
            #expect(try await http(server.port, .post, "/api/v1/runs/\(run.id)/cancel", headers: foreign).status == 403)
            #expect(try await http(server.port, .delete, "/api/v1/session", headers: foreign).status == 403)
            #expect(try server.db.approval(approval.id).status == .pending)
            #expect(try server.db.run(run.id).cancelRequestedAt == nil)
            // Reads with the cookie still work from anywhere a browser sends them (nothing changes).
            #expect(try await http(server.port, .get, "/api/v1/runs", headers: foreign).status == 200)
        }
    }

    @Test func M_sOwnPageAndBearerClientsStillSteer() async throws {
        try await LiveServer.with { server in
            let cookie = try await login(server)
            let own = try await http(server.port, .post, "/api/v1/runs",
                                     headers: [.cookie: cookie, .origin: "http://\(server.base)"], body: #"{"command":"true"}"#)
            #expect(own.status == 201)
            let fetchMeta = try await http(server.port, .post, "/api/v1/runs",
                                           headers: [.cookie: cookie, Self.secFetchSite: "same-origin"], body: #"{"command":"true"}"#)
            #expect(fetchMeta.status == 201)
            // A bodyless POST from the page (cancel, as a browser sends it: Content-Length: 0) needs no content type.
            let id = try #require(own.json?["id"]?.intValue)
            let cancel = try await http(server.port, .post, "/api/v1/runs/\(id)/cancel",
                                        headers: [.cookie: cookie, .origin: "http://\(server.base)", .contentLength: "0"])
            #expect(cancel.status == 202, "\(cancel.status) \(cancel.text)")
            // A bearer client is not a browser: no Origin rules, and its body is read as JSON whatever it is labelled.
            let bearer = try await http(server.port, .post, "/api/v1/runs", token: server.steerToken,
                                        headers: [.origin: "http://127.0.0.1:9999", .contentType: "text/plain"],
                                        body: #"{"command":"true"}"#)
            #expect(bearer.status == 201)
            #expect(try server.db.runs(limit: 10, beforeId: nil, status: nil).count == 3)
        }
    }

    @Test func underHttpsTheCookieIsHostPrefixedAndSecure() async throws {
        let https: HTTPFields = [HTTPField.Name("X-Forwarded-Proto")!: "https"]
        try await LiveServer.with { server in
            let cookie = try await login(server, headers: https)
            #expect(cookie.hasPrefix("__Host-m_session="))
            let login = try await http(server.port, .post, "/api/v1/session", headers: https,
                                       body: #"{"token":"\#(server.steerToken)"}"#)
            let setCookie = try #require(login.headers[.setCookie])
            #expect(setCookie.contains("Secure"))
            #expect(setCookie.contains("Path=/"))
            #expect(!setCookie.lowercased().contains("domain="), "__Host- cookies are host-only")
            var withCookie = https
            withCookie[.cookie] = cookie
            #expect(try await http(server.port, .get, "/api/v1/session", headers: withCookie).status == 200)
            // Over HTTPS a cookie without the prefix (a sibling host could have set it) is not a session.
            let plain = "m_session=" + cookie.dropFirst("__Host-m_session=".count)
            var shadowed = https
            shadowed[.cookie] = plain
            #expect(try await http(server.port, .get, "/api/v1/session", headers: shadowed).status == 401)
        }
    }

    @Test func theWebClientCannotBeFramed() async throws {
        try await LiveServer.with { server in
            let page = try await http(server.port, .get, "/")
            #expect(page.status == 200)
            #expect(page.headers[.contentSecurityPolicy]?.contains("frame-ancestors 'none'") == true)
            #expect(page.headers[HTTPField.Name("X-Frame-Options")!] == "DENY")
        }
    }
}
