import Foundation
import MTestSupport
import Testing
import mdb
#if canImport(Glibc)
import Glibc
#endif

/// From inside a real run, tried as a hostile agent would: M's database, the
/// runs directory, other workspaces and M's processes are out of reach, while
/// the run's own `mcli ask` still works.
@Suite struct ConfinementTests {
    static let bwrapWorks: Bool = {
        guard let r = try? Exec.run("/bin/sh", ["-c", "bwrap --ro-bind / / --unshare-pid --proc /proc true"]) else { return false }
        return r.status == 0
    }()

    @Test(.enabled(if: bwrapWorks)) func anAgentCannotReachMButItsOwnAskWorks() throws {
        let h = try MexecHarness()
        let runs = Defaults.runsDirectory(databasePath: h.tmp.dbPath)
        // Another run's workspace, with its real path given to the attacker.
        let other = Defaults.workspacesRoot(databasePath: h.tmp.dbPath, environment: ["XDG_STATE_HOME": h.tmp.file("state")]) + "/999"
        try FileManager.default.createDirectory(atPath: other, withIntermediateDirectories: true)
        try "secret of run 999\n".write(toFile: other + "/notes.txt", atomically: true, encoding: .utf8)
        try h.start()
        let id = try h.create("""
            try() { if sh -c "$1" >/dev/null 2>&1; then echo "REACHED: $2"; else echo "refused: $2"; fi; }
            try 'cat \(h.tmp.dbPath)' "the database by its real path"
            try 'cat \(h.tmp.dbPath)-wal' "the WAL"
            try 'ls ../../../../../ | grep -q m.db' "the database by walking up"
            try 'cat /proc/[0-9]*/comm | grep -qx -e mexec -e mweb' "M's processes in /proc"
            try 'ls -l /proc/[0-9]*/cwd /proc/[0-9]*/root /proc/[0-9]*/fd/ 2>/dev/null | grep -q -e "/m.db$" -e "/m.db-" -e writer.sock -e executor.log' "M's files through /proc/*/cwd|root|fd"
            try 'cat \(other)/notes.txt' "another run's workspace"
            try 'touch \(other)/mine' "writing another run's workspace"
            try 'test -e \(runs)/writer.sock' "the writer socket"
            try 'ls \(runs) | grep -q executor.log' "the runs directory"
            try 'touch /usr/pwned' "writing the system"
            echo "pids=$(ls -d /proc/[0-9]* | wc -l)"
            echo "sandboxed-tmp=$(ls /tmp | wc -l)"
            mcli ask "may I?"; echo "ask=$?"
            """)
        let approval = try #require(try h.pendingApproval(id), "\(h.logs) \((try? h.text(id)) ?? "")")
        #expect(try h.decide("approve", approval.id).status == 0)
        let run = try h.finished(id)
        #expect(run.status == .succeeded, "\(h.logs)")
        let out = try h.text(id)
        #expect(!out.contains("REACHED"), "\(out)")
        #expect(out.components(separatedBy: "refused:").count - 1 == 10, "\(out)")
        #expect(out.contains("ask=0"), "\(out)")
        let pids = Int(out.split(separator: "\n").first { $0.hasPrefix("pids=") }?.dropFirst(5) ?? "") ?? 99
        #expect(pids <= 6, "only the sandbox's own processes are visible: \(out)")
        let started = try h.events(id).first { $0.type == EventType.runStarted }
        #expect(started?.dataValue["sandbox"]?.stringValue == "bwrap")
        #expect(run.confinement == "bwrap")
        let shown = try Exec.run("mcli", ["show", "--db", h.tmp.dbPath, String(id)])
        #expect(shown.stdout.contains("host_self, confined with bwrap"), "\(shown.stdout)")
        #expect(FileManager.default.fileExists(atPath: other + "/notes.txt") && !FileManager.default.fileExists(atPath: other + "/mine"))
    }

