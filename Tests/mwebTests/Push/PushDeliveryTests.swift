import Foundation
import MAuth
import MTestSupport
import Testing
import mdb

/// Push delivery end to end: a real mweb process, a real webhook receiver (Python's
/// http.server) or a real command, a temporary database, `mcli notify` for the setup.
@Suite(.serialized) struct PushDeliveryTests {
    /// A database with one running run.
    static func runningRun(_ tmp: TempDir, title: String = "deploy the site") throws -> (MDatabase, Run) {
        let db = try MDatabase(path: tmp.dbPath, create: true)
        let run = try db.createRun(NewRun(title: title, spec: RunSpec(command: "true")))
        _ = try db.claimNextRun(workerId: "w")
        return (db, run)
    }

    /// `mcli notify add …` on the database; returns the new notifier's JSON.
    static func addNotifier(_ tmp: TempDir, _ args: [String]) throws -> JSONValue {
        let result = try Exec.run("mcli", ["notify", "add"] + args + ["--db", tmp.dbPath, "--json"])
        guard result.status == 0, let json = try? JSONValue.parse(result.stdout) else {
            throw TestFailure("mcli notify add failed: \(result.stderr)")
        }
        return json
    }

    @Test func aWebhookIsSignedAndItsDeliveryHeaderIsTheDedupeKey() throws {
        let tmp = TempDir("push-webhook")
        let (db, run) = try Self.runningRun(tmp)
        let receiver = try WebhookReceiver(tmp, secret: "s3cret")
        defer { receiver.stop() }
        let notifier = try Self.addNotifier(tmp, ["webhook", "--url", receiver.url, "--secret", "s3cret"])
        let notifierId = try #require(notifier["id"]?.intValue)
        #expect(notifier["has_secret"]?.boolValue == true)
        #expect(!notifier.text.contains("s3cret"))
        let mweb = try MWebProcess(db: tmp.dbPath)
        defer { mweb.kill9() }
        let approval = try db.requestApproval(runId: run.id, NewApproval(kind: "command", title: "rm -rf build/"))
        _ = try db.resolveApproval(id: approval.id, decision: .approve, by: "t")
        _ = try db.finishRun(runId: run.id, status: .succeeded, exitCode: 0)
        #expect(eventually(timeout: 20) { receiver.accepted().count == 2 })
        let received = receiver.requests()
        #expect(received.count == 2)
        let events = try db.events(runId: run.id, afterSeq: 0)
        let asked = try #require(events.first { $0.type == EventType.approvalRequested })
        let finished = try #require(events.first { $0.type == EventType.runFinished })
        #expect(received.map(\.delivery) == ["m-n\(notifierId)-e\(asked.id)", "m-n\(notifierId)-e\(finished.id)"])
        for request in received {
            #expect(request.signatureOK, "the HMAC-SHA256 of the raw body under the secret must match X-M-Signature-256")
            #expect(request.json?["delivery"]?.stringValue == request.delivery)
            #expect(request.headers["Content-Type"] == "application/json")
        }
        let approvalPush = try #require(received[0].json)
        #expect(approvalPush["event"]?["type"]?.stringValue == EventType.approvalRequested)
        #expect(approvalPush["event"]?["data"]?["approval_id"]?.intValue == approval.id)
        #expect(approvalPush["summary"]?.stringValue?.contains("rm -rf build/") == true)
        #expect(approvalPush["summary"]?.stringValue?.contains("deploy the site") == true)
        #expect(approvalPush["run"]?["title"]?.stringValue == "deploy the site")
        let finishPush = try #require(received[1].json)
        #expect(finishPush["summary"]?.stringValue?.contains("succeeded (exit 0) in") == true)
        #expect(finishPush["event"]?["data"]?["exit_code"]?.intValue == 0)

        // `notify list` shows what was sent; `notify test` goes through the same mweb.
        let list = try JSONValue.parse(try Exec.run("mcli", ["notify", "list", "--db", tmp.dbPath, "--json"]).stdout)
        let shown = try #require(list["notifiers"]?[0])
        #expect(shown["sent"]?.intValue == 2)
        #expect(shown["state"]?.stringValue == "ok")
        let test = try Exec.run("mcli", ["notify", "test", String(notifierId), "--db", tmp.dbPath, "--json"])
        #expect(test.status == 0, "\(test.stderr)")
        #expect(try JSONValue.parse(test.stdout)["result"]?.stringValue == "sent")
        #expect(receiver.accepted().count == 3)
        #expect(receiver.accepted()[2].json?["event"]?["type"]?.stringValue == "test")
    }

