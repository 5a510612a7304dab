import Foundation
import MTestSupport
import Testing
@testable import mdb

@Suite struct CheckpointerTests {
    @Test func itCheckpointsOnlyAfterCommitsAndEmptiesTheWALForTheNextWriter() throws {
        let (tmp, db) = try freshDatabase()
        defer { withExtendedLifetime(tmp) {} }
        let checkpointer = try Checkpointer(path: db.path)
        _ = try checkpointer.checkpointIfChanged()
        #expect(try checkpointer.checkpointIfChanged() == nil, "nothing committed since the last call")
        let run = try db.createRun(NewRun(spec: RunSpec(command: "a")))
        _ = try db.claimNextRun(workerId: "w")
        for n in 1...50 {
            _ = try db.appendOutputBatches([OutputBatch(runId: run.id, workerId: "w", number: Int64(n), events: [output("line \(n)")])])
        }
        let copied = try #require(try checkpointer.checkpointIfChanged())
        #expect(copied > 0, "the frames of 50 commits are copied into the database file")
        #expect(try checkpointer.checkpointIfChanged() == nil)
        // The data is all there, read through a fresh connection.
        #expect(try MDatabase(path: db.path).events(runId: run.id, afterSeq: 0).count == 51)
    }
}
