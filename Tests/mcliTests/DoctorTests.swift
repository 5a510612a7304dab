import Foundation
import GRDB
import MProcess
import MTestSupport
import Testing
import mdb
#if canImport(Glibc)
import Glibc
#endif

/// `mcli doctor` on a clean setup and on one with every problem it knows planted.
@Suite struct DoctorTests {
    /// A fresh database (0600, as `mcli init` makes it) and a private workspaces root.
    static func setup(_ name: String) throws -> (TempDir, String) {
        let tmp = TempDir(name)
        let initialised = try Exec.run("mcli", ["init", "--db", tmp.dbPath])
        #expect(initialised.status == 0, "\(initialised.stderr)")
        let workspaces = tmp.file("workspaces")
        try FileManager.default.createDirectory(atPath: workspaces, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        return (tmp, workspaces)
    }

    static func findings(_ result: ProcessResult) throws -> [JSONValue] {
        guard case .array(let items)? = try JSONValue.parse(result.stdout)["findings"] else { return [] }
        return items
    }

    @Test func aCleanSetupExitsZero() throws {
        let (tmp, workspaces) = try Self.setup("doctor-clean")
        let result = try Exec.run("mcli", ["doctor", "--db", tmp.dbPath, "--workspaces", workspaces, "--json"])
        let findings = try Self.findings(result)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(try JSONValue.parse(result.stdout)["ok"]?.boolValue == true)
        let checks = Set(findings.compactMap { $0["check"]?.stringValue })
        for check in ["integrity", "wal", "file_modes", "leases", "executors", "disk", "tokens", "web", "sandbox"] {
            #expect(checks.contains(check), "\(check) was checked: \(result.stdout)")
        }
        #expect(findings.allSatisfy { ["ok", "info"].contains($0["severity"]?.stringValue ?? "") }, "\(result.stdout)")
        let text = try Exec.run("mcli", ["doctor", "--db", tmp.dbPath, "--workspaces", workspaces])
        #expect(text.status == 0 && text.stdout.contains("all good"), "\(text.stdout)")
    }

    @Test func everyPlantedProblemIsReportedWithItsFix() throws {
        let (tmp, workspaces) = try Self.setup("doctor-planted")
        let db = try MDatabase(path: tmp.dbPath)
        // An expired lease: a run claimed with a lease already over, and no mexec to reap it.
        let stuck = try db.createRun(NewRun(spec: RunSpec(command: "sleep 100")))
        _ = try db.claimNextRun(workerId: "gone", leaseSeconds: -60)
        // An orphaned executor: a lost run whose recorded executor (this test process) still runs.
        let lost = try db.createRun(NewRun(spec: RunSpec(command: "true")))
        let me = try #require(ProcStat.read(getpid()))
        try db.write { db in
            try db.execute(sql: "UPDATE runs SET status = 'lost', finished_at = '2026-01-01T00:00:00.000Z', executor_pid = ?, executor_start_ticks = ? WHERE id = ?",
                           arguments: [me.pid, me.startTicks, lost.id])
        }
        // A failing notifier, and an admin token nobody has used for a year.
        let notifier = try db.addNotifier(NewNotifier(kind: .webhook, config: .object([("url", "http://127.0.0.1:9/hook")]), events: ["run.finished"]))
        try db.write { db in
            try db.execute(sql: "UPDATE notifiers SET state = 'failing', consecutive_failures = 7, last_error = 'connection refused' WHERE id = ?",
                           arguments: [notifier.id])
        }
        _ = try db.createToken(name: "old-admin", scope: .admin, hash: String(repeating: "a", count: 64))
        try db.write { try $0.execute(sql: "UPDATE tokens SET created_at = '2020-01-01T00:00:00.000Z' WHERE name = 'old-admin'") }
        // A world-readable database.
        chmod(tmp.dbPath, 0o644)
        // A huge WAL (sparse: no disk is used; SQLite ignores what follows its last valid frame).
        let wal = open(tmp.dbPath + "-wal", O_WRONLY)
        #expect(wal >= 0)
        #expect(ftruncate(wal, 300 << 20) == 0)
        close(wal)
        // mweb serving plain HTTP on every address.
        let mweb = try Exec.start("mweb", ["--db", tmp.dbPath, "--host", "0.0.0.0", "--port", "0"])
        defer { mweb.terminate(); mweb.waitUntilExit() }
        #expect(try eventually(timeout: 30) { try db.webListeners().contains { $0.pid == mweb.processIdentifier } })
        let listener = try #require(try db.webListeners().first { $0.pid == mweb.processIdentifier })
        #expect(listener.host == "0.0.0.0" && !listener.tls && listener.port > 0)

        // bubblewrap missing: a PATH without it.
        let result = try Exec.run("mcli", ["doctor", "--db", tmp.dbPath, "--workspaces", workspaces, "--json"],
                                  env: ["PATH": tmp.file("no-bin")])
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        let findings = try Self.findings(result)
        #expect(try JSONValue.parse(result.stdout)["ok"]?.boolValue == false)
        func problem(_ check: String, _ text: String) -> JSONValue? {
            findings.first { $0["check"]?.stringValue == check && ($0["message"]?.stringValue ?? "").contains(text)
                && ["warning", "error"].contains($0["severity"]?.stringValue ?? "") }
        }
        let expected: [(String, String, String)] = [
            ("leases", "run \(stuck.id) is running but its lease expired", "start mexec"),
            ("executors", "run \(lost.id) is lost, but its executor (pid \(me.pid)) still runs", "kill -TERM \(me.pid)"),
            ("wal", "the WAL is 300.0 MiB", "wal_checkpoint(TRUNCATE)"),
            ("file_modes", "\(tmp.dbPath) is readable or writable by every user", "chmod 600 \(tmp.dbPath)"),
            ("web", "serves plain HTTP on 0.0.0.0:\(listener.port)", "--host 127.0.0.1"),
            ("sandbox", "bubblewrap (bwrap) is not on PATH", "apt-get install bubblewrap"),
            ("notifiers", "notifier \(notifier.id) (webhook) is failing", "mcli notify remove \(notifier.id)"),
            ("tokens", "admin token old-admin", "mcli token revoke old-admin"),
        ]
        for (check, message, fix) in expected {
            let found = problem(check, message)
            #expect(found != nil, "\(check): \(message) in \(result.stdout)")
            #expect((found?["fix"]?.stringValue ?? "").contains(fix), "\(check)'s fix says \(fix): \(String(describing: found))")
        }
        #expect(problem("file_modes", "by every user")?["severity"]?.stringValue == "error")
        #expect(problem("web", "serves plain HTTP")?["severity"]?.stringValue == "error")

        // The text form says the same, with the fixes, and exits 1 too.
        let text = try Exec.run("mcli", ["doctor", "--db", tmp.dbPath, "--workspaces", workspaces], env: ["PATH": tmp.file("no-bin")])
        #expect(text.status == 1)
        #expect(text.stdout.contains("fix: chmod 600") && text.stdout.contains("need attention"), "\(text.stdout)")
    }
}
