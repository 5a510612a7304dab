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

    /// Creates the database and a token, then starts mweb and mexec.
    func start(concurrency: Int) throws {
        for tool in ["mcli", "mweb", "mexec"] where !FileManager.default.isExecutableFile(atPath: bin(tool)) {
            throw SetupError(description: "\(bin(tool)) is missing: build everything first (swift build -c release)")
        }
        _ = try runTool("mcli", ["init", "--db", dbPath])
        let created = try runTool("mcli", ["token", "create", "--name", "bench", "--scope", "admin", "--json", "--db", dbPath])
        guard let t = try JSONValue.parse(created)["token"]?.stringValue else { throw SetupError(description: "no token in \(created)") }
        token = t
        let (process, url) = try startWeb()
        web = process
        baseURL = url
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
    private func startWeb() throws -> (Process, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: bin("mweb"))
        p.arguments = ["--db", dbPath, "--host", "127.0.0.1", "--port", "0"]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = logFile("mweb")
        try p.run()
        let fd = out.fileHandleForReading.fileDescriptor
        var line = Data()
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            if poll(&pfd, 1, 100) > 0 {
                var byte: UInt8 = 0
                if read(fd, &byte, 1) != 1 { break }
                if byte == 0x0A {
                    let text = String(decoding: line, as: UTF8.self)
                    if let range = text.range(of: "listening on ") {
                        // Keep draining stdout so mweb never blocks on a full pipe.
                        Thread.detachNewThread { var buf = [UInt8](repeating: 0, count: 4096); while read(fd, &buf, 4096) > 0 {} }
                        return (p, String(text[range.upperBound...]).trimmingCharacters(in: .whitespaces))
                    }
                    line.removeAll()
                } else {
                    line.append(byte)
                }
            }
        }
        p.terminate()
        throw SetupError(description: "mweb did not print 'listening on' within 30 s")
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

    /// Stops mweb and mexec (SIGTERM, then SIGKILL) and removes the folder.
    func stop() {
        for p in [web, exec].compactMap({ $0 }) where p.isRunning {
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

/// Reads a process's memory and CPU from /proc.
enum ProcStats {
    /// Resident set size in KiB (VmRSS), or peak (VmHWM).
    static func memoryKiB(pid: Int32, field: String = "VmRSS") -> Int {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix(field + ":") {
            return Int(line.split(whereSeparator: \.isWhitespace)[1]) ?? 0
        }
        return 0
    }

    /// User + system CPU time consumed so far, in seconds.
    static func cpuSeconds(pid: Int32) -> Double {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return 0 }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // After the command name: state is field 3, utime 14, stime 15 (1-based in proc(5)).
        let utime = Double(fields[11]) ?? 0, stime = Double(fields[12]) ?? 0
        return (utime + stime) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}

/// The wall clock in nanoseconds (what agents stamp their lines with).
func wallNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}
