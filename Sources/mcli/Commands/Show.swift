import ArgumentParser
import Foundation
import mdb

/// `mcli show ID`: one run's details.
struct Show: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show one run.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The run's id.")
    var id: Int64

    func run() async throws {
        try await runCommand {
            let run = try global.open().run(id)
            if global.json { Output.line(Output.json(run)); return }
            let spec = run.parsedSpec
            let fields: [(String, String?)] = [
                ("id", String(run.id)), ("title", run.title), ("agent", run.agent), ("status", run.status.rawValue),
                ("exit code", run.exitCode.map(String.init)),
                ("command", spec.command ?? spec.argv?.joined(separator: " ")),
                ("pty", spec.pty == true ? "yes" : nil), ("repo", run.repoUrl), ("ref", run.repoRef),
                ("base commit", run.baseCommit), ("workspace", run.workspace), ("sandbox", run.sandboxMode + (run.confinement.map {
                    $0 == "none" ? ", NOT confined (warning)" : ", confined with \($0)" } ?? "")),
                ("network", spec.network == false ? "none" : nil),
                ("limits", Self.describe(spec.limits)),
                ("sandbox reads", spec.sandboxPaths?.read?.joined(separator: " ")),
                ("sandbox writes", spec.sandboxPaths?.write?.joined(separator: " ")),
                ("created", run.createdAt), ("started", run.startedAt), ("finished", run.finishedAt),
                ("worker", run.workerId), ("lease until", run.leaseExpiresAt),
                ("cancel requested", run.cancelRequestedAt), ("events", String(run.lastSeq)),
            ]
            for (name, value) in fields {
                if let value { Output.line(name.padding(toLength: 17, withPad: " ", startingAt: 0) + value) }
            }
        }
    }

    /// "timeout 60 s, output 5000 bytes, memory 256 MiB, 64 processes", or nil without limits.
    static func describe(_ limits: RunLimits?) -> String? {
        guard let limits else { return nil }
        let parts = [limits.timeoutSeconds.map { "timeout \($0) s" }, limits.outputBytes.map { "output \($0) bytes" },
                     limits.memoryMB.map { "memory \($0) MiB" }, limits.pids.map { "\($0) processes" }].compactMap { $0 }
        return parts.isEmpty ? nil : parts.joined(separator: ", ")
    }
}
