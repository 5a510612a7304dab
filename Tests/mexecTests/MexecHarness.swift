import Foundation
import MTestSupport
import mdb
#if canImport(Glibc)
import Glibc
#endif

/// A temp database with a live `mexec` daemon on it, and what tests ask of both.
final class MexecHarness: @unchecked Sendable {
    let tmp = TempDir("mexec")
    let db: MDatabase
    private(set) var daemon: Process?
    private let extraArgs: [String]
    private let env: [String: String]

    /// Creates the database; `start()` launches the daemon. Short leases and
    /// cancel graces keep the tests fast.
    init(args: [String] = [], env: [String: String] = [:]) throws {
        db = try MDatabase(path: tmp.dbPath, create: true)
        extraArgs = args
        // The default workspaces root is under XDG_STATE_HOME: kept inside the test's folder.
        self.env = ["XDG_STATE_HOME": tmp.file("state")].merging(env) { _, given in given }
    }

    deinit {
        if let daemon, daemon.isRunning { kill(daemon.processIdentifier, SIGKILL) }
        // Leave no executor or agent behind, whatever the test did.
        if let runs = try? db.runs(limit: 100) {
            for run in runs {
                if let p = try? db.processes(runId: run.id) {
                    if let pgid = p.agentPgid, !Proc.liveMembers(ofGroup: pgid).isEmpty { kill(-pgid, SIGKILL) }
                    if let pid = p.executorPid, Proc.isAlive(pid) { kill(pid, SIGKILL) }
                }
            }
        }
    }

    /// Starts (or restarts) the daemon; its log goes to `daemon-N.log`.
    @discardableResult
    func start() throws -> Process {
        let log = tmp.file("daemon-\(UUID().uuidString.prefix(4)).log")
        FileManager.default.createFile(atPath: log, contents: nil)
        let handle = FileHandle(forWritingAtPath: log)!
        let process = try Exec.start("mexec", ["--db", tmp.dbPath] + extraArgs, env: env, stderr: handle)
        daemon = process
        return process
    }

    /// Queues a run.
    func create(_ command: String? = nil, argv: [String]? = nil, pty: Bool? = nil, repo: String? = nil, ref: String? = nil) throws -> Int64 {
        try db.createRun(NewRun(title: "test", spec: RunSpec(command: command, argv: argv, pty: pty), repoUrl: repo, repoRef: ref)).id
    }

    /// Waits for the run to finish and returns its row.
    func finished(_ runId: Int64, timeout: Double = 60) throws -> Run {
        _ = try eventually(timeout: timeout, interval: 0.02) { try db.run(runId).status.isFinished }
        return try db.run(runId)
    }

    /// Every event of a run, in order.
    func events(_ runId: Int64) throws -> [Event] {
        var all: [Event] = []
        while true {
            let page = try db.events(runId: runId, afterSeq: all.last?.seq ?? 0)
            if page.isEmpty { return all }
            all += page
        }
    }

    /// The exact bytes a run wrote to `stream`, decoded from text and b64 events.
    func output(_ runId: Int64, stream: String) throws -> [UInt8] {
        var bytes: [UInt8] = []
        for event in try events(runId) where event.type == EventType.output {
            let data = event.dataValue
            guard data["stream"]?.stringValue == stream else { continue }
            if let text = data["text"]?.stringValue { bytes += Array(text.utf8) }
            if let b64 = data["b64"]?.stringValue { bytes += Array(Data(base64Encoded: b64)!) }
        }
        return bytes
    }

    /// The run's output on `stream` as text.
    func text(_ runId: Int64, stream: String = "stdout") throws -> String {
        String(decoding: try output(runId, stream: stream), as: UTF8.self)
    }

    /// Waits until the run's output on `stream` contains `needle`.
    func waitForOutput(_ runId: Int64, containing needle: String, stream: String = "stdout", timeout: Double = 30) throws -> Bool {
        try eventually(timeout: timeout, interval: 0.02) { try text(runId, stream: stream).contains(needle) }
    }

    /// A run's executor log so far.
    func executorLog(_ runId: Int64) -> String {
        (try? String(contentsOfFile: tmp.file("runs/\(runId).executor.log"), encoding: .utf8)) ?? ""
    }

    /// The daemon's log so far (for failure messages).
    var logs: String {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: tmp.path)) ?? []
        let runLogs = ((try? FileManager.default.contentsOfDirectory(atPath: tmp.file("runs"))) ?? []).map { "runs/\($0)" }
        return (files + runLogs).filter { $0.hasSuffix(".log") }.sorted()
            .map { "--- \($0)\n" + ((try? String(contentsOfFile: tmp.file($0), encoding: .utf8)) ?? "") }.joined(separator: "\n")
    }
}

/// Reading /proc from tests: is a process (or a process group) still alive?
enum Proc {
    /// Fields 3 (state) and 5 (pgrp) of /proc/PID/stat.
    static func stat(_ pid: Int32) -> (state: Character, pgid: Int32)? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 3, let state = fields[0].first, let pgid = Int32(fields[2]) else { return nil }
        return (state, pgid)
    }

    /// Field 19 (nice) of /proc/PID/stat: the main thread's.
    static func nice(_ pid: Int32) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        return fields.count > 16 ? Int(fields[16]) : nil
    }

    /// The nice value of the process's session group (`/proc/PID/autogroup`:
    /// "/autogroup-12 nice 10"), nil where the kernel has no such groups.
    static func autogroupNice(_ pid: Int32) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/autogroup", encoding: .utf8),
              let last = text.split(whereSeparator: \.isWhitespace).last else { return nil }
        return Int(last)
    }

    /// Alive and not a zombie.
    static func isAlive(_ pid: Int32) -> Bool {
        guard let s = stat(pid) else { return false }
        return s.state != "Z" && s.state != "X"
    }

    /// Live processes in process group `pgid`.
    static func liveMembers(ofGroup pgid: Int32) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { Int32($0) }.filter { pid in
            guard let s = stat(pid) else { return false }
            return s.pgid == pgid && s.state != "Z" && s.state != "X"
        }
    }

    /// A status field of /proc/PID/status in kB (e.g. VmHWM).
    static func statusKB(_ pid: Int32, _ field: String) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(field + ":") {
            return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        }
        return nil
    }
}