    @Test func anExecNotifierGetsTheJSONOnItsStdin() throws {
        let tmp = TempDir("push-exec")
        let (db, run) = try Self.runningRun(tmp, title: "nightly")
        let out = tmp.file("pushes")
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        _ = try Self.addNotifier(tmp, ["exec", "--command",
                                       "cat > \"\(out)/$M_DELIVERY.json\"; printf '%s' \"$M_SUMMARY\" > \"\(out)/$M_DELIVERY.summary\""])
        let mweb = try MWebProcess(db: tmp.dbPath)
        defer { mweb.kill9() }
        _ = try db.finishRun(runId: run.id, status: .failed, exitCode: 3)
        let finished = try #require(try db.events(runId: run.id, afterSeq: 0).last)
        let key = "m-n1-e\(finished.id)"
        #expect(eventually(timeout: 20) { (try? db.outbox(notifierId: 1).first?.status) == "sent" })
        let json = try JSONValue.parse(String(contentsOfFile: "\(out)/\(key).json", encoding: .utf8))
        #expect(json["delivery"]?.stringValue == key)
        #expect(json["event"]?["type"]?.stringValue == EventType.runFinished)
        #expect(json["event"]?["data"]?["status"]?.stringValue == "failed")
        let summary = try String(contentsOfFile: "\(out)/\(key).summary", encoding: .utf8)
        #expect(summary == json["summary"]?.stringValue)
        #expect(summary.contains("failed (exit 3)"))
    }

    @Test func anEndpointDownForAWhileGetsEveryNotificationExactlyOnce() throws {
        let tmp = TempDir("push-down")
        let (db, run) = try Self.runningRun(tmp)
        // The first 8 requests get 503: about two seconds of retries at a 100 ms base.
        let receiver = try WebhookReceiver(tmp, failFirst: 8)
        defer { receiver.stop() }
        _ = try Self.addNotifier(tmp, ["webhook", "--url", receiver.url])
        let mweb = try MWebProcess(db: tmp.dbPath, arguments: ["--push-retry-base-ms", "100"])
        defer { mweb.kill9() }
        var expected: [String] = []
        for i in 0..<5 {
            let approval = try db.requestApproval(runId: run.id, NewApproval(title: "step \(i)?"))
            let event = try #require(try db.events(runId: run.id, afterSeq: 0).last { $0.type == EventType.approvalRequested })
            #expect(event.data.contains("\"approval_id\":\(approval.id)"))
            expected.append("m-n1-e\(event.id)")
        }
        #expect(eventually(timeout: 30) { Set(receiver.accepted().map(\.delivery)) == Set(expected) })
        #expect(receiver.accepted().map(\.delivery).sorted() == expected.sorted(), "each notification is accepted once")
        #expect(receiver.requests().count > expected.count, "the endpoint refused some first")
        // It failed several times in a row: the run says so once, and the notifier is healthy again.
        let notices = try db.events(runId: run.id, afterSeq: 0).filter { $0.type == EventType.notice }
        #expect(notices.count == 1)
        #expect(notices.first?.data.contains("keeps failing") == true)
        let notifier = try db.notifier(1)
        #expect(notifier.state == "ok")
        #expect(notifier.lastError?.contains("503") == true)
    }

    @Test func mwebKilledMidDeliveryLosesNothingAndRepeatsOnlyUnderTheSameKey() throws {
        let tmp = TempDir("push-kill")
        let (db, run) = try Self.runningRun(tmp)
        // The receiver takes the first request and never answers it: mweb is killed while it waits.
        let receiver = try WebhookReceiver(tmp, holdFirst: true)
        defer { receiver.stop() }
        _ = try Self.addNotifier(tmp, ["webhook", "--url", receiver.url])
        var expected: [String] = []
        for i in 0..<3 {
            _ = try db.requestApproval(runId: run.id, NewApproval(title: "step \(i)?"))
            expected.append("m-n1-e\(try #require(try db.events(runId: run.id, afterSeq: 0).last).id)")
        }
        // A notifier's notifications go out one after the other: the first is held, the others wait behind it.
        var mweb = try MWebProcess(db: tmp.dbPath)
        #expect(eventually(timeout: 20) { receiver.requests().contains { $0.status == nil } })
        let held = try #require(receiver.requests().first { $0.status == nil }).delivery
        #expect(held == expected[0])
        mweb.kill9()
        // Events committed while no mweb runs are not lost either.
        _ = try db.finishRun(runId: run.id, status: .succeeded, exitCode: 0)
        expected.append("m-n1-e\(try #require(try db.events(runId: run.id, afterSeq: 0).last).id)")
        mweb = try MWebProcess(db: tmp.dbPath)
        defer { mweb.kill9() }
        #expect(eventually(timeout: 30) { Set(receiver.accepted().map(\.delivery)) == Set(expected) })
        // Nothing doubled: what was recorded sent is never sent again; the one in flight at the kill
        // arrives again under the same key (a receiver that drops repeated keys sees it once).
        #expect(receiver.accepted().map(\.delivery).sorted() == expected.sorted())
        #expect(receiver.requests().filter { $0.delivery == held }.count == 2)
        #expect(receiver.requests().count == expected.count + 1)
        #expect(try db.outbox(notifierId: 1).allSatisfy { $0.status == "sent" })
    }

