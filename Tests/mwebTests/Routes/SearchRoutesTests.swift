import Foundation
import MTestSupport
import Testing
import mdb
@testable import mweb

@Suite struct SearchRoutesTests {
    @Test func outputCommittedWhileMWebRunsIsFoundWithAMarkedSnippet() async throws {
        try await LiveServer.with { server in
            let run = try server.db.createRun(NewRun(title: "deploy", spec: RunSpec(command: "true")))
            _ = try server.db.claimNextRun(workerId: "w")
            try server.db.append(runId: run.id, (0..<2_000).map { NewEvent("output", ["stream": "stdout", "text": .string("step \($0)\n")]) })
            try server.db.append(runId: run.id, [NewEvent("output", ["stream": "stderr", "text": "\u{1B}[31mfatal: could not read Username\u{1B}[0m\n"])])
            // The indexer catches up behind the output path: poll the API with a deadline.
            var hits: [JSONValue] = []
            #expect(try await pollHits(server, "could not read", count: 1, into: &hits))
            let hit = try #require(hits.first)
            #expect(hit["run_id"]?.intValue == run.id && hit["seq"]?.intValue == 2_002)
            #expect(hit["title"]?.stringValue == "deploy")
            #expect(hit["snippet"]?.stringValue == "fatal: could not read Username")
            #expect(hit["marks"] == [[7, 12], [13, 16], [17, 21]])
            let limited = try await http(server.port, .get, "/api/v1/search?q=step&limit=3", token: server.readToken)
            guard case .array(let three)? = limited.json?["hits"] else { Issue.record("no hits: \(limited.text)"); return }
            #expect(three.map { $0["seq"]?.intValue } == [2_001, 2_000, 1_999], "newest first, limit applied")
        }
    }

    @Test func badSearchesAreClear400sAndSyntaxIsNeverAnError() async throws {
        try await LiveServer.with { server in
            #expect(try await http(server.port, .get, "/api/v1/search?q=x").status == 401)
            for path in ["/api/v1/search", "/api/v1/search?q=", "/api/v1/search?q=%20%20", "/api/v1/search?q=x&limit=-1",
                         "/api/v1/search?q=x&limit=ten", "/api/v1/search?q=%00%01", "/api/v1/search?q=" + String(repeating: "a", count: 1_001)] {
                let result = try await http(server.port, .get, path, token: server.readToken)
                #expect(result.status == 400, "\(path.prefix(60)) answered \(result.status)")
                #expect(result.errorCode == "bad_request")
            }
            for q in ["%22", "NEAR(a", "a%20OR", "*", "-x", "%5E", "a:b", "(", "%F0%9F%98%80", "a%00b", "%C3%81%00%25%5D%0A%F1%A3%B0%84%C2%87%C3%8B%C2%B0"] {
                let result = try await http(server.port, .get, "/api/v1/search?q=\(q)", token: server.readToken)
                #expect(result.status == 200, "q=\(q) answered \(result.status): \(result.text)")
            }
        }
    }

    @Test func transcriptsStreamAsHTMLWithoutScriptsAndAsJSONLines() async throws {
        try await LiveServer.with { server in
            let run = try server.db.createRun(NewRun(spec: RunSpec(command: "true")))
            _ = try server.db.claimNextRun(workerId: "w")
            try server.db.append(runId: run.id, [NewEvent("output", ["stream": "stdout", "text": "<script>alert(1)</script>\n"])])
            try server.db.finishRun(runId: run.id, status: .succeeded, exitCode: 0)
            let page = try await http(server.port, .get, "/api/v1/runs/\(run.id)/transcript", token: server.readToken)
            #expect(page.status == 200)
            #expect(page.headers[.contentType] == "text/html; charset=utf-8")
            #expect(page.headers[.contentSecurityPolicy]?.contains("default-src 'none'") == true, "no script runs in it")
            #expect(page.text.contains("&lt;script&gt;alert(1)&lt;/script&gt;") && !page.text.contains("<script"))
            let lines = try await http(server.port, .get, "/api/v1/runs/\(run.id)/transcript?format=jsonl", token: server.readToken)
            #expect(lines.status == 200 && lines.headers[.contentType] == "application/x-ndjson; charset=utf-8")
            #expect(lines.text.split(separator: "\n").map(String.init) == (try server.db.events(runId: run.id, afterSeq: 0)).map(\.wireJSON))
            #expect(try await http(server.port, .get, "/api/v1/runs/\(run.id)/transcript?format=pdf", token: server.readToken).status == 400)
            #expect(try await http(server.port, .get, "/api/v1/runs/999/transcript", token: server.readToken).status == 404)
            #expect(try await http(server.port, .get, "/api/v1/runs/\(run.id)/transcript").status == 401)
        }
    }
}

/// Searches until `count` hits come back (the indexer runs behind the output path) or 20 s pass.
private func pollHits(_ server: LiveServer, _ query: String, count: Int, into hits: inout [JSONValue]) async throws -> Bool {
    let q = query.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? query
    let deadline = Date().addingTimeInterval(20)
    while Date() < deadline {
        let result = try await http(server.port, .get, "/api/v1/search?q=\(q)", token: server.readToken)
        if case .array(let found)? = result.json?["hits"], found.count >= count { hits = found; return true }
        try await Task.sleep(for: .milliseconds(20))
    }
    return false
}
