import Foundation
import MTestSupport
import Testing
import mdb

/// A byte-exact picture of a database (file + WAL), to prove nothing was written.
func fingerprint(_ path: String) -> [Data?] {
    [path, path + "-wal"].map { FileManager.default.contents(atPath: $0) }
}

func mcli(_ args: [String], db: String? = nil, stdin: String? = nil) throws -> ProcessResult {
    try Exec.run("mcli", args, env: db.map { ["M_DB": $0] } ?? [:], stdin: stdin)
}

@Suite struct BadInputTests {
    @Test func unknownIdsAreClearErrorsAndWriteNothing() throws {
        let tmp = TempDir()
        #expect(try mcli(["init"], db: tmp.dbPath).status == 0)
        let db = try MDatabase(path: tmp.dbPath)
        let before = try db.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM events") }
        let cases: [([String], String)] = [
            (["show", "999"], "run 999 does not exist"),
            (["logs", "999"], "run 999 does not exist"),
            (["input", "999", "hi"], "run 999 does not exist"),
            (["cancel", "999"], "run 999 does not exist"),
            (["approve", "999"], "approval 999 does not exist"),
            (["reject", "999", "--note", "no"], "approval 999 does not exist"),
        ]
        for (args, message) in cases {
            let r = try mcli(args, db: tmp.dbPath)
            #expect(r.status == 2, "\(args)")
            #expect(r.stderr.contains(message), "\(args): \(r.stderr)")
            #expect(r.stderr.split(separator: "\n").count == 1, "one line: \(r.stderr)")
            #expect(r.stdout.isEmpty)
        }
        let after = try db.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM events") }
        #expect(before == after)
        #expect(try db.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM inputs") } == 0)
    }

    @Test func aMissingDatabaseIsReportedAndNotCreated() throws {
        let tmp = TempDir()
        for args in [["runs"], ["run", "echo hi"], ["show", "1"], ["approvals"]] {
            let r = try mcli(args + ["--db", tmp.dbPath])
            #expect(r.status == 2)
            #expect(r.stderr.contains("no database at \(tmp.dbPath)"))
            #expect(r.stderr.contains("mcli init"))
            #expect(!FileManager.default.fileExists(atPath: tmp.dbPath))
        }
    }

    @Test func aCorruptDatabaseIsReportedAndLeftAlone() throws {
        let tmp = TempDir()
        FileManager.default.createFile(atPath: tmp.dbPath, contents: Data("this is not sqlite".utf8))
        let before = fingerprint(tmp.dbPath)
        for args in [["runs"], ["run", "echo hi"], ["init"]] {
            let r = try mcli(args, db: tmp.dbPath)
            #expect(r.status == 2)
            #expect(r.stderr.contains("not a usable M database"), "\(r.stderr)")
        }
        #expect(fingerprint(tmp.dbPath) == before)
    }

    @Test func nonNumericArgumentsAreRefusedBeforeTouchingTheDatabase() throws {
        let tmp = TempDir()
        #expect(try mcli(["init"], db: tmp.dbPath).status == 0)
        _ = try mcli(["run", "true"], db: tmp.dbPath)
        let before = fingerprint(tmp.dbPath)
        for args in [["show", "abc"], ["logs", "1", "--after", "x"], ["logs", "1", "--after", "-3"],
                     ["approve", "1.5"], ["cancel", ""], ["input", "one", "text"], ["runs", "--limit", "0"]] {
            let r = try mcli(args, db: tmp.dbPath)
            #expect(r.status != 0, "\(args)")
            #expect(!r.stderr.isEmpty, "\(args)")
            #expect(!r.stderr.contains("Fatal error"), "\(args)")
        }
        #expect(fingerprint(tmp.dbPath) == before)
    }

    @Test func inputToAFinishedRunIsRefused() throws {
        let tmp = TempDir()
        _ = try mcli(["init"], db: tmp.dbPath)
        let run = try JSONValue.parse(try mcli(["run", "true", "--json"], db: tmp.dbPath).stdout)
        let id = String(run["id"]!.intValue!)
        #expect(try mcli(["cancel", id], db: tmp.dbPath).status == 0)
        let r = try mcli(["input", id, "late"], db: tmp.dbPath)
        #expect(r.status == 2)
        #expect(r.stderr.contains("has already finished (canceled)"))
        let second = try mcli(["cancel", id], db: tmp.dbPath)
        #expect(second.status == 2)
    }
}

