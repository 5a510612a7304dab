import ArgumentParser
import Foundation
import mdb

/// Options every command shares: where the database is and how to print.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: "Path of the database (default: $M_DB, else ./m.db).")
    var db: String?

    @Flag(name: .long, help: "Print JSON for scripts instead of text for people.")
    var json = false

    /// The resolved database path.
    var databasePath: String { Defaults.databasePath(explicit: db) }

    /// Opens the existing database (never creates one by accident).
    func open() throws -> MDatabase {
        try MDatabase(path: databasePath)
    }
}
