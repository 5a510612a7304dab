import ArgumentParser
import Foundation
import mdb

/// `mexec executor`: runs one run. Launched detached by the daemon, not by people.
struct ExecutorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "executor", abstract: "Execute one claimed run (launched by the mexec daemon).", shouldDisplay: false)

    @OptionGroup var options: ExecOptions

    @Option(name: .long, help: "The run to execute.")
    var run: Int64

    @Option(name: .customLong("lease-holder"), help: "The lease holder id the daemon handed the run to.")
    var leaseHolder: String

    func run() async throws {
        let logger = makeLogger("mexec.executor")
        let grace = options.cancelGraceMilliseconds
        let config = ExecutorConfig(
            databasePath: options.databasePath, runId: run, holder: leaseHolder,
            workspacesRoot: options.workspacesRoot, leaseSeconds: options.leaseSeconds,
            heartbeatMilliseconds: options.heartbeat, outputCapBytes: options.outputCapBytes,
            cancelInterruptGraceMilliseconds: grace ?? Defaults.cancelInterruptGraceMilliseconds,
            cancelTerminateGraceMilliseconds: grace ?? Defaults.cancelTerminateGraceMilliseconds,
            sandboxRead: options.sandboxRead, sandboxWrite: options.sandboxWrite)
        let executor: Executor
        do { executor = try Executor(config: config, logger: logger) } catch {
            logger.error("cannot open the database: \(error)")
            throw ExitCode(2)
        }
        let code = await executor.run()
        if code != 0 { throw ExitCode(code) }
    }
}
