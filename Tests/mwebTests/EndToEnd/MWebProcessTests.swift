import Foundation
import MAuth
import MTestSupport
import Testing
import mdb

/// A real `mweb` process on port 0.
final class MWebProcess: @unchecked Sendable {
    let process: Process
    let port: Int
    let stdout: Pipe

    /// Starts mweb (with at most `descriptorLimit` open files, as `ulimit -n`
    /// sets them, when given) and waits for its `listening on http://HOST:PORT` line.
    init(db: String, arguments: [String] = [], descriptorLimit: Int? = nil) throws {
        stdout = Pipe()
        if let descriptorLimit {
            process = try Exec.start("/bin/sh", ["-c", "ulimit -n \(descriptorLimit) && db=\"$1\" && shift && exec \"$0\" --db \"$db\" --port 0 \"$@\"",
                                                 Binaries.path("mweb"), db] + arguments, stdout: stdout.fileHandleForWriting)
        } else {
            process = try Exec.start("mweb", ["--db", db, "--port", "0"] + arguments, stdout: stdout.fileHandleForWriting)
        }
        // Our copy of the write end closed, a mweb that dies gives EOF instead of a wait forever.
        try? stdout.fileHandleForWriting.close()
        let reader = stdout.fileHandleForReading
        var seen = ""
        let deadline = Date().addingTimeInterval(60)
        while !seen.contains("\n"), Date() < deadline {
            let data = reader.availableData
            if data.isEmpty { break }
            seen += String(decoding: data, as: UTF8.self)
        }
        guard let line = seen.split(separator: "\n").first, line.hasPrefix("listening on http://127.0.0.1:"),
              let port = Int(line.split(separator: ":").last ?? "") else {
            process.terminate()
            throw TestFailure("mweb did not print its listening line: \(seen)")
        }
        self.port = port
    }

    /// How many descriptors the process has open, and whether it still runs (for failure messages).
    var descriptorReport: String {
        let pid = process.processIdentifier
        let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? -1
        return "pid \(pid) running=\(process.isRunning) fds=\(fds)"
    }

    func kill9() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}

extension StreamLoad {
    @Suite struct MWebProcessTests {
        @Test func resumingAcrossAKill9OfMwebGivesEveryEventExactlyOnce() async throws {
            let tmp = TempDir("mweb-kill")
            let db = try MDatabase(path: tmp.dbPath, create: true)
            let secret = Secret.generate()
            _ = try db.createToken(name: "t", scope: .read, hash: Secret.hash(secret))
            let run = try db.createRun(NewRun(spec: RunSpec(command: "fast")))
            _ = try db.claimNextRun(workerId: "w")
            let current = LockedBox(try MWebProcess(db: tmp.dbPath))
            let restarts = LockedBox(0)
            // A run that lasts a few seconds, so the kills land mid-stream.
            async let writer: Void = onThread { try writeFastRun(db, runId: run.id, count: 3_000, pauseMicroseconds: 1_500) }
            let (events, connections) = try await followWithRandomDisconnects(
                runId: run.id, token: secret, port: { current.get().port }, maxFramesPerConnection: 200
            ) { connections, received in
                // Kill -9 and restart mweb twice, at different points of the run.
                if (received > 400 && restarts.get() == 0) || (received > 1_500 && restarts.get() == 1) {
                    current.get().kill9()
                    current.set(try! MWebProcess(db: tmp.dbPath))
                    restarts.mutate { $0 += 1 }
                }
            }
            try await writer
            let expected = try db.run(run.id).lastSeq
            #expect(restarts.get() == 2)
            #expect(events.map(\.seq) == Array(1...expected), "every event exactly once, in order, across restarts")
            #expect(connections > 10)
            current.get().process.terminate()
            current.get().process.waitUntilExit()
        }

        @Test func mwebStopsCleanlyOnSigterm() async throws {
            let tmp = TempDir("mweb-term")
            _ = try MDatabase(path: tmp.dbPath, create: true)
            let mweb = try MWebProcess(db: tmp.dbPath)
            #expect(try await http(mweb.port, .get, "/healthz").status == 200)
            mweb.process.terminate()
            mweb.process.waitUntilExit()
            #expect(mweb.process.terminationReason == .exit)
            #expect(mweb.process.terminationStatus == 0)
        }

        @Test func mwebRefusesAMissingDatabaseWithAClearMessage() throws {
            let tmp = TempDir("mweb-nodb")
            let result = try Exec.run("mweb", ["--db", tmp.file("none.db"), "--port", "0"])
            #expect(result.status == 2)
            #expect(result.stderr.contains("mcli init"))
        }
    }
}

@Suite struct MWebWarningTests {
    @Test func plainHttpOnAllAddressesPrintsAWarning() throws {
        let tmp = TempDir("mweb-warn")
        _ = try MDatabase(path: tmp.dbPath, create: true)
        let errors = Pipe()
        let stdout = Pipe()
        let process = try Exec.start("mweb", ["--db", tmp.dbPath, "--host", "0.0.0.0", "--port", "0"],
                                     stdout: stdout.fileHandleForWriting, stderr: errors.fileHandleForWriting)
        defer { process.terminate(); process.waitUntilExit() }
        // The warning comes before the listening line.
        var seen = ""
        while !seen.contains("\n") {
            let data = stdout.fileHandleForReading.availableData
            if data.isEmpty { break }
            seen += String(decoding: data, as: UTF8.self)
        }
        #expect(seen.hasPrefix("listening on"))
        process.terminate()
        process.waitUntilExit()
        try errors.fileHandleForWriting.close()
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(text.contains("warning: serving plain HTTP on 0.0.0.0"), "\(text)")
    }
}

/// mweb under systemd (`Type=notify`, `WatchdogSec=`) and the listener row `mcli doctor` reads.
@Suite struct MWebPresenceTests {
    @Test func mwebSendsReadyAndWatchdogAndRecordsWhereItListens() throws {
        let tmp = TempDir("mweb-notify")
        let db = try MDatabase(path: tmp.dbPath, create: true)
        let notify = try NotifySocket(path: tmp.file("notify.sock"))
        let stdout = Pipe()
        let process = try Exec.start("mweb", ["--db", tmp.dbPath, "--port", "0"],
                                     env: ["NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "400000"],
                                     stdout: stdout.fileHandleForWriting)
        defer { if process.isRunning { process.terminate(); process.waitUntilExit() } }
        let messages = notify.receive { got in
            got.contains { $0.contains("READY=1") } && got.filter { $0.contains("WATCHDOG=1") }.count >= 2
        }
        #expect(messages.contains { $0.contains("READY=1") && $0.contains("STATUS=serving on 127.0.0.1:") }, "\(messages)")
        #expect(messages.filter { $0.contains("WATCHDOG=1") }.count >= 2, "pings at half of WATCHDOG_USEC: \(messages)")
        let listener = try #require(try db.webListeners().first { $0.pid == process.processIdentifier })
        #expect(listener.host == "127.0.0.1" && !listener.tls && listener.port > 0 && listener.startTicks != nil)
        process.terminate()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(try db.webListeners().isEmpty, "a clean stop marks the listener stopped")
        // Only the listening line goes to stdout: logs go to stderr.
        try stdout.fileHandleForWriting.close()
        let printed = String(decoding: stdout.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(printed.split(separator: "\n").count == 1 && printed.hasPrefix("listening on"), "\(printed)")
    }
}
