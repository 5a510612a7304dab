import ArgumentParser
import Foundation
import mdb

/// `mcli`: every operator and agent-side command of M.
@main
struct MCLI: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mcli",
        abstract: "Launch, watch and steer M's agent runs.",
        discussion: "Every command takes --db PATH (or M_DB; default ./m.db) and --json for scripts.",
        subcommands: [
            Init.self, Run.self, Runs.self, Show.self, Logs.self, InputCommand.self, Cancel.self,
            Approvals.self, Approve.self, Reject.self, Ask.self, TokenCommand.self, Up.self, Pair.self,
            Propose.self, DiffCommand.self, Diffs.self, Hook.self, Notify.self, Gc.self, Backup.self, Restore.self, Doctor.self, Export.self,
        ]
    )
}
