import Foundation
import mdb
#if canImport(Glibc)
import Glibc
#endif

/// A real M on a temporary database: `mcli init`, an admin token, `mweb` on
/// port 0 and `mexec`, started from the same build folder as `mbench`.
final class Cluster: @unchecked Sendable {
    let dir: String
    let dbPath: String
    let binDir: String
    private(set) var baseURL = ""
    private(set) var token = ""
    private(set) var web: Process?
    private(set) var exec: Process?
    /// `mcli up`, when the cluster was started as a person starts M.
    private(set) var up: Process?

    /// Everything the bench reports failing to set up.
    struct SetupError: Error, CustomStringConvertible {
        var description: String
    }

    /// Where the servers' logs go (`--trace`); nowhere without one.
    let logDirectory: String?

    init(logDirectory: String? = nil) throws {
        self.logDirectory = logDirectory
        binDir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent().path
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("mbench-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        dbPath = dir + "/m.db"
        Cluster.raiseFileLimit()
    }

    /// Path of a sibling executable.
    func bin(_ name: String) -> String { binDir + "/" + name }

    /// Creates the database and a token, then starts mweb and (unless told not to) mexec.
    func start(concurrency: Int, withExecutor: Bool = true, webArguments: [String] = []) throws {
        for tool in ["mcli", "mweb"] + (withExecutor ? ["mexec"] : []) where !FileManager.default.isExecutableFile(atPath: bin(tool)) {
            throw SetupError(description: "\(bin(tool)) is missing: build everything first (swift build -c release)")
        }
        _ = try runTool("mcli", ["init", "--db", dbPath])
        let created = try runTool("mcli", ["token", "create", "--name", "bench", "--scope", "admin", "--json", "--db", dbPath])
        guard let t = try JSONValue.parse(created)["token"]?.stringValue else { throw SetupError(description: "no token in \(created)") }
        token = t
        let (process, url) = try startWeb(extra: webArguments)
        web = process
        baseURL = url
        guard withExecutor else { return }
        let e = Process()
        e.executableURL = URL(fileURLWithPath: bin("mexec"))
        e.arguments = ["--db", dbPath, "--concurrency", String(concurrency)]
        e.standardOutput = FileHandle.nullDevice
        e.standardError = logFile("mexec")
        try e.run()
        exec = e
    }

    /// Where a server's log goes: `<name>.log` in the log folder, else nowhere.
    private func logFile(_ name: String) -> FileHandle {
        guard let trace = logDirectory,
              FileManager.default.createFile(atPath: "\(trace)/\(name).log", contents: nil),
              let file = FileHandle(forWritingAtPath: "\(trace)/\(name).log") else { return FileHandle.nullDevice }
        return file
    }

    /// Starts mweb on port 0 and waits for its `listening on` line.
    private func startWeb(extra: [String] = []) throws -> (Process, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: bin("mweb"))
        p.arguments = ["--db", dbPath, "--host", "127.0.0.1", "--port", "0"] + extra
        let out = Pipe()
        p.standardOutput = out
        p.standardError = logFile("mweb")
        try p.run()
        guard let line = waitForLine(containing: "listening on ", from: out.fileHandleForReading.fileDescriptor) else {
            p.terminate()
            throw SetupError(description: "mweb did not print 'listening on' within 30 s")
        }
        let url = line[line.range(of: "listening on ")!.upperBound...]
        return (p, url.trimmingCharacters(in: .whitespaces))
    }

    /// Starts M as a person does, `mcli up` on port 0, and waits until it says it is up.
    /// Its tree (mcli, mweb, mexec) is what the idle scenario measures.
    func startUp(concurrency: Int) throws {
        for tool in ["mcli", "mweb", "mexec"] where !FileManager.default.isExecutableFile(atPath: bin(tool)) {
            throw SetupError(description: "\(bin(tool)) is missing: build everything first (swift build -c release)")
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: bin("mcli"))
        p.arguments = ["up", "--db", dbPath, "--port", "0", "--concurrency", String(concurrency)]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = logFile("up")
        try p.run()
        up = p
        guard waitForLine(containing: "Ctrl-C stops", from: out.fileHandleForReading.fileDescriptor) != nil else {
            stop()
            throw SetupError(description: "mcli up did not say it was up within 30 s")
        }
    }

    /// Reads `fd` until a line holding `text` (returned), EOF or 30 s (nil); then
    /// keeps draining it on a thread so the writer never blocks on a full pipe.
    private func waitForLine(containing text: String, from fd: Int32) -> String? {
        var line = Data()
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&pfd, 1, 100) > 0 else { continue }
            var byte: UInt8 = 0
            if read(fd, &byte, 1) != 1 { return nil }
            guard byte == 0x0A else { line.append(byte); continue }
            let found = String(decoding: line, as: UTF8.self)
            line.removeAll()
            if found.contains(text) {
                Thread.detachNewThread { var buf = [UInt8](repeating: 0, count: 4096); while read(fd, &buf, 4096) > 0 {} }
                return found
            }
        }
        return nil
    }

    /// Runs a sibling tool to completion; returns its stdout or throws with its stderr.
    @discardableResult
    func runTool(_ name: String, _ args: [String], env: [String: String] = [:]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: bin(name))
        p.arguments = args
        var environment = ProcessInfo.processInfo.environment
        for (k, v) in env { environment[k] = v }
        p.environment = environment
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw SetupError(description: "\(name) \(args.joined(separator: " ")) failed: \(String(decoding: errData, as: UTF8.self))")
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// Stops `mcli up` (which stops its children), mweb and mexec (SIGTERM, then
    /// SIGKILL) and removes the folder.
    func stop() {
        for p in [up, web, exec].compactMap({ $0 }) where p.isRunning {
            p.terminate()
            let deadline = Date().addingTimeInterval(10)
            while p.isRunning && Date() < deadline { usleep(10_000) }
            if p.isRunning { kill(p.processIdentifier, SIGKILL) }
        }
        // Executors are detached from mexec on purpose; end any left in this bench's folder.
        _ = try? runShell("pkill -KILL -f -- '--db \(dbPath)' || true")
        try? FileManager.default.removeItem(atPath: dir)
    }

    private func runShell(_ command: String) throws -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", command]
        try p.run()
        p.waitUntilExit()
        return p.terminationStatus
    }

    /// 1,000 WebSocket clients need more than the default 1,024 descriptors.
    static func raiseFileLimit() {
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        limit.rlim_cur = limit.rlim_max
        setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }
}

/// Reads a process's memory from /proc (its CPU: `MProcess.ProcStat`).
enum ProcStats {
    /// Resident set size in KiB (VmRSS), or peak (VmHWM).
    static func memoryKiB(pid: Int32, field: String = "VmRSS") -> Int {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix(field + ":") {
            return Int(line.split(whereSeparator: \.isWhitespace)[1]) ?? 0
        }
        return 0
    }
}

/// The wall clock in nanoseconds (what agents stamp their lines with).
func wallNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}
