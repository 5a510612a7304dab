import ArgumentParser
import Foundation
import mdb

/// `mcli doctor [--json]`: checks the database, the processes behind the runs,
/// the disk, tokens, file modes, how mweb is reachable, the sandbox and the
/// notifiers; says what to do about each problem and exits 1 if any needs attention.
struct Doctor: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check M's health and setup; each problem comes with what to do. Exits 1 when something needs attention.",
        discussion: """
            Checks: integrity (quick_check), the WAL's size, expired leases and orphaned executors, free space \
            for the workspaces and the database, admin tokens left unused, file modes, whether mweb serves plain \
            HTTP on a public address, bubblewrap, and failing notifiers. Safe while M runs: it changes nothing.
            """)

    @OptionGroup var global: GlobalOptions

    @Option(name: .long, help: "Root of the per-run workspaces (default: $M_WORKSPACES, else mexec's default for this database).")
    var workspaces: String?

    @Option(name: .customLong("wal-limit-mb"), help: ArgumentHelp("Report a WAL larger than this many MiB.", visibility: .hidden))
    var walLimitMB = Int(DoctorDefaults.walLimitBytes >> 20)

    func run() async throws {
        let needsAttention: Bool
        do {
            let environment = ProcessInfo.processInfo.environment
            let databasePath = global.databasePath
            guard FileManager.default.fileExists(atPath: databasePath) else { throw MDBError.databaseMissing(path: databasePath) }
            var checkup = Checkup(databasePath: databasePath,
                                  workspacesRoot: workspaces ?? environment[Defaults.workspacesEnvironmentVariable].flatMap { $0.isEmpty ? nil : $0 }
                                      ?? Defaults.workspacesRoot(databasePath: databasePath, environment: environment),
                                  searchPath: environment["PATH"] ?? "/usr/bin:/bin")
            checkup.walLimitBytes = Int64(max(1, walLimitMB)) << 20
            let findings = try await offThePool { [checkup] in checkup.run() }
            needsAttention = findings.contains(where: \.needsAttention)
            if global.json {
                Output.line(JSONValue.object([("ok", .bool(!needsAttention)), ("findings", .array(findings.map(\.json)))]).text)
            } else {
                Output.line(findings.map(\.text).joined(separator: "\n"))
                let problems = findings.filter(\.needsAttention).count
                Output.line(problems == 0 ? "all good" : "\(problems) finding(s) need attention")
            }
        } catch let error as MDBError {
            Output.error("mcli: \(error.description)")
            throw ExitCode(2)
        }
        if needsAttention { throw ExitCode(1) }
    }
}