    @Test(.enabled(if: bwrapWorks)) func aRunWithoutNetworkCannotOpenATCPConnection() throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, length) } }
        listen(listener, 16)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) } }
        let port = Int(UInt16(bigEndian: address.sin_port))
        let h = try MexecHarness()
        try h.start()
        let connect = "/usr/bin/python3 -c 'import socket; socket.create_connection((\"127.0.0.1\", \(port)), timeout=5)' && echo connected || echo no-network"
        let offline = try h.db.createRun(NewRun(spec: RunSpec(command: connect, network: false))).id
        let online = try h.db.createRun(NewRun(spec: RunSpec(command: connect))).id
        #expect(try h.finished(offline).status == .succeeded)
        #expect(try h.finished(online).status == .succeeded)
        let (offlineOut, onlineOut) = (try h.text(offline), try h.text(online))
        #expect(offlineOut.contains("no-network"), "\(offlineOut)")
        #expect(onlineOut.contains("connected"), "\(onlineOut)")
    }

    @Test(.enabled(if: bwrapWorks)) func configuredPathsAreReadableOrWritableInside() throws {
        let outside = TempDir("sandbox-paths")
        let readable = outside.file("tools"), writable = outside.file("login")
        for folder in [readable, writable] { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
        try "tool\n".write(toFile: readable + "/t.txt", atomically: true, encoding: .utf8)
        let h = try MexecHarness(args: ["--sandbox-read", readable, "--sandbox-write", writable])
        try h.start()
        let id = try h.create("""
            cat \(readable)/t.txt; touch \(readable)/x && echo "ro-written" || echo "ro-refused"
            echo token > \(writable)/session && echo "rw-written"
            """)
        #expect(try h.finished(id).status == .succeeded, "\(h.logs)")
        let out = try h.text(id)
        #expect(out.contains("tool\nro-refused\nrw-written"), "\(out)")
        #expect(try String(contentsOfFile: writable + "/session", encoding: .utf8) == "token\n")
        // A path that would bring the database or the workspaces back in is refused at startup.
        for path in [h.tmp.path, (h.tmp.path as NSString).deletingLastPathComponent, "/"] {
            let refused = try Exec.run("mexec", ["--db", h.tmp.dbPath, "--sandbox-write", path])
            #expect(refused.status != 0 && refused.stderr.contains("sandbox path"), "\(path): \(refused.stderr)")
        }
    }

    @Test(.enabled(if: bwrapWorks)) func aRunsOwnPathsAreReadableOrWritableInsideThatRunOnly() throws {
        let outside = TempDir("run-paths")
        let readable = outside.file("data"), writable = outside.file("cache")
        for folder in [readable, writable] { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
        try "data\n".write(toFile: readable + "/d.txt", atomically: true, encoding: .utf8)
        let h = try MexecHarness()
        try h.start()
        let probe = """
            cat \(readable)/d.txt || echo "no-read"; touch \(readable)/x && echo "ro-written" || echo "ro-refused"
            echo cached > \(writable)/c && echo "rw-written" || echo "rw-refused"
            """
        let given = try h.db.createRun(NewRun(spec: RunSpec(command: probe,
                                                           sandboxPaths: SandboxPaths(read: [readable], write: [writable])))).id
        #expect(try h.finished(given).status == .succeeded, "\(h.logs)")
        #expect(try h.text(given) == "data\nro-refused\nrw-written\n")
        #expect(try String(contentsOfFile: writable + "/c", encoding: .utf8) == "cached\n")
        try FileManager.default.removeItem(atPath: writable + "/c")
        // Another run, without them, sees neither.
        let plain = try h.create(probe)
        _ = try h.finished(plain)
        let plainOut = try h.text(plain)
        #expect(plainOut.hasPrefix("no-read\nro-refused\nrw-refused\n"), "\(plainOut)")
        #expect(!FileManager.default.fileExists(atPath: writable + "/c"))
        // A path that would bring the database, the runs directory or the workspaces back in is refused.
        for path in [h.tmp.path, h.tmp.path + "/runs", (h.tmp.path as NSString).deletingLastPathComponent, "/", "relative"] {
            #expect(throws: MDBError.self, "\(path)") {
                _ = try h.db.createRun(NewRun(spec: RunSpec(command: "true", sandboxPaths: SandboxPaths(write: [path]))))
            }
        }
        // A workspaces root mweb cannot know (mexec's own M_WORKSPACES, outside the database's folder)
        // is checked by the executor.
        let elsewhere = TempDir("run-paths-workspaces")
        let own = try MexecHarness(env: ["M_WORKSPACES": elsewhere.path])
        try own.start()
        let sneaky = try own.db.createRun(NewRun(spec: RunSpec(command: "echo reached", sandboxPaths: SandboxPaths(read: [elsewhere.path])))).id
        let ended = try own.finished(sneaky)
        let sneakyOut = try own.text(sneaky)
        #expect(ended.status == .failed && !sneakyOut.contains("reached"))
        let notice = try own.events(sneaky).last { $0.type == EventType.notice }?.dataValue["text"]?.stringValue ?? ""
        #expect(notice.contains("sandbox path") && notice.contains("workspaces root"), "\(notice)")
    }

    @Test(.enabled(if: bwrapWorks)) func anotherRunsAgentSocketIsOutOfReachByItsRealPath() throws {
        let h = try MexecHarness()
        try h.start()
        let victim = try h.create("sleep 30")
        let runs = Defaults.runsDirectory(databasePath: h.tmp.dbPath)
        var socket = ""
        #expect(eventually(timeout: 30) {
            let folder = (try? FileManager.default.contentsOfDirectory(atPath: runs))?.first { $0.hasPrefix("\(victim)-") }
            socket = folder.map { runs + "/" + $0 + "/agent.sock" } ?? ""
            return !socket.isEmpty && FileManager.default.fileExists(atPath: socket)
        }, "\(h.logs)")
        let connect = "/usr/bin/python3 -c 'import socket, sys; s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); print(\"connected\")'"
        // The path is right: from outside a sandbox it answers.
        #expect(try Exec.run("/bin/sh", ["-c", "\(connect) \(socket)"]).stdout.contains("connected"))
        let attacker = try h.create("\(connect) \(socket) 2>/dev/null || echo refused")
        #expect(try h.finished(attacker).status == .succeeded, "\(h.logs)")
        let out = try h.text(attacker)
        #expect(out == "refused\n", "\(out)")
        _ = try h.db.requestCancel(runId: victim, by: "test")
        #expect(try h.finished(victim).status == .canceled)
    }

    @Test(.enabled(if: bwrapWorks)) func aLongConfinedRunIsNotKilledWhenTheThreadThatStartedItEnds() throws {
        // bwrap's --die-with-parent follows the starting thread, which the executor does not keep:
        // a run that outlived that thread was SIGKILLed after a few seconds.
        let h = try MexecHarness()
        try h.start()
        let id = try h.create("for i in 1 2 3 4 5 6 7 8; do sleep 1; echo tick $i; done")
        let run = try h.finished(id, timeout: 60)
        #expect(run.status == .succeeded && run.exitCode == 0, "\(run.status) \(h.logs)")
        #expect(try h.text(id).hasSuffix("tick 8\n"))
    }

    @Test func sandboxNoneIsShownAsAWarning() throws {
        let h = try MexecHarness()
        try h.start()
        let id = try h.db.createRun(NewRun(spec: RunSpec(command: "ls -d /proc/[0-9]* | wc -l", sandbox: "none"))).id
        let run = try h.finished(id)
        #expect(run.status == .succeeded, "\(h.logs)")
        #expect(run.confinement == "none")
        let shown = try Exec.run("mcli", ["show", "--db", h.tmp.dbPath, String(id)])
        #expect(shown.stdout.contains("NOT confined"), "\(shown.stdout)")
        let events = try h.events(id)
        #expect(events.first { $0.type == EventType.runStarted }?.dataValue["sandbox"]?.stringValue == "none")
        let notice = events.first { $0.type == EventType.notice }
        #expect(notice?.dataValue["level"]?.stringValue == "warning")
        #expect(notice?.dataValue["text"]?.stringValue?.contains("not confined") == true)
        #expect(throws: MDBError.self) { _ = try h.db.createRun(NewRun(spec: RunSpec(command: "true", sandbox: "docker"))) }
    }

    @Test(.enabled(if: bwrapWorks)) func aDaemonTheAgentForksIsGoneWhenTheRunEnds() throws {
        let h = try MexecHarness()
        try h.start()
        let seconds = Int.random(in: 30_000...39_999)
        let count = "ps -eo args | grep -c '^sleep \(seconds)$' || true"
        let id = try h.create("(setsid sleep \(seconds) </dev/null >/dev/null 2>&1 &); sleep 0.2; echo \"running=$(\(count))\"")
        #expect(try h.finished(id).status == .succeeded, "\(h.logs)")
        let out = try h.text(id)
        #expect(out.contains("running=1"), "the daemon was started: \(out)")
        #expect(eventually(timeout: 5) {
            (try? Exec.run("/bin/sh", ["-c", count]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)) == "0"
        }, "the agent's daemon outlived the run")
    }
}