@Suite struct CommandTests {
    @Test func runQueuesAndShowsTheRun() throws {
        let tmp = TempDir()
        _ = try mcli(["init", "--json"], db: tmp.dbPath)
        let r = try mcli(["run", "echo hi", "--title", "greeting", "--pty", "--json"], db: tmp.dbPath)
        #expect(r.status == 0)
        let run = try JSONValue.parse(r.stdout)
        #expect(run["status"]?.stringValue == "queued")
        #expect(run["title"]?.stringValue == "greeting")
        let id = String(run["id"]!.intValue!)
        let list = try JSONValue.parse(try mcli(["runs", "--json"], db: tmp.dbPath).stdout)
        guard case .array(let runs)? = list["runs"] else { Issue.record("no runs array"); return }
        #expect(runs.count == 1)
        let shown = try mcli(["show", id], db: tmp.dbPath).stdout
        #expect(shown.contains("greeting"))
        #expect(shown.contains("echo hi"))
        let spec = try MDatabase(path: tmp.dbPath).run(Int64(id)!).parsedSpec
        #expect(spec.pty == true)
    }

    @Test func runTakesLimitsAndSandboxPaths() throws {
        let tmp = TempDir()
        _ = try mcli(["init"], db: tmp.dbPath)
        let outside = TempDir("mcli-paths")
        let r = try mcli(["run", "true", "--timeout", "60", "--output-limit", "5000", "--memory-mb", "256", "--pids", "64",
                          "--sandbox-read", outside.path + "/ro", "--sandbox-write", outside.path + "/rw", "--json"], db: tmp.dbPath)
        #expect(r.status == 0, "\(r.stderr)")
        let id = try #require(JSONValue.parse(r.stdout)["id"]?.intValue)
        let spec = try MDatabase(path: tmp.dbPath).run(id).parsedSpec
        #expect(spec.limits == RunLimits(timeoutSeconds: 60, outputBytes: 5000, memoryMB: 256, pids: 64))
        #expect(spec.sandboxPaths == SandboxPaths(read: [outside.path + "/ro"], write: [outside.path + "/rw"]))
        let shown = try mcli(["show", String(id)], db: tmp.dbPath).stdout
        #expect(shown.contains("timeout 60 s, output 5000 bytes, memory 256 MiB, 64 processes"), "\(shown)")
        #expect(shown.contains("sandbox reads    \(outside.path)/ro") && shown.contains("sandbox writes   \(outside.path)/rw"), "\(shown)")
        // Out of range, or a path that would bring the database's folder in: refused, nothing queued.
        for args in [["--pids", "2"], ["--memory-mb", "1"], ["--output-limit", "0"], ["--sandbox-write", tmp.path]] {
            let refused = try mcli(["run", "true"] + args, db: tmp.dbPath)
            #expect(refused.status != 0 && !refused.stderr.isEmpty, "\(args)")
        }
        #expect(try MDatabase(path: tmp.dbPath).runs(limit: 10).count == 1)
    }

    @Test func logsPrintsWireEventsAsJSONLines() throws {
        let tmp = TempDir()
        _ = try mcli(["init"], db: tmp.dbPath)
        let db = try MDatabase(path: tmp.dbPath)
        let run = try db.createRun(NewRun(spec: RunSpec(command: "x")))
        try db.append(runId: run.id, [
            NewEvent(EventType.output, ["stream": "stdout", "text": "out\n"]),
            NewEvent(EventType.output, ["stream": "stderr", "text": "err\n"]),
        ])
        let json = try mcli(["logs", String(run.id), "--json"], db: tmp.dbPath)
        let lines = json.stdout.split(separator: "\n").map { try! JSONValue.parse(String($0)) }
        #expect(lines.map { $0["seq"]!.intValue! } == [1, 2, 3])
        let after = try mcli(["logs", String(run.id), "--json", "--after", "2"], db: tmp.dbPath)
        #expect(after.stdout.split(separator: "\n").count == 1)
        let human = try mcli(["logs", String(run.id)], db: tmp.dbPath)
        #expect(human.stdout.contains("out\n"))
        #expect(human.stderr == "err\n")
    }