    @Test func aNotifierAddedAfterAThousandEventsIsSentNoneOfThem() throws {
        let tmp = TempDir("push-late")
        let (db, run) = try Self.runningRun(tmp)
        for i in 0..<1_000 {
            if i % 100 == 0 {
                let approval = try db.requestApproval(runId: run.id, NewApproval(title: "old \(i)?"))
                _ = try db.resolveApproval(id: approval.id, decision: .approve, by: "t")
            } else {
                try db.append(runId: run.id, [NewEvent(EventType.output, .object([("stream", "stdout"), ("text", "x\n")]))])
            }
        }
        let receiver = try WebhookReceiver(tmp)
        defer { receiver.stop() }
        let mweb = try MWebProcess(db: tmp.dbPath)
        defer { mweb.kill9() }
        _ = try Self.addNotifier(tmp, ["webhook", "--url", receiver.url])
        _ = try db.requestApproval(runId: run.id, NewApproval(title: "new?"))
        #expect(eventually(timeout: 20) { !receiver.accepted().isEmpty })
        #expect(receiver.requests().count == 1)
        #expect(receiver.requests().first?.json?["event"]?["data"]?["title"]?.stringValue == "new?")
        #expect(try db.outbox(notifierId: 1).count == 1)
    }

    @Test func notifiersAreManagedThroughTheAPIByAdminsOnly() async throws {
        let tmp = TempDir("push-api")
        let db = try MDatabase(path: tmp.dbPath, create: true)
        func token(_ scope: TokenScope) throws -> String {
            let secret = Secret.generate()
            _ = try db.createToken(name: scope.rawValue, scope: scope, hash: Secret.hash(secret))
            return secret
        }
        let admin = try token(.admin), steer = try token(.steer)
        let mweb = try MWebProcess(db: tmp.dbPath)
        defer { mweb.kill9() }
        let body = #"{"kind":"webhook","url":"https://example.org/hook","secret":"k","events":["run.finished"],"run_ids":[4]}"#
        #expect(try await http(mweb.port, .post, "/api/v1/notifiers", token: steer, body: body).status == 403)
        let created = try await http(mweb.port, .post, "/api/v1/notifiers", token: admin, body: body)
        #expect(created.status == 201)
        #expect(created.json?["events"] == .array(["run.finished"]))
        #expect(created.json?["run_ids"] == .array([.int(4)]))
        #expect(!created.text.contains("\"k\""))
        let bad = try await http(mweb.port, .post, "/api/v1/notifiers", token: admin, body: #"{"kind":"webhook","url":"nope"}"#)
        #expect(bad.status == 422)
        #expect(try await http(mweb.port, .post, "/api/v1/notifiers", token: admin, body: #"{"kind":"apns"}"#).status == 422)
        #expect(try await http(mweb.port, .post, "/api/v1/notifiers", token: admin, body: #"{"kind":"ntfy","url":"https://ntfy.sh"}"#).status == 422)
        let list = try await http(mweb.port, .get, "/api/v1/notifiers", token: admin)
        #expect(list.json?["notifiers"]?[0]?["target"]?.stringValue == "https://example.org/hook")
        #expect(try await http(mweb.port, .get, "/api/v1/notifiers", token: steer).status == 403)
        let id = try #require(created.json?["id"]?.intValue)
        #expect(try await http(mweb.port, .delete, "/api/v1/notifiers/\(id)", token: admin).status == 200)
        #expect(try await http(mweb.port, .delete, "/api/v1/notifiers/\(id)", token: admin).status == 404)
        #expect(try db.notifiers().isEmpty)
    }

    @Test func ntfyGetsApproveAndRejectButtonsThatDecideOnlyTheirApprovalOnce() async throws {
        let tmp = TempDir("push-ntfy")
        let (db, run) = try Self.runningRun(tmp, title: "release")
        // No ntfy server can be installed here: the receiver stands in for ntfy's JSON publish API (POST SERVER/).
        let receiver = try WebhookReceiver(tmp)
        defer { receiver.stop() }
        _ = try Self.addNotifier(tmp, ["ntfy", "--url", "http://127.0.0.1:\(receiver.port)/m-topic", "--token", "tk_ntfy"])
        let mweb = try MWebProcess(db: tmp.dbPath)
        defer { mweb.kill9() }
        let first = try db.requestApproval(runId: run.id, NewApproval(kind: "command", title: "git push origin main"))
        let second = try db.requestApproval(runId: run.id, NewApproval(title: "drop the staging table?"))
        #expect(eventually(timeout: 20) { receiver.accepted().count == 2 })
        let pushes = receiver.accepted()
        #expect(pushes.allSatisfy { $0.headers["Authorization"] == "Bearer tk_ntfy" })
        let message = try #require(pushes[0].json)
        #expect(message["topic"]?.stringValue == "m-topic")
        #expect(message["title"]?.stringValue == "Approval needed")
        #expect(message["message"]?.stringValue?.contains("git push origin main") == true)
        #expect(message["message"]?.stringValue?.contains("release") == true)
        #expect(message["priority"]?.intValue == 4)
        #expect(message["tags"] == .array(["question"]))
        #expect(message["click"]?.stringValue == "http://127.0.0.1:\(mweb.port)/#/runs/\(run.id)")
        let actions = try #require(message["actions"])
        #expect(actions[0]?["action"]?.stringValue == "http")
        #expect(actions[0]?["label"]?.stringValue == "Approve")
        #expect(actions[1]?["label"]?.stringValue == "Reject")
        #expect(actions[0]?["method"]?.stringValue == "POST")

        /// Presses a button as ntfy would: its method, URL, headers and body.
        func press(_ action: JSONValue?, path override: String? = nil) async throws -> HTTPResult {
            let url = try #require(action?["url"]?.stringValue)
            #expect(url.hasPrefix("http://127.0.0.1:\(mweb.port)/"))
            let path = override ?? String(url.dropFirst("http://127.0.0.1:\(mweb.port)".count))
            let auth = try #require(action?["headers"]?["Authorization"]?.stringValue)
            #expect(auth.hasPrefix("Bearer "))
            return try await http(mweb.port, .post, path, token: String(auth.dropFirst(7)), body: action?["body"]?.stringValue)
        }
        let approve = actions[0]
        #expect(approve?["url"]?.stringValue?.hasSuffix("/api/v1/actions/approvals/\(first.id)") == true)
        // The first button's token used on the second approval: refused, and it decides nothing.
        #expect(try await press(approve, path: "/api/v1/actions/approvals/\(second.id)").status == 403)
        #expect(try db.approval(second.id).status == .pending)
        let decided = try await press(approve)
        #expect(decided.status == 200, "\(decided.text)")
        #expect(decided.json?["status"]?.stringValue == "approved")
        #expect(try db.approval(first.id).resolvedBy == "notifier:1")
        // Once only: the same button again, or the other button of the same notification.
        #expect(try await press(approve).status == 403)
        #expect(try await press(actions[1]).status == 403)
        #expect(try db.approval(first.id).status == .approved)
        // An expired button decides nothing.
        let secondActions = try #require(pushes[1].json?["actions"])
        try db.write { try $0.execute(sql: "UPDATE action_tokens SET expires_at = '2000-01-01T00:00:00.000Z' WHERE approval_id = ?",
                                      arguments: [second.id]) }
        let expired = try await press(secondActions[1])
        #expect(expired.status == 403)
        #expect(expired.text.contains("expired"))
        #expect(try db.approval(second.id).status == .pending)
        // No token at all, or a made-up one.
        #expect(try await http(mweb.port, .post, "/api/v1/actions/approvals/\(second.id)", body: #"{"decision":"approve"}"#).status == 401)
        #expect(try await http(mweb.port, .post, "/api/v1/actions/approvals/\(second.id)", token: "m_made_up",
                               body: #"{"decision":"approve"}"#).status == 403)
        // A run that finishes gets its own push, without buttons.
        _ = try db.finishRun(runId: run.id, status: .failed, exitCode: 1)
        #expect(eventually(timeout: 20) { receiver.accepted().count == 3 })
        let finished = try #require(receiver.accepted().last?.json)
        #expect(finished["tags"] == .array(["x"]))
        #expect(finished["actions"] == nil)
    }
}

extension JSONValue {
    /// An array's item, if this is an array that long.
    fileprivate subscript(index: Int) -> JSONValue? {
        if case .array(let items) = self, items.indices.contains(index) { return items[index] }
        return nil
    }
}
