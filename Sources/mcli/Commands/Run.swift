import ArgumentParser
import Foundation
import mdb

/// `mcli run "CMD"`: queues a command run (mexec executes it).
struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Queue a run of a shell command.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "Shell command, run with /bin/sh -c in the run's workspace.")
    var command: String

    @Option(help: "A title for people (default: the command).")
    var title: String?

    @Flag(help: "Run under a pseudo-terminal (merged output, for interactive programs).")
    var pty = false

    @Option(help: "Clone this git repository (URL or local path) as the workspace.")
    var repo: String?

    @Option(help: "Branch, tag or commit to check out (with --repo).")
    var ref: String?

    @Option(help: "A local git checkout (absolute path) that approved diffs are also applied to.")
    var target: String?

    @Option(help: "Stop the run after this many seconds (it ends failed, with a notice).")
    var timeout: Int?

    @Option(name: .customLong("output-limit"), help: "Keep this many bytes of output, then stop the run (it ends failed, with a notice).")
    var outputLimit: Int64?

    @Option(name: .customLong("memory-mb"), help: "Memory of the agent's processes together, in MiB; past it the run is stopped.")
    var memoryMB: Int?

    @Option(help: "Processes of the agent together; a fork past it stops the run.")
    var pids: Int?

    @Option(name: .customLong("sandbox-read"), help: "A path this run's confined agent may also read (repeatable).")
    var sandboxRead: [String] = []

    @Option(name: .customLong("sandbox-write"), help: "A path this run's confined agent may also read and write (repeatable).")
    var sandboxWrite: [String] = []

    @Flag(help: "Stay and print the run's output until it finishes; exit with its exit code.")
    var follow = false

    func run() async throws {
        try await runCommand {
            let db = try global.open()
            let limits = RunLimits(timeoutSeconds: timeout, outputBytes: outputLimit, memoryMB: memoryMB, pids: pids)
            let paths = SandboxPaths(read: sandboxRead.isEmpty ? nil : sandboxRead.map(absolute),
                                     write: sandboxWrite.isEmpty ? nil : sandboxWrite.map(absolute))
            let new = NewRun(title: title ?? command, agent: "command",
                             spec: RunSpec(command: command, pty: pty ? true : nil, target: target,
                                           limits: limits == RunLimits() ? nil : limits,
                                           sandboxPaths: paths == SandboxPaths() ? nil : paths),
                             repoUrl: repo, repoRef: ref)
            let run = try db.createRun(new)
            if global.json && !follow {
                Output.line(Output.json(run))
            } else if !global.json {
                Output.error("run \(run.id) queued")
            }
            if follow {
                let final = try await LogFollower(db: db, runId: run.id, json: global.json).follow(afterSeq: 0)
                throw ExitCode(Int32(final.exitCode ?? (final.status == .succeeded ? 0 : 1)))
            }
        }
    }

    private func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }
}
