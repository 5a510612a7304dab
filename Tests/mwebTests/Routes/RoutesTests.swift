import Foundation
import HTTPTypes
import MTestSupport
import Testing
import mdb
@testable import mweb

@Suite struct RoutesTests {
    @Test func approvingTwiceReturnsConflict() async throws {
        try await LiveServer.with { server in
            let run = try server.db.createRun(NewRun(spec: RunSpec(command: "true")))
            _ = try server.db.claimNextRun(workerId: "w")
            let approval = try server.db.requestApproval(runId: run.id, NewApproval(title: "deploy?"))
            // Two people decide at the same moment: exactly one wins.
            async let first = http(server.port, .post, "/api/v1/approvals/\(approval.id)", token: server.steerToken,
                                   body: #"{"decision":"approve","note":"go"}"#)
            async let second = http(server.port, .post, "/api/v1/approvals/\(approval.id)", token: server.steerToken,
                                    body: #"{"decision":"reject"}"#)
            let statuses = try await [first.status, second.status].sorted()
            #expect(statuses == [200, 409])
            let results = try await [first, second]
            let winner = try #require(results.first { $0.status == 200 })
            #expect(winner.json?["status"]?.stringValue == (try server.db.approval(approval.id)).status.rawValue)
            #expect(results.first { $0.status == 409 }?.errorCode == "already_resolved")
            #expect(try server.db.events(runId: run.id, afterSeq: 0).filter { $0.type == "approval.resolved" }.count == 1)
        }
    }

    @Test func agentsListsTheOfferedKindsToAnyToken() async throws {
        try await LiveServer.with { server in
            #expect(try await http(server.port, .get, "/api/v1/agents").status == 401)
            let result = try await http(server.port, .get, "/api/v1/agents", token: server.readToken)
            #expect(result.status == 200)
            guard case .array(let agents)? = result.json?["agents"] else { Issue.record("no agents list: \(result.text)"); return }
            #expect(agents.compactMap { $0["kind"]?.stringValue } == ["command"])
        }
    }

    @Test func createRunAnswersTheRunAndRejectsBadInput() async throws {
        try await LiveServer.with { server in
            let created = try await http(server.port, .post, "/api/v1/runs", token: server.steerToken,
                                         body: #"{"title":"t","agent":"command","command":"echo hi","pty":true}"#)
            #expect(created.status == 201)
            let run = try #require(created.json)
            for key in ["id", "title", "agent", "status", "exit_code", "workspace", "sandbox_mode", "confinement", "created_at",
                        "started_at", "finished_at", "last_seq"] {
                #expect(run[key] != nil, "run lacks \(key)")
            }
            #expect(run["status"]?.stringValue == "queued")
            #expect(run["spec"]?["command"]?.stringValue == "echo hi")
            let targeted = try await http(server.port, .post, "/api/v1/runs", token: server.steerToken,
                                          body: #"{"command":"true","target":"/srv/checkout"}"#)
            #expect(targeted.status == 201 && targeted.json?["spec"]?["target"]?.stringValue == "/srv/checkout")
            let confined = try await http(server.port, .post, "/api/v1/runs", token: server.steerToken,
                                          body: #"{"command":"true","sandbox":"none","network":false,"limits":{"timeout_s":30}}"#)
            #expect(confined.status == 201)
            #expect(confined.json?["spec"]?["sandbox"]?.stringValue == "none")
            #expect(confined.json?["spec"]?["network"]?.boolValue == false)
            #expect(confined.json?["spec"]?["limits"]?["timeout_s"]?.intValue == 30)
            let limited = try await http(server.port, .post, "/api/v1/runs", token: server.steerToken,
                                         body: #"{"command":"true","limits":{"output_bytes":1000,"memory_mb":64,"pids":32},"sandbox_paths":{"read":["/opt/tools"],"write":["/srv/login"]}}"#)
            #expect(limited.status == 201)
            #expect(limited.json?["spec"]?["limits"]?["output_bytes"]?.intValue == 1000)
            #expect(limited.json?["spec"]?["limits"]?["memory_mb"]?.intValue == 64)
            #expect(limited.json?["spec"]?["limits"]?["pids"]?.intValue == 32)
            #expect(limited.json?["spec"]?["sandbox_paths"]?["read"] == .array([.string("/opt/tools")]))
            #expect(limited.json?["spec"]?["sandbox_paths"]?["write"] == .array([.string("/srv/login")]))
            let lenient = try await http(server.port, .post, "/api/v1/runs", token: server.steerToken,
                                         body: #"{"command":"true","approvals":{"timeout_s":600,"on_expiry":"approve"}}"#)
            #expect(lenient.status == 201)
            #expect(lenient.json?["spec"]?["approvals"]?["timeout_s"]?.intValue == 600)
            #expect(lenient.json?["spec"]?["approvals"]?["on_expiry"]?.stringValue == "approve")

            let bad: [(String, Int)] = [
                (#"{"command":"#, 400), ("[1,2]", 422), (#"{"agent":"command"}"#, 422),
                (#"{"command":"x","argv":["y"]}"#, 422), (#"{"command":"x","repo":{"url":"--upload-pack=evil"}}"#, 422),
                (#"{"command":"x","repo":{"url":"https://e/x","ref":"-x"}}"#, 422), (#"{"command":5}"#, 422),
                (#"{"agent":"nope","command":"x"}"#, 422), (#"{"command":"x","target":"relative/dir"}"#, 422),
                (#"{"command":"x","target":"-C/tmp"}"#, 422), (#"{"command":"x","target":7}"#, 422),
                (#"{"command":"x","repo":{"url":"fd::17"}}"#, 422), (#"{"command":"x","repo":{"url":"ext::sh -c id"}}"#, 422),
                (#"{"command":"x","sandbox":"docker"}"#, 422), (#"{"command":"x","network":"no"}"#, 422),
                (#"{"command":"x","limits":{"timeout_s":0}}"#, 422), (#"{"command":"x","limits":{"timeout_s":"1m"}}"#, 422),
                (#"{"command":"x","limits":5}"#, 422),
                (#"{"command":"x","limits":{"output_bytes":0}}"#, 422), (#"{"command":"x","limits":{"memory_mb":1}}"#, 422),
                (#"{"command":"x","limits":{"pids":2}}"#, 422), (#"{"command":"x","limits":{"pids":"many"}}"#, 422),
                (#"{"command":"x","limits":{"cpu":1}}"#, 422), (#"{"command":"x","sandbox_paths":["/opt"]}"#, 422),
                (#"{"command":"x","sandbox_paths":{"read":"/opt"}}"#, 422), (#"{"command":"x","sandbox_paths":{"exec":["/opt"]}}"#, 422),
                (#"{"command":"x","sandbox_paths":{"read":["relative"]}}"#, 422),
                (#"{"command":"x","approvals":{"on_expiry":"maybe"}}"#, 422), (#"{"command":"x","approvals":{"timeout_s":-5}}"#, 422),
                (#"{"command":"x","approvals":{"timeout_s":"1h"}}"#, 422), (#"{"command":"x","approvals":[]}"#, 422),
            ]
            // Nothing that holds or sits inside the database's folder (with the runs directory) or the workspaces root.
            let folder = (server.db.path as NSString).deletingLastPathComponent
            let workspaces = Defaults.workspacesRoot(databasePath: server.db.path, environment: ProcessInfo.processInfo.environment)
            for path in ["/", folder, folder + "/runs", (folder as NSString).deletingLastPathComponent, workspaces + "/1"] {
                for key in ["read", "write"] {
                    let body = #"{"command":"x","sandbox_paths":{"\#(key)":["\#(path)"]}}"#
                    let result = try await http(server.port, .post, "/api/v1/runs", token: server.steerToken, body: body)
                    #expect(result.status == 422 && result.json?["error"]?["message"]?.stringValue?.contains("sandbox path") == true,
                            "\(body) answered \(result.status)")
                }
            }
            for (body, status) in bad {
                let result = try await http(server.port, .post, "/api/v1/runs", token: server.steerToken, body: body)
                #expect(result.status == status, "\(body) answered \(result.status)")
                #expect(result.errorCode != nil && result.json?["error"]?["message"]?.stringValue?.isEmpty == false)
            }
            #expect(try server.db.runs(limit: 10, beforeId: nil, status: nil).count == 5, "bad input created nothing")
        }
    }

    @Test func bodyOverTheLimitIsRefusedWith413() async throws {
        try await LiveServer.with { server in
            let run = try server.db.createRun(NewRun(spec: RunSpec(command: "true")))
            let big = #"{"text":""# + String(repeating: "x", count: WebDefaults.maxBodyBytes + 10) + #""}"#
            let result = try await http(server.port, .post, "/api/v1/runs/\(run.id)/input", token: server.steerToken, body: big)
            #expect(result.status == 413)
            #expect(result.errorCode == "too_large")
            // A lying Content-Length is refused before the body is read.
            let socket = try RawSocket(port: server.port)
            try socket.send("POST /api/v1/runs/\(run.id)/input HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(server.steerToken)\r\n"
                            + "Content-Type: application/json\r\nContent-Length: 999999999\r\n\r\n{\"text\":")
            let answer = try socket.receive(until: { $0.contains("\r\n\r\n") })
            #expect(answer.hasPrefix("HTTP/1.1 413"), "\(answer)")
            #expect(try server.db.pendingInputs(runId: run.id).isEmpty)
        }
    }

    @Test func unknownIdsAreNotFoundAndBadValuesAreBadRequests() async throws {
        try await LiveServer.with { server in
            let t = server.readToken
            for path in ["/api/v1/runs/999", "/api/v1/runs/999/events", "/api/v1/approvals/999", "/api/v1/diffs/999",
                         "/api/v1/runs/999/diffs", "/api/v1/nothing-here"] {
                let result = try await http(server.port, .get, path, token: t)
                #expect(result.status == 404, "\(path) answered \(result.status)")
                #expect(result.errorCode == "not_found")
            }
            for path in ["/api/v1/runs/abc", "/api/v1/runs?limit=x", "/api/v1/runs?limit=-1", "/api/v1/runs/1/events?after=-5",
                         "/api/v1/approvals?status=maybe", "/api/v1/runs?before=1e3"] {
                let result = try await http(server.port, .get, path, token: t)
                #expect(result.status == 400, "\(path) answered \(result.status)")
            }
            let steer = server.steerToken
            #expect(try await http(server.port, .post, "/api/v1/runs/999/input", token: steer, body: #"{"text":"x"}"#).status == 404)
            #expect(try await http(server.port, .post, "/api/v1/approvals/999", token: steer,
                                   body: #"{"decision":"approve"}"#).status == 404)
        }
    }

    @Test func inputToAFinishedRunIsAConflict() async throws {
        try await LiveServer.with { server in
            let run = try server.db.createRun(NewRun(spec: RunSpec(command: "true")))
            let accepted = try await http(server.port, .post, "/api/v1/runs/\(run.id)/input", token: server.steerToken,
                                          body: #"{"text":"hello","newline":false}"#)
            #expect(accepted.status == 202)
            #expect(try server.db.pendingInputs(runId: run.id).map(\.text) == ["hello"])
            #expect(try await http(server.port, .post, "/api/v1/runs/\(run.id)/cancel", token: server.steerToken).status == 202)
            let late = try await http(server.port, .post, "/api/v1/runs/\(run.id)/input", token: server.steerToken,
                                      body: #"{"text":"too late"}"#)
            #expect(late.status == 409)
            #expect(late.errorCode == "run_finished")
        }
    }

    @Test func eventsArePagedAndLimitIsClamped() async throws {
        try await LiveServer.with { server in
            let run = try server.db.createRun(NewRun(spec: RunSpec(command: "true")))
            _ = try server.db.claimNextRun(workerId: "w")
            for _ in 0..<3 {
                try server.db.append(runId: run.id, (0..<500).map { NewEvent("output", ["stream": "stdout", "text": .string("\($0)\n")]) })
            }
            let page = try await http(server.port, .get, "/api/v1/runs/\(run.id)/events?after=0&limit=5000", token: server.readToken)
            #expect(page.status == 200)
            guard case .array(let events)? = page.json?["events"] else { throw TestFailure("no events") }
            #expect(events.count == 1000)
            #expect(page.json?["next_after"]?.intValue == 1000)
            let next = try await http(server.port, .get, "/api/v1/runs/\(run.id)/events?after=1000&limit=2", token: server.readToken)
            guard case .array(let more)? = next.json?["events"] else { throw TestFailure("no events") }
            #expect(more.map { $0["seq"]?.intValue } == [1001, 1002])
        }
    }

    @Test func diffsAreListedAndAFreshOneCanBeRequested() async throws {
        try await LiveServer.with { server in
            let run = try server.db.createRun(NewRun(spec: RunSpec(command: "true")))
            let asked = try await http(server.port, .post, "/api/v1/runs/\(run.id)/diffs", token: server.steerToken)
            #expect(asked.status == 202)
            #expect(try server.db.pendingDiffRequests(runId: run.id).count == 1)
            let listed = try await http(server.port, .get, "/api/v1/runs/\(run.id)/diffs", token: server.readToken)
            #expect(listed.status == 200)
            #expect(listed.text == #"{"diffs":[]}"#)
        }
    }
}
