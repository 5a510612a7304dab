import Foundation
import MTestSupport
import Testing
@testable import mdb

/// The raw connections (change watch, checkpointer, request checks) report their own errors.
@Suite struct RawStatementTests {
    @Test func aWatchOnAMissingDatabaseSaysWhichFileCannotBeOpened() throws {
        let tmp = TempDir()
        let missing = tmp.path + "/absent/m.db"
        #expect {
            _ = try ChangeWatch(path: missing)
        } throws: { error in
            guard case RawStatementError.cannotOpen(let path, _) = error else { return false }
            return path == missing && "\(error)".contains("check that the file exists")
        }
    }

    @Test func aQueryOnATableThatDoesNotExistCannotBePrepared() throws {
        let (tmp, _) = try freshDatabase()
        #expect {
            _ = try RawStatement(path: tmp.dbPath, sql: "SELECT * FROM no_such_table")
        } throws: { error in
            guard case RawStatementError.cannotPrepare(let path, let message) = error else { return false }
            return path == tmp.dbPath && message.contains("no_such_table")
        }
    }
}