    @Test func followingLogsEndsWhenTheRunFinishes() throws {
        let tmp = TempDir()
        _ = try mcli(["init"], db: tmp.dbPath)
        let db = try MDatabase(path: tmp.dbPath)
        let run = try db.createRun(NewRun(spec: RunSpec(command: "x")))
        _ = try db.claimNextRun(workerId: "w")
        let result = LockedBox<ProcessResult?>(nil)
        let done = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            result.set(try? mcli(["logs", String(run.id), "--follow", "--json"], db: tmp.dbPath))
            done.signal()
        }
        for i in 0..<50 { try db.append(runId: run.id, [NewEvent(EventType.output, ["stream": "stdout", "text": .string("\(i)\n")])]) }
        try db.finishRun(runId: run.id, status: .succeeded, exitCode: 0)
        #expect(done.wait(timeout: .now() + 20) == .success)
        let lines = try #require(result.get()).stdout.split(separator: "\n")
        #expect(lines.count == 52)
        #expect(lines.last?.contains("run.finished") == true)
    }

    @Test func approveAndRejectDecideOnceFromTheCommandLine() throws {
        let tmp = TempDir()
        _ = try mcli(["init"], db: tmp.dbPath)
        let db = try MDatabase(path: tmp.dbPath)
        let run = try db.createRun(NewRun(spec: RunSpec(command: "x")))
        _ = try db.claimNextRun(workerId: "w")
        let a = try db.requestApproval(runId: run.id, NewApproval(title: "deploy?"))
        let list = try mcli(["approvals"], db: tmp.dbPath)
        #expect(list.stdout.contains("deploy?"))
        let first = try mcli(["reject", String(a.id), "--note", "not today"], db: tmp.dbPath)
        #expect(first.status == 0)
        #expect(first.stdout.contains("rejected"))
        let second = try mcli(["approve", String(a.id)], db: tmp.dbPath)
        #expect(second.status == 2)
        #expect(second.stderr.contains("already decided (rejected)"))
        #expect(try db.approval(a.id).note == "not today")
    }

    @Test func terminalEscapesInAnApprovalTitleAreShownNotObeyed() throws {
        let tmp = TempDir()
        _ = try mcli(["init"], db: tmp.dbPath)
        let db = try MDatabase(path: tmp.dbPath)
        let run = try db.createRun(NewRun(spec: RunSpec(command: "x")))
        _ = try db.claimNextRun(workerId: "w")
        // Clear the screen, set the window title, and a C1 control: what an agent could put in a title.
        _ = try db.requestApproval(runId: run.id, NewApproval(title: "ok?\u{1B}[2J\u{1B}]0;pwned\u{7}\u{9B}31m"))
        let list = try mcli(["approvals"], db: tmp.dbPath)
        #expect(list.status == 0)
        #expect(!list.stdout.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x07 || $0.value == 0x9B }, "\(list.stdout)")
        #expect(list.stdout.contains("ok?\\u{1b}[2J\\u{1b}]0;pwned\\u{7}\\u{9b}31m"), "\(list.stdout)")
    }
}

