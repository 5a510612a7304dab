import Foundation
import Histogram
import mdb
import MProcess
#if canImport(Glibc)
import Glibc
#endif

/// A latency histogram in microseconds, safe to record into from many tasks.
final class LatencyRecorder: @unchecked Sendable {
    private var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
    private let lock = NSLock()

    /// Records one latency in nanoseconds.
    func record(nanos: Int64) {
        lock.lock(); defer { lock.unlock() }
        _ = histogram.record(UInt64(max(0, nanos) / 1000))
    }

    /// Percentile in milliseconds.
    func ms(_ p: Double) -> Double { lock.lock(); defer { lock.unlock() }; return Double(histogram.valueAtPercentile(p)) / 1000 }
    var maxMs: Double { lock.lock(); defer { lock.unlock() }; return Double(histogram.max) / 1000 }
    var count: UInt64 { lock.lock(); defer { lock.unlock() }; return histogram.totalCount }
}

/// Finds every `t=<digits>` stamp in a raw frame (no JSON parse on the hot path).
func frameStamps(_ frame: String) -> [UInt64] { frameStamps(Array(frame.utf8)[...]) }

/// `frameStamps` on a frame's bytes.
func frameStamps(_ frame: ArraySlice<UInt8>) -> [UInt64] {
    var result: [UInt64] = []
    let bytes = Array(frame)
    var i = 0
    while i + 2 < bytes.count {
        // A stamp starts a line of the agent's output: after the text's opening
        // quote, or after an escaped newline (`\n`) when lines share an event.
        let startsLine = i >= 1 && (bytes[i - 1] == UInt8(ascii: "\"")
            || (i >= 2 && bytes[i - 1] == UInt8(ascii: "n") && bytes[i - 2] == UInt8(ascii: "\\")))
        if bytes[i] == UInt8(ascii: "t"), bytes[i + 1] == UInt8(ascii: "="), startsLine {
            var j = i + 2, v: UInt64 = 0
            while j < bytes.count, bytes[j] >= 0x30, bytes[j] <= 0x39 { v = v * 10 + UInt64(bytes[j] - 0x30); j += 1 }
            if j > i + 2 { result.append(v) }
            i = j
        } else {
            i += 1
        }
    }
    return result
}

/// Whether a raw wire frame is the run's last event.
func isFinished(_ frame: String) -> Bool { FrameScan.type(of: frame, is: FrameScan.runFinished) }

/// Byte searches in wire frames for the bench's clients. Foundation's
/// `String.contains`/`range(of:)` went through NSString and cost the replay
/// client half of its CPU (it shares the 2 cores with mweb, so a costly client
/// lowers the figure it measures).
enum FrameScan {
    static let typeKey = Array("\"type\":\"".utf8)
    static let runFinished = Array("run.finished\"".utf8)
    static let seqKey = Array("\"seq\":".utf8)
    static let idKey = Array("\"id\":".utf8)

    /// Whether the event's type (the first `"type":"` is the event's own,
    /// before `data`) is `type` (given with its closing quote).
    static func type(of text: String, is type: [UInt8]) -> Bool {
        var text = text
        return text.withUTF8 { self.type(of: $0, is: type) }
    }

    /// `type(of:is:)` on a frame's bytes.
    static func type(of frame: ArraySlice<UInt8>, is type: [UInt8]) -> Bool {
        frame.withUnsafeBufferPointer { self.type(of: $0, is: type) }
    }

    private static func type(of bytes: UnsafeBufferPointer<UInt8>, is type: [UInt8]) -> Bool {
        guard let start = end(of: typeKey, in: bytes), bytes.count - start >= type.count else { return false }
        return type.indices.allSatisfy { bytes[start + $0] == type[$0] }
    }

    /// The unsigned integer right after the first occurrence of `key` (a frame's `"seq":` or `"id":`).
    static func integer(after key: [UInt8], in text: String) -> Int? {
        var text = text
        return text.withUTF8 { integer(after: key, in: $0) }
    }

    /// `integer(after:in:)` on a frame's bytes.
    static func integer(after key: [UInt8], in frame: ArraySlice<UInt8>) -> Int? {
        frame.withUnsafeBufferPointer { integer(after: key, in: $0) }
    }

