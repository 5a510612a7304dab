import ArgumentParser
import Foundation
import mdb

/// `mcli init`: creates the database (or brings an existing one up to date).
struct Init: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Create the database, or migrate an existing one.")

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        try await runCommand {
            let existed = FileManager.default.fileExists(atPath: global.databasePath)
            let db = try MDatabase(path: global.databasePath, create: true)
            let versions = try db.schemaVersions()
            if global.json {
                Output.line(Output.json(InitResult(path: global.databasePath, created: !existed,
                                                   schema_version: versions.last ?? 0)))
            } else {
                Output.line("\(existed ? "database ready" : "created") \(global.databasePath) (schema version \(versions.last ?? 0))")
            }
        }
    }

    private struct InitResult: Encodable {
        var path: String
        var created: Bool
        var schema_version: Int
    }
}
