import ArgumentParser
import Foundation

/// `mbench`: measures M's bus side by side with its physical floor and prints one table.
@main
struct MBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mbench",
        abstract: "Benchmark M against baselines measured in the same run.",
        discussion: "Every figure is printed next to a baseline from the same run, and as a ratio.",
        subcommands: [RunBench.self, AgentCommand.self, AskerCommand.self],
        defaultSubcommand: RunBench.self)
}

/// The benchmark itself: runs the chosen scenarios and prints the table.
struct RunBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run", abstract: "Run the scenarios (the default).")

    static let allScenarios = ["append", "changewatch", "ingest", "latency", "latency-light", "latency-gc", "replay", "idle", "approval", "push", "fanout", "search"]

    @Option(help: "Scenarios to run, comma-separated (default: all): \(RunBench.allScenarios.joined(separator: ", ")).")
    var only: String?

    @Flag(help: "A quick run (about a minute) instead of the full one (a few minutes).")
    var quick = false

    @Flag(help: "Print the results as JSON for tracking over time.")
    var json = false

    @Option(help: "Runs in the loaded latency scenario (default 50, quick 10).")
    var latencyRuns: Int?

    @Option(help: "WebSocket clients per run in the loaded latency scenario.")
    var clientsPerRun: Int = 4

    @Option(help: ArgumentHelp("Keep the loaded latency scenario's raw data in this folder: every frame's stamps (frames.txt), the database and both servers' logs (for bench/latency-trace.py).", valueName: "dir"))
    var trace: String?

    func run() async throws {
        let wanted = only.map { Set($0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }) }
            ?? Set(RunBench.allScenarios)
        if let unknown = wanted.subtracting(RunBench.allScenarios).first {
            throw ValidationError("unknown scenario '\(unknown)'; choose from \(RunBench.allScenarios.joined(separator: ", "))")
        }
        if let trace {
            try FileManager.default.createDirectory(atPath: trace, withIntermediateDirectories: true)
        }
        let scenarios = Scenarios(quick: quick, traceDirectory: trace)
        var rows: [BenchRow] = []
        func step(_ name: String, _ body: () async throws -> [BenchRow]) async {
            guard wanted.contains(name) else { return }
            FileHandle.standardError.write(Data("mbench: \(name)…\n".utf8))
            do { rows += try await body() } catch {
                FileHandle.standardError.write(Data("mbench: \(name) failed: \(error)\n".utf8))
                rows.append(BenchRow(scenario: name, metric: "FAILED: \(error)", m: .nan, baseline: nil, baselineName: nil, unit: ""))
            }
        }
        await step("append") { try AppendBenchmark(eventsPerBatchSize: quick ? 20_000 : 100_000).run() }
        await step("changewatch") {
            [BenchRow(scenario: "changewatch", metric: "one data_version check", m: try ChangeWatchCost.microsecondsPerCheck(),
                      baseline: nil, baselineName: nil, unit: "µs")]
        }
        await step("ingest") { try await scenarios.ingest() }
        await step("latency-light") {
            try await scenarios.latency(runs: 1, clientsPerRun: 1, seconds: quick ? 5 : 20, label: "1 run × 200 lines/s, 1 client,")
        }
        await step("latency") {
            let runs = latencyRuns ?? (quick ? 10 : 50)
            return try await scenarios.latency(runs: runs, clientsPerRun: clientsPerRun, seconds: quick ? 5 : 20,
                                               label: "\(runs) runs × 200 lines/s, \(runs * clientsPerRun) clients,")
        }
        await step("latency-gc") {
            // The loaded scenario twice: as it is, then while `mcli gc` deletes old runs' events.
            let runs = latencyRuns ?? (quick ? 10 : 50)
            let events = quick ? 200_000 : 1_000_000
            let label = "\(runs) runs × 200 lines/s, \(runs * clientsPerRun) clients,"
            let seconds: Double = quick ? 5 : 20
            let plain = try await scenarios.latency(runs: runs, clientsPerRun: clientsPerRun, seconds: seconds, label: label)
            let gc = GcFigures()
            let loaded = try await scenarios.latency(runs: runs, clientsPerRun: clientsPerRun, seconds: seconds, label: label,
                                                     gcEvents: events, gc: gc)
            var rows: [BenchRow] = []
            for name in ["p50", "p99", "max"] {
                guard let with = loaded.first(where: { $0.metric.hasSuffix(" \(name)") }),
                      let without = plain.first(where: { $0.metric.hasSuffix(" \(name)") }) else { continue }
                rows.append(BenchRow(scenario: "latency-gc", metric: "\(label) \(name) while gc deletes \(events) events",
                                     m: with.m, baseline: without.m, baselineName: "same load, no gc", unit: "ms"))
            }
            let figures = gc.value
            if let error = figures?.error { FileHandle.standardError.write(Data("mbench: gc failed: \(error)\n".utf8)) }
            rows.append(BenchRow(scenario: "latency-gc",
                                 metric: figures?.error == nil ? "gc: seconds to delete \(figures?.events ?? -1) events under that load" : "gc: FAILED after",
                                 m: figures?.seconds ?? .nan, baseline: nil, baselineName: nil, unit: "s"))
            return rows
        }
        await step("replay") { try await scenarios.replay() }
        await step("idle") { try await scenarios.idle() }
        await step("approval") { try await scenarios.approvalRoundTrip() }
        await step("push") { try await scenarios.push() }
        await step("fanout") { try await scenarios.fanOut() }
        await step("search") { try await scenarios.search() }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(BenchReport(machine: Machine.describe(), rows: rows)), as: UTF8.self))
        } else {
            print("machine: \(Machine.describe())")
            print(BenchRow.table(rows))
        }
    }
}

