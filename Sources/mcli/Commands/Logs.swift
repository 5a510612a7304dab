import ArgumentParser
import Foundation
import mdb

/// `mcli logs ID`: a run's events; output as the agent printed it.
struct Logs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a run's output and events.",
        discussion: "Output goes to stdout/stderr as the agent printed it; other events are lines starting with '» '. --json prints one wire event per line.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The run's id.")
    var id: Int64

    @Option(help: "Only events with seq greater than this.")
    var after: Int64 = 0

    @Flag(help: "Keep printing new events until the run finishes.")
    var follow = false

    func run() async throws {
        try await runCommand {
            guard after >= 0 else { throw CLIError(description: "--after must be 0 or more") }
            let db = try global.open()
            _ = try db.run(id)
            let follower = LogFollower(db: db, runId: id, json: global.json)
            if follow {
                _ = try await follower.follow(afterSeq: after)
            } else {
                _ = try follower.printAvailable(afterSeq: after)
            }
        }
    }
}