    private static func integer(after key: [UInt8], in bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        guard var i = end(of: key, in: bytes) else { return nil }
        var value = 0, digits = 0
        while i < bytes.count, bytes[i] >= 0x30, bytes[i] <= 0x39 {
            value = value * 10 + Int(bytes[i] - 0x30)
            i += 1
            digits += 1
        }
        return digits > 0 ? value : nil
    }

    /// The offset just past the first occurrence of `needle`. A plain search:
    /// the keys the clients look for (`"seq":`, `"type":"`) come in a wire
    /// event's first hundred bytes, before `data`.
    private static func end(of needle: [UInt8], in bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        guard let first = needle.first, bytes.count >= needle.count else { return nil }
        var i = 0
        let last = bytes.count - needle.count
        while i <= last {
            if bytes[i] == first {
                var j = 1
                while j < needle.count, bytes[i + j] == needle[j] { j += 1 }
                if j == needle.count { return i + needle.count }
            }
            i += 1
        }
        return nil
    }
}

/// The scenarios of issue 5, each against a fresh cluster.
struct Scenarios {
    let quick: Bool
    /// Where the loaded latency scenario keeps its raw data (`--trace`), if anywhere.
    var traceDirectory: String? = nil
    var mbenchPath: String { URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().path }

    /// Waits until every run in `ids` has finished (polling the database read-only).
    func waitFinished(_ cluster: Cluster, _ ids: [Int64], timeout: Double) throws {
        let db = try MDatabase(path: cluster.dbPath, migrate: false)
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if try ids.allSatisfy({ try db.run($0).status.isFinished }) { return }
            usleep(20_000)
        }
        throw Cluster.SetupError(description: "runs \(ids) did not finish within \(timeout) s")
    }

    // MARK: ingest

    /// A run printing lines as fast as it can: lines/s stored, beside raw batched INSERTs.
    func ingest() async throws -> [BenchRow] {
        let lines = quick ? 200_000 : 1_000_000
        let cluster = try Cluster()
        defer { cluster.stop() }
        try cluster.start(concurrency: 1)
        let m = try await ingestRate(cluster, lines: lines).linesPerSecond
        let raw = try AppendBenchmark(eventsPerBatchSize: lines).rawLinesPerSecond(count: lines)
        return [BenchRow(scenario: "ingest", metric: "lines/s stored (\(lines) lines)", m: m, baseline: raw,
                         baselineName: "raw batched INSERTs, 256/tx", unit: "lines/s")]
    }

    /// Runs one agent printing `lines` lines as fast as it can on `cluster`; answers the lines/s
    /// stored (first to last output event's `ts`) and the run's id, after checking every line arrived.
    func ingestRate(_ cluster: Cluster, lines: Int) async throws -> (linesPerSecond: Double, runId: Int64) {
        let api = Api(baseURL: cluster.baseURL, token: cluster.token)
        let id = try await api.createRun(command: "'\(mbenchPath)' agent --rate 0 --count \(lines)")
        try waitFinished(cluster, [id], timeout: 600)
        let db = try MDatabase(path: cluster.dbPath, migrate: false)
        // Count what was stored, from the events themselves (every line exactly once).
        var first: String?, last = "", stored = 0, after: Int64 = 0
        while true {
            let page = try db.events(runId: id, afterSeq: after)
            if page.isEmpty { break }
            for event in page where event.type == EventType.output {
                first = first ?? event.ts
                last = event.ts
                stored += event.dataValue["text"]?.stringValue?.utf8.filter { $0 == 0x0A }.count ?? 0
            }
            after = page.last!.seq
        }
        guard stored == lines else { throw Cluster.SetupError(description: "stored \(stored) lines of \(lines)") }
        let seconds = max(0.001, (Timestamp.parse(last) ?? 0) - (Timestamp.parse(first ?? last) ?? 0))
        return (Double(lines) / seconds, id)
    }

    // MARK: search

    /// Ingest with mweb's search indexer running beside the same without it
    /// (`--no-search-index`), alternating, then search over the indexed
    /// lines beside a scan of the events (`instr`), the way one would look without an index.
    func search() async throws -> [BenchRow] {
        let lines = quick ? 200_000 : 1_000_000
        var with: [Double] = [], without: [Double] = []
        var indexed: (Cluster, Int64)?
        defer { indexed?.0.stop() }
        for round in 0..<2 {
            for useIndex in round == 0 ? [false, true] : [true, false] {
                let cluster = try Cluster()
                try cluster.start(concurrency: 1, webArguments: useIndex ? [] : ["--no-search-index"])
                let (rate, id) = try await ingestRate(cluster, lines: lines)
                if useIndex { with.append(rate) } else { without.append(rate) }
                if useIndex && indexed == nil { indexed = (cluster, id) } else { cluster.stop() }
            }
        }
        guard let (cluster, _) = indexed else { throw Cluster.SetupError(description: "no indexed run") }
        let db = try MDatabase(path: cluster.dbPath, migrate: false)
        // The index catches up behind the output path: how long after the last event it holds everything.
        let started = DispatchTime.now().uptimeNanoseconds
        let lastId = try db.lastEventId()
        while try db.searchCursor() < lastId {
            if DispatchTime.now().uptimeNanoseconds - started > 600_000_000_000 { throw Cluster.SetupError(description: "the index did not catch up in 10 min") }
            usleep(10_000)
        }
        let catchUp = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e6
        let rare = String(lines * 7 / 10 + 3)
        func median(_ body: () throws -> Void) rethrows -> Double {
            var times: [Double] = []
            for _ in 0..<21 {
                let start = DispatchTime.now().uptimeNanoseconds
                try body()
                times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
            }
            return times.sorted()[times.count / 2]
        }
        let rareHits = try db.search(rare, limit: 50)
        guard rareHits.count == 1 else { throw Cluster.SetupError(description: "'\(rare)' found \(rareHits.count) times, not once") }
        let searchRare = try median { _ = try db.search(rare, limit: 50) }
        let searchCommon = try median { _ = try db.search("quick fox", limit: 50) }
        let scanRare = try median { _ = try db.read { try Int64.fetchAll($0, sql: "SELECT id FROM events WHERE type = 'output' AND instr(data, ?) > 0 ORDER BY id DESC LIMIT 50", arguments: [" \(rare):"]) } }
        let scanCommon = try median { _ = try db.read { try Int64.fetchAll($0, sql: "SELECT id FROM events WHERE type = 'output' AND instr(data, 'quick') > 0 AND instr(data, 'fox') > 0 ORDER BY id DESC LIMIT 50") } }
        let mean = { (xs: [Double]) in xs.reduce(0, +) / Double(xs.count) }
        return [
            BenchRow(scenario: "search", metric: "ingest lines/s with the indexer (\(lines) lines, mean of 2)", m: mean(with),
                     baseline: mean(without), baselineName: "without it (--no-search-index)", unit: "lines/s"),
            BenchRow(scenario: "search", metric: "index caught up after the run's last event", m: catchUp, baseline: nil, baselineName: nil, unit: "ms"),
            BenchRow(scenario: "search", metric: "one rare word over \(lines) lines, median of 21", m: searchRare, baseline: scanRare,
                     baselineName: "instr() scan of events", unit: "ms"),
            BenchRow(scenario: "search", metric: "two words in every line, newest 50, median of 21", m: searchCommon, baseline: scanCommon,
                     baselineName: "instr() scan of events", unit: "ms"),
        ]
    }

    // MARK: latency

    /// Agent stdout → WebSocket frame under load, beside the same lines over a direct pipe.
    /// With `gcEvents`, old finished runs holding that many events are stored
    /// first, and `mcli gc` deletes them while the runs stream (`gc` gets what it took).
    func latency(runs: Int, clientsPerRun: Int, seconds: Double, label: String,
                 gcEvents: Int? = nil, gc: GcFigures? = nil) async throws -> [BenchRow] {
        let rate = 200.0
        let count = Int(rate * seconds)
        // --trace <dir>, loaded scenario only: the servers' logs go there too.
        let traced = runs > 1 && gcEvents == nil ? traceDirectory : nil
        let cluster = try Cluster(logDirectory: traced)
        defer { cluster.stop() }
        try cluster.start(concurrency: runs)
        if let gcEvents {
            try GcFigures.seed(databasePath: cluster.dbPath, events: gcEvents)
            try GcFigures.waitForSearchIndex(databasePath: cluster.dbPath, timeout: 300)
            // The agents wait 2 s before their first line: gc starts once they stream.
            Thread.detachNewThread {
                usleep(2_500_000)
                let start = Date()
                do {
                    // As m-gc.service runs it: at normal priority, yielding by resting between batches.
                    let report = try cluster.runTool("mcli", ["gc", "--db", cluster.dbPath, "--older-than", "1d", "--json"])
                    gc?.finished(seconds: Date().timeIntervalSince(start),
                                 events: (try? JSONValue.parse(report))?["events"]?.intValue ?? -1, error: nil)
                } catch {
                    gc?.finished(seconds: Date().timeIntervalSince(start), events: -1, error: "\(error)")
                }
            }
        }
        // The cluster (and its database) must outlive gc: wait for it before the scenario ends.
        defer { gc?.wait(timeout: 600) }
        let api = Api(baseURL: cluster.baseURL, token: cluster.token)
        let recorder = LatencyRecorder()
        let reconnects = LockedCounter()
        let command = "'\(mbenchPath)' agent --rate \(Int(rate)) --count \(count) --delay 2"
        var ids: [Int64] = []
        for i in 0..<runs { ids.append(try await api.createRun(command: command, title: "latency \(i)")) }
        // One epoll thread for every client (see RawStreams): the bench's own CPU stays small.
        let streams = try RawStreams(baseURL: cluster.baseURL, token: cluster.token,
                                     runIds: ids.flatMap { Array(repeating: $0, count: clientsPerRun) })
        // Every frame's stamp, kernel receive time and read time, and the database, are kept
        // there (to find where a tail comes from).
        let trace = traced.map { FrameTrace(directory: $0) }
        let deadline = Date().addingTimeInterval(seconds + 120)
        // Frames that came in one read with a later one of the same connection carry that
        // one's (later) kernel stamp: counted, as a sign that the bench's reader fell behind.
        let frames = LockedCounter(), sharedStamp = LockedCounter(), lastReceived = LockedCounter()
        // A thread of its own: the clients block in epoll_wait.
        try await withCheckedThrowingContinuation { (done: CheckedContinuation<Void, any Error>) in
            Thread.detachNewThread {
                done.resume(with: Result {
                    try streams.run(deadline: deadline) { frame, receivedAt in
                        frames.add(1)
                        if Int(bitPattern: UInt(receivedAt)) == lastReceived.value { sharedStamp.add(1) }
                        lastReceived.set(Int(bitPattern: UInt(receivedAt)))
                        for stamp in frameStamps(frame) {
                            recorder.record(nanos: Int64(receivedAt) - Int64(stamp))
                            trace?.add(stamp: stamp, receivedAt: receivedAt)
                        }
                        return !FrameScan.type(of: frame, is: FrameScan.runFinished)
                    }
                })
            }
        }
        if let trace { try trace.save(database: cluster.dbPath) }
        reconnects.add(streams.reconnects)
        let expected = UInt64(runs * clientsPerRun * count)
        guard recorder.count == expected else {
            throw Cluster.SetupError(description: "clients received \(recorder.count) stamped lines, expected \(expected)")
        }
        let pipe = try pipeBaseline(runs: runs, rate: rate, count: count)
        let closes = BenchRow(scenario: "latency", metric: "\(label) slow-client closes (resumed)", m: Double(reconnects.value),
                              baseline: nil, baselineName: nil, unit: "")
        let shared = BenchRow(scenario: "latency", metric: "\(label) frames read with a later one (stamped late)",
                              m: 100 * Double(sharedStamp.value) / Double(max(1, frames.value)),
                              baseline: nil, baselineName: nil, unit: "%")
        return [closes, shared] + [
            ("p50", 50.0), ("p90", 90.0), ("p99", 99.0), ("max", 100.0),
        ].map { name, p in
            BenchRow(scenario: "latency", metric: "\(label) \(name)", m: p == 100 ? recorder.maxMs : recorder.ms(p),
                     baseline: p == 100 ? pipe.maxMs : pipe.ms(p), baselineName: "direct pipe", unit: "ms")
        }
    }

    /// The same agents writing to pipes read directly by this process.
    func pipeBaseline(runs: Int, rate: Double, count: Int) throws -> LatencyRecorder {
        let recorder = LatencyRecorder()
        var processes: [(Process, Pipe)] = []
        for _ in 0..<runs {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: mbenchPath)
            p.arguments = ["agent", "--rate", String(Int(rate)), "--count", String(count), "--delay", "0.5"]
            let pipe = Pipe()
            p.standardOutput = pipe
            try p.run()
            processes.append((p, pipe))
        }
        let group = DispatchGroup()
        for (_, pipe) in processes {
            group.enter()
            Thread.detachNewThread {
                let fd = pipe.fileHandleForReading.fileDescriptor
                var buffer = [UInt8](repeating: 0, count: 65536)
                var carry = ""
                while true {
                    let n = read(fd, &buffer, buffer.count)
                    if n <= 0 { break }
                    let now = wallNanos()
                    carry += String(decoding: buffer[0..<n], as: UTF8.self)
                    if let lastNewline = carry.lastIndex(of: "\n") {
                        for stamp in stamps(in: carry[...lastNewline]) { recorder.record(nanos: Int64(now) - Int64(stamp)) }
                        carry = String(carry[carry.index(after: lastNewline)...])
                    }
                }
                group.leave()
            }
        }
        group.wait()
        for (p, _) in processes { p.waitUntilExit() }
        return recorder
    }

    // MARK: replay

    /// A client connecting with after=0 to long finished runs, a short one then
    /// one four times longer: events/s, and mweb's peak RSS during each replay
    /// (flat: it must not grow with the run's length).
    func replay() async throws -> [BenchRow] {
        let sizes = quick ? [50_000, 200_000] : [250_000, 1_000_000]
        let cluster = try Cluster()
        defer { cluster.stop() }
        try cluster.start(concurrency: 1)
        let db = try MDatabase(path: cluster.dbPath)
        var runs: [Int64] = []
        for total in sizes {
            let run = try db.createRun(NewRun(title: "replay \(total)", spec: RunSpec(command: "true")))
            _ = try db.claimNextRun(workerId: "mbench")
            var i = 1
            while i < total - 1 {
                let n = min(1000, total - 1 - i)
                try db.append(runId: run.id, (0..<n).map {
                    NewEvent(EventType.output, .object([("stream", "stdout"), ("text", .string(AppendBenchmark.line(i + $0)))]))
                })
                i += n
            }
            try db.finishRun(runId: run.id, status: .succeeded, exitCode: 0)
            runs.append(run.id)
        }
        let webPid = cluster.web!.processIdentifier
        // Let mweb's tailer catch up with the rows just written (it publishes
        // them to no one) so that it does not compete with the first replay.
        try await Task.sleep(for: .seconds(1))
        let rssBefore = ProcStats.memoryKiB(pid: webPid)
        let api = Api(baseURL: cluster.baseURL, token: cluster.token)
        var rates: [BenchRow] = [], memory: [BenchRow] = []
        for runId in runs {
            let lastSeq = try db.run(runId).lastSeq
            let peak = LockedCounter()
            let sampling = Task.detached {
                while !Task.isCancelled {
                    peak.max(ProcStats.memoryKiB(pid: webPid))
                    try? await Task.sleep(for: .milliseconds(20))
                }
            }
            let received = LockedCounter()
            let start = DispatchTime.now().uptimeNanoseconds
            try await api.stream(runId: runId) { frame in
                received.add(1)
                return !isFinished(frame)
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            sampling.cancel()
            peak.max(ProcStats.memoryKiB(pid: webPid))
            guard received.value == Int(lastSeq) else {
                throw Cluster.SetupError(description: "replay delivered \(received.value) of \(lastSeq) events")
            }
            let sqliteRate = try sqliteReadRate(path: cluster.dbPath, runId: runId, count: Int(lastSeq))
            rates.append(BenchRow(scenario: "replay", metric: "events/s received (\(lastSeq) events, after=0)",
                                  m: Double(lastSeq) / seconds, baseline: sqliteRate, baselineName: "sqlite3 reading the rows",
                                  unit: "ev/s"))
            memory.append(BenchRow(scenario: "replay", metric: "mweb peak RSS during replay (\(lastSeq) events)",
                                   m: Double(peak.value) / 1024, baseline: Double(rssBefore) / 1024,
                                   baselineName: "mweb RSS before", unit: "MiB"))
        }
        return rates + memory
    }

    /// Rows/s of the `sqlite3` shell selecting the same rows (to /dev/null).
    func sqliteReadRate(path: String, runId: Int64, count: Int) throws -> Double {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        p.arguments = ["-readonly", path, "SELECT id, run_id, seq, ts, type, data FROM events WHERE run_id = \(runId) ORDER BY seq"]
        p.standardOutput = FileHandle.nullDevice
        let start = DispatchTime.now().uptimeNanoseconds
        try p.run()
        p.waitUntilExit()
        return Double(count) / (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }

    // MARK: idle

    /// CPU while nothing happens, of M as a person starts it: the whole tree of
    /// `mcli up` (the supervisor, mweb, mexec), and of mweb and mexec alone.
    func idle() async throws -> [BenchRow] {
        let seconds = quick ? 10.0 : 60.0
        let cluster = try Cluster()
        defer { cluster.stop() }
        try cluster.startUp(concurrency: Defaults.concurrency)
        try await Task.sleep(for: .seconds(2))  // let start-up work settle before measuring
        let root = cluster.up!.processIdentifier
        let pids = ProcStat.tree(of: root).map(\.pid)
        let named = { (name: String) in pids.filter { Self.commandName($0) == name } }
        let before = Dictionary(uniqueKeysWithValues: pids.map { ($0, ProcStat.read($0)?.cpuSeconds ?? 0) })
        let start = DispatchTime.now().uptimeNanoseconds
        try await Task.sleep(for: .seconds(seconds))
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        func percent(_ some: [Int32]) -> Double {
            some.reduce(0) { $0 + ((ProcStat.read($1)?.cpuSeconds ?? 0) - (before[$1] ?? 0)) } / elapsed * 100
        }
        let web = percent(named("mweb")), exec = percent(named("mexec"))
        let row = { (metric: String, value: Double) in
            BenchRow(scenario: "idle", metric: metric, m: value, baseline: nil, baselineName: nil, unit: "% of a core")
        }
        return [
            row("CPU of mcli up's tree (\(Int(seconds)) s, \(pids.count) processes)", percent(pids)),
            row("  of which mcli up", percent([root])),
            row("CPU of mweb + mexec (\(Int(seconds)) s)", web + exec),
            row("  of which mweb", web),
            row("  of which mexec", exec),
        ]
    }

    /// A process's command name (`/proc/PID/comm`).
    static func commandName(_ pid: Int32) -> String {
        ((try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    // MARK: approval round trip

    /// Decision over HTTP → `mcli ask` returns in the agent.
    func approvalRoundTrip() async throws -> [BenchRow] {
        let count = quick ? 30 : 200
        let cluster = try Cluster()
        defer { cluster.stop() }
        try cluster.start(concurrency: 1)
        let api = Api(baseURL: cluster.baseURL, token: cluster.token)
        let id = try await api.createRun(command: "'\(mbenchPath)' asker --count \(count) --delay 1")
        let recorder = LatencyRecorder()
        let decidedAt = LockedCounter()
        try await api.stream(runId: id) { frame in
            if frame.contains("\"type\":\"approval.requested\""),
               let event = try? JSONValue.parse(frame), let aid = event["data"]?["approval_id"]?.intValue {
                decidedAt.set(Int(wallNanos()))
                _ = try? await api.post("/approvals/\(aid)", ["decision": "approve"])
            } else if frame.contains("\"type\":\"output\"") {
                for stamp in frameStamps(frame) { recorder.record(nanos: Int64(stamp) - Int64(decidedAt.value)) }
            }
            return !isFinished(frame)
        }
        guard recorder.count == UInt64(count) else {
            throw Cluster.SetupError(description: "\(recorder.count) of \(count) approvals came back")
        }
        return [("p50", 50.0), ("p99", 99.0), ("max", 100.0)].map { name, p in
            BenchRow(scenario: "approval", metric: "HTTP decision → mcli ask returns, \(name)",
                     m: p == 100 ? recorder.maxMs : recorder.ms(p), baseline: nil, baselineName: nil, unit: "ms")
        }
    }

    // MARK: fan-out

    /// Memory of mweb per idle WebSocket client.
    func fanOut() async throws -> [BenchRow] {
        let clients = quick ? 300 : 1000
        let cluster = try Cluster()
        defer { cluster.stop() }
        try cluster.start(concurrency: 1)
        let api = Api(baseURL: cluster.baseURL, token: cluster.token)
        let webPid = cluster.web!.processIdentifier
        // Warm up: one client first, so that one-time allocations do not count per client.
        let connected = LockedCounter()
        let release = LockedCounter()
        let total = clients + 1
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await api.stream(runId: nil, onConnect: { connected.add(1) }) { _ in release.value == 0 } }
            while connected.value < 1 { try await Task.sleep(for: .milliseconds(10)) }
            try await Task.sleep(for: .milliseconds(500))
            let before = ProcStats.memoryKiB(pid: webPid)
            for _ in 0..<clients {
                group.addTask { try await api.stream(runId: nil, onConnect: { connected.add(1) }) { _ in release.value == 0 } }
            }
            let deadline = Date().addingTimeInterval(60)
            while connected.value < total && Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
            guard connected.value == total else {
                throw Cluster.SetupError(description: "only \(connected.value - 1) of \(clients) clients connected")
            }
            try await Task.sleep(for: .seconds(1))
            let after = ProcStats.memoryKiB(pid: webPid)
            release.set(1)
            // A run makes every client receive one frame, so each handler sees `release` and returns.
            _ = try await api.createRun(command: "true")
            try await group.waitForAll()
            let perClient = Double(after - before) / Double(clients)
            return [BenchRow(scenario: "fan-out", metric: "mweb RSS per idle WebSocket client (\(clients))", m: perClient,
                             baseline: Double(before), baselineName: "mweb RSS before, KiB", unit: "KiB")]
        }
    }
}

/// An integer shared across tasks.
final class LockedCounter: @unchecked Sendable {
    private var v = 0
    private let lock = NSLock()
    var value: Int { lock.lock(); defer { lock.unlock() }; return v }
    func add(_ n: Int) { lock.lock(); v += n; lock.unlock() }
    func set(_ n: Int) { lock.lock(); v = n; lock.unlock() }
    func max(_ n: Int) { lock.lock(); v = Swift.max(v, n); lock.unlock() }
}

/// The loaded latency scenario's raw data, kept for analysis (`--trace`).
final class FrameTrace: @unchecked Sendable {
    let directory: String
    private var rows: [(stamp: UInt64, receivedAt: UInt64, read: UInt64)] = []

    init(directory: String) { self.directory = directory }

    /// One stamped line as a client got it (the clients' thread only).
    func add(stamp: UInt64, receivedAt: UInt64) { rows.append((stamp, receivedAt, wallNanos())) }

    /// Writes `frames.txt` (stamp, kernel receive time, read time; ns) and copies the database.
    func save(database: String) throws {
        try rows.map { "\($0.stamp) \($0.receivedAt) \($0.read)" }.joined(separator: "\n")
            .write(toFile: directory + "/frames.txt", atomically: true, encoding: .utf8)
        for suffix in ["", "-wal"] where FileManager.default.fileExists(atPath: database + suffix) {
            try? FileManager.default.removeItem(atPath: directory + "/m.db" + suffix)
            try FileManager.default.copyItem(atPath: database + suffix, toPath: directory + "/m.db" + suffix)
        }
    }
}