/// One line of the results table: M's figure beside its baseline.
struct BenchRow: Encodable {
    var scenario: String
    var metric: String
    var m: Double
    var baseline: Double?
    var baselineName: String?
    var unit: String

    /// M's figure divided by the baseline's.
    var ratio: Double? { baseline.map { $0 == 0 ? 0 : m / $0 } }

    enum CodingKeys: String, CodingKey { case scenario, metric, m, baseline, baselineName = "baseline_name", unit, ratio }

    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(scenario, forKey: .scenario)
        try c.encode(metric, forKey: .metric)
        try c.encode(m, forKey: .m)
        try c.encodeIfPresent(baseline, forKey: .baseline)
        try c.encodeIfPresent(baselineName, forKey: .baselineName)
        try c.encode(unit, forKey: .unit)
        try c.encodeIfPresent(ratio, forKey: .ratio)
    }

    /// Renders rows as a Markdown table.
    static func table(_ rows: [BenchRow]) -> String {
        func fmt(_ v: Double) -> String {
            v >= 100 ? String(format: "%.0f", v) : v >= 10 ? String(format: "%.1f", v) : String(format: "%.2f", v)
        }
        var out = "| scenario | metric | M | baseline (same run) | ratio |\n|---|---|---:|---|---:|\n"
        for r in rows {
            let base = r.baseline.map { "\(fmt($0)) \(r.unit) (\(r.baselineName ?? ""))" } ?? "—"
            let ratio = r.ratio.map { String(format: "%.2f×", $0) } ?? "—"
            out += "| \(r.scenario) | \(r.metric) | \(fmt(r.m)) \(r.unit) | \(base) | \(ratio) |\n"
        }
        return out
    }
}

/// The whole result, for `--json`.
struct BenchReport: Encodable {
    var machine: String
    var rows: [BenchRow]
}

/// A short description of the machine the figures come from.
enum Machine {
    static func describe() -> String {
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let model = cpuinfo.split(separator: "\n").first { $0.hasPrefix("model name") }?
            .split(separator: ":", maxSplits: 1).last?.trimmingCharacters(in: .whitespaces) ?? "unknown CPU"
        return "\(model), \(ProcessInfo.processInfo.activeProcessorCount) cores, \(ProcessInfo.processInfo.physicalMemory >> 30) GiB"
    }
}
