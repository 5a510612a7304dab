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

    @Flag(help: "Stay and print the run's output until it finishes; exit with its exit code.")
    var follow = false

    func run() async throws {
        try await runCommand {
            let db = try global.open()
            let new = NewRun(title: title ?? command, agent: "command",
                             spec: RunSpec(command: command, pty: pty ? true : nil, target: target,
                                           limits: timeout.map { RunLimits(timeoutSeconds: $0) }),
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
}