@Suite struct NotifyCommandTests {
    @Test func notifiersAreAddedListedTestedAndRemovedWithClearErrors() throws {
        let tmp = TempDir()
        #expect(try mcli(["init"], db: tmp.dbPath).status == 0)
        let refused: [([String], String)] = [
            (["notify", "add", "webpush"], "needs --subject mailto:"),
            (["notify", "add", "webpush", "--subject", "ops@example.org"], "needs --subject mailto:"),
            (["notify", "add", "apns", "--key-path", "/nonexistent.p8"], "is not a readable .p8 signing key"),
            (["notify", "add", "pager"], "unknown notifier kind 'pager'"),
            (["notify", "add", "webhook"], "needs --url"),
            (["notify", "add", "ntfy", "--url", "https://ntfy.sh"], "SERVER/TOPIC"),
            (["notify", "add", "exec"], "needs --command"),
            (["notify", "add", "webhook", "--url", "http://x.example/h", "--event", "output"], "cannot be sent 'output'"),
            (["notify", "remove", "99"], "notifier 99 does not exist"),
            (["notify", "test", "99"], "notifier 99 does not exist"),
        ]
        for (args, message) in refused {
            let r = try mcli(args, db: tmp.dbPath)
            #expect(r.status == 2, "\(args)")
            #expect(r.stderr.contains(message), "\(args): \(r.stderr)")
        }
        #expect(try mcli(["notify", "list", "--json"], db: tmp.dbPath).stdout == "{\"notifiers\":[]}\n")
        let added = try mcli(["notify", "add", "webhook", "--url", "http://127.0.0.1:9/h", "--secret", "zz",
                              "--event", "run.finished", "--run", "3", "--failures-only", "--json"], db: tmp.dbPath)
        #expect(added.status == 0, "\(added.stderr)")
        let json = try JSONValue.parse(added.stdout)
        #expect(json["events"] == .array(["run.finished"]))
        #expect(json["run_ids"] == .array([.int(3)]))
        #expect(json["failures_only"] == .bool(true))
        #expect(!added.stdout.contains("zz"))
        let list = try mcli(["notify", "list"], db: tmp.dbPath)
        #expect(list.stdout.contains("http://127.0.0.1:9/h") && list.stdout.contains("ok"))
        // No mweb runs on this database: the test notification stays queued and says so.
        let test = try mcli(["notify", "test", "1", "--wait", "0.3"], db: tmp.dbPath)
        #expect(test.status == 1)
        #expect(test.stdout.contains("is mweb running"))
        #expect(try mcli(["notify", "remove", "1"], db: tmp.dbPath).status == 0)
        #expect(try MDatabase(path: tmp.dbPath).read { try Int.fetchOne($0, sql: "SELECT count(*) FROM outbox") } == 0)
    }

    @Test func phonePushNotifiersKeepTheirKeysOutOfSight() throws {
        let tmp = TempDir()
        #expect(try mcli(["init"], db: tmp.dbPath).status == 0)
        // Web Push: the VAPID pair is made once; the notifier shows its subject, never the private key.
        let webpush = try mcli(["notify", "add", "webpush", "--subject", "mailto:ops@example.org", "--json"], db: tmp.dbPath)
        #expect(webpush.status == 0, "\(webpush.stderr)")
        let json = try JSONValue.parse(webpush.stdout)
        #expect(json["target"]?.stringValue == "mailto:ops@example.org")
        #expect(json["events"] == .array([.string(EventType.approvalRequested), .string(EventType.approvalResolved),
                                          .string(EventType.runFinished)]))
        let db = try MDatabase(path: tmp.dbPath)
        let keys = try #require(try db.vapidKeys())
        #expect(!webpush.stdout.contains(keys.privateKey))
        #expect(try mcli(["notify", "add", "webpush", "--subject", "https://m.example.org"], db: tmp.dbPath).status == 0)
        #expect(try db.vapidKeys() == keys)

        // APNs: an Apple-style .p8 (PKCS#8 PEM, P-256) is accepted and only its path is stored.
        let keyPath = tmp.file("AuthKey_ABC123DEFG.p8")
        let made = try Exec.run("/usr/bin/openssl", ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                                                     "-out", keyPath])
        #expect(made.status == 0, "\(made.stderr)")
        let apns = try mcli(["notify", "add", "apns", "--key-path", keyPath, "--key-id", "ABC123DEFG", "--team-id", "TEAM123456",
                             "--topic", "org.example.m", "--sandbox", "--json"], db: tmp.dbPath)
        #expect(apns.status == 0, "\(apns.stderr)")
        #expect(try JSONValue.parse(apns.stdout)["target"]?.stringValue == "org.example.m (sandbox)")
        let stored = try #require(try db.notifiers().last)
        #expect(stored.configValue["key_path"]?.stringValue == keyPath && stored.configValue["environment"]?.stringValue == "sandbox")
        #expect(!stored.config.contains("PRIVATE KEY"))
        let missing = try mcli(["notify", "add", "apns", "--key-path", keyPath, "--topic", "org.example.m"], db: tmp.dbPath)
        #expect(missing.status == 2 && missing.stderr.contains("--key-id"), "\(missing.stderr)")
    }
}
