import Foundation
import GRDB
import MTestSupport
import Testing
@testable import MTranscript
@testable import mdb

/// A database with one running run; output is appended as an executor would.
private struct Fixture {
    let tmp: TempDir
    let db: MDatabase

    init() throws {
        let tmp = TempDir()
        self.tmp = tmp
        db = try MDatabase(path: tmp.dbPath, create: true)
    }

    @discardableResult
    func run(_ lines: [String], stream: String = "stdout", finish: Bool = false) throws -> Int64 {
        let run = try db.createRun(NewRun(spec: RunSpec(command: "true")))
        if !lines.isEmpty {
            try db.append(runId: run.id, lines.map { NewEvent("output", ["stream": .string(stream), "text": .string($0 + "\n")]) })
        }
        if finish { try db.finishRun(runId: run.id, status: .succeeded, exitCode: 0) }
        return run.id
    }

    func indexAll(batch: Int = Defaults.searchBatchEvents) throws -> [SearchIndexing.Step] {
        var steps: [SearchIndexing.Step] = []
        repeat { steps.append(try SearchIndexing.step(db, batch: batch)) } while !steps.last!.caughtUp
        return steps
    }

    /// Rows in the index's own file, read straight from it.
    func rows() throws -> Int {
        try DatabaseQueue(path: tmp.dbPath + "-search").read { try Int.fetchOne($0, sql: "SELECT count(*) FROM search_text") ?? 0 }
    }
}

@Suite struct SearchIndexTests {
    @Test func theIndexerWorksInBatchesAndFindsTheNewestFirst() throws {
        let f = try Fixture()
        let first = try f.run((0..<25).map { "line \($0) compiling" })
        let second = try f.run(["error: disk full", "compiling done"])
        let steps = try f.indexAll(batch: 10)
        // run.created is no text: 25 + 2 output events + 2 run.created = 29 events, in 3 batches of 10.
        #expect(steps.map(\.events) == [10, 10, 9])
        #expect(steps.map(\.indexed).reduce(0, +) == 27)
        #expect(try f.db.searchCursor() == (try f.db.lastEventId()))
        let hits = try f.db.search("compiling", limit: 5)
        #expect(hits.count == 5)
        #expect(hits.first?.runId == second && hits.first?.seq == 3, "newest first")
        #expect(hits.dropFirst().allSatisfy { $0.runId == first })
        let full = try #require(try f.db.search("disk", limit: 10).first)
        #expect(full.runId == second && full.seq == 2)
        #expect(full.snippet == "error: disk full")
        #expect(full.marks == [7..<11], "the match is marked")
        #expect(try f.db.search("dis", limit: 10).count == 1, "a word's start finds it, as a person types")
        #expect(try f.db.search("DISK Full", limit: 10).count == 1, "any case, every word")
        #expect(try f.db.search("disk nothing", limit: 10).isEmpty)
    }

    @Test func aRestartedIndexerResumesAtItsCursor() throws {
        let f = try Fixture()
        try f.run((0..<30).map { "before \($0)" })
        #expect(try SearchIndexing.step(f.db, batch: 20).events == 20)
        let cursor = try f.db.searchCursor()
        #expect(cursor > 0)
        // A new process opens the same file: the cursor is in the database, not in memory.
        let reopened = try MDatabase(path: f.tmp.dbPath)
        try f.run((0..<5).map { "after \($0)" })
        var total = 0
        while true {
            let step = try SearchIndexing.step(reopened, batch: 20)
            total += step.events
            if step.caughtUp { break }
        }
        #expect(total == (try f.db.lastEventId()) - cursor)
        #expect(try f.rows() == 35, "each output event indexed exactly once")
        #expect(try f.db.search("before", limit: 100).count == 30)
        #expect(try f.db.search("after", limit: 100).count == 5)
    }

    @Test func b64OutputAndAnsiEscapesAreIndexedAsReadableText() throws {
        let f = try Fixture()
        let run = try f.db.createRun(NewRun(spec: RunSpec(command: "true")))
        let bytes: [UInt8] = Array("Ünïcode \u{1B}[31mFAILED\u{1B}[0m".utf8) + [0xFF] + Array(" tail".utf8)
        try f.db.append(runId: run.id, [
            NewEvent("output", ["stream": "stdout", "b64": .string(Data(bytes).base64EncodedString())]),
            NewEvent("output", ["stream": "stderr", "text": "\u{1B}[1;33mwarn\u{1B}[0m:\u{1B}[2Kretry\r\n"]),
            NewEvent("input", ["text": "secretinput", "source": "web"]),
        ])
        _ = try f.indexAll()
        let failed = try #require(try f.db.search("failed", limit: 5).first)
        #expect(failed.seq == 2)
        #expect(failed.snippet == "Ünïcode FAILED\u{FFFD} tail")
        #expect(try f.db.search("unicode", limit: 5).count == 1, "diacritics folded")
        let warn = try #require(try f.db.search("warn retry", limit: 5).first)
        #expect(warn.snippet.hasPrefix("warn:retry"))
        #expect(try f.db.search("31m", limit: 5).isEmpty, "escape sequences are not words")
        #expect(try f.db.search("secretinput", limit: 5).isEmpty, "only output, agent messages and notices are indexed")
    }

    @Test func aBatchOfBigChunksStopsAtItsByteBudget() throws {
        let f = try Fixture()
        let chunk = String(repeating: "bigword ", count: 4_000)  // about 32 KB of data per event
        try f.run(Array(repeating: chunk, count: 10))
        let first = try SearchIndexing.step(f.db, batch: 100, maxBytes: 70_000)
        #expect(first.events == 3 && !first.caughtUp, "run.created and two 32 KB chunks fit in 70 KB, a third chunk does not")
        #expect(first.nextBatch == 3)
        let one = try SearchIndexing.step(f.db, batch: 100, maxBytes: 1)
        #expect(one.events == 1, "a chunk larger than the budget still goes, alone")
        let rest = try f.indexAll()
        #expect(rest.last?.caughtUp == true)
        #expect(try f.rows() == 10)
    }

    @Test func aHitShowsTheLineWithTheMostWordsCutAroundTheMatch() throws {
        let f = try Fixture()
        let long = String(repeating: "x ", count: 100) + "Needle HAYSTACK" + String(repeating: " y", count: 100)
        try f.run(["needle only\n" + long + "\nneedle haystack again"])
        _ = try f.indexAll()
        let hit = try #require(try f.db.search("needle hay", limit: 5).first)
        #expect(hit.snippet.hasPrefix("…") && hit.snippet.hasSuffix("…"), "a long line is cut around its first match")
        #expect(hit.snippet.count <= SearchSnippet.windowCharacters + 2)
        let utf16 = Array(hit.snippet.utf16)
        let marked = hit.marks.map { String(decoding: utf16[$0], as: UTF16.self) }
        #expect(marked == ["Needle", "HAYSTACK"], "the first line holding every word, its words marked")
    }

    @Test func gcDeletesARunsIndexRowsWithItsEvents() throws {
        let f = try Fixture()
        let old = try f.run((0..<50).map { "oldrun \($0)" }, finish: true)
        let kept = try f.run(["keptrun"], finish: true)
        _ = try f.indexAll()
        #expect(try f.db.search("oldrun", limit: 100).count == 50)
        // gc's batches, then the run's row (which takes what is left).
        #expect(try f.db.deleteEvents(ofFinishedRun: old, limit: 20) == 20)
        #expect(try f.db.search("oldrun", limit: 100).count == 31, "the batch's 20 rows went with their events (19 output + run.created)")
        #expect(try f.db.deleteFinishedRun(old))
        #expect(try f.db.search("oldrun", limit: 100).isEmpty)
        #expect(try f.db.search("keptrun", limit: 100).map(\.runId) == [kept])
        #expect(try f.rows() == 1)
    }

    @Test func anEventDeletedBetweenReadAndWriteIsNotIndexed() throws {
        let f = try Fixture()
        let run = try f.run(["vanishing words"], finish: true)
        let (after, events) = try f.db.searchBacklog(limit: 100)
        #expect(try f.db.deleteFinishedRun(run))
        #expect(try f.db.indexSearchDocuments(EventText.searchDocuments(events), after: after, through: events.last!.id))
        #expect(try f.rows() == 0, "no row outlives its event")
        #expect(!(try f.db.indexSearchDocuments([], after: after, through: events.last!.id)), "a stale cursor changes nothing")
    }

    @Test func anyTypedTextIsAValidQuery() throws {
        let f = try Fixture()
        try f.run(["say \"hi\" (x) -y OR z* a:b NEAR(c d) ^e"])
        _ = try f.indexAll()
        for query in ["\"", "\"hi", "(x", "-y", "OR", "z*", "a:b", "NEAR(c d)", "^e", "*", "AND OR NOT", "\u{1F600}", "'; DROP TABLE runs; --", "a\u{0}b", "x\u{7}\u{1B}[31m"] {
            #expect(throws: Never.self, "\(query)") { _ = try f.db.search(query, limit: 10) }
        }
        #expect(try f.db.search("\"hi\"", limit: 10).count == 1)
        #expect(try f.db.search("NEAR(c d)", limit: 10).count == 1)
        for empty in ["  \n ", "\u{0}", "\u{1}\u{2}\u{3}"] {
            #expect(throws: MDBError.self) { _ = try f.db.search(empty, limit: 10) }
        }
    }
}

@Suite struct SearchFileTests {
    @Test func indexWritesNeverWaitForTheBusWriteLockNorOutputForTheIndexs() throws {
        let f = try Fixture()
        try f.run((0..<300).map { "line \($0) of a busy run" })
        // Another process holds the bus's write lock (as the shared writer does between its rounds).
        let bus = try DatabaseQueue(path: f.tmp.dbPath)
        try bus.writeWithoutTransaction { db in
            try db.execute(sql: "BEGIN IMMEDIATE")
            defer { try? db.execute(sql: "ROLLBACK") }
            let started = Date()
            let steps = try f.indexAll(batch: 100)
            #expect(steps.map(\.events).reduce(0, +) == 301, "every event indexed (300 lines + run.created)")
            #expect(Date().timeIntervalSince(started) < 2, "the index's writes took no lock of the bus")
            #expect(try f.db.search("busy", limit: 500).count == 300)
        }
        // And the other way: the index's file locked, output is still committed at once.
        let index = try DatabaseQueue(path: f.tmp.dbPath + "-search")
        try index.writeWithoutTransaction { db in
            try db.execute(sql: "BEGIN IMMEDIATE")
            defer { try? db.execute(sql: "ROLLBACK") }
            let started = Date()
            try f.run(["committed while the index is locked"])
            #expect(Date().timeIntervalSince(started) < 2)
        }
    }

    @Test func anIndexOfAnotherDatabaseOrOfALaterCopyIsRebuilt() throws {
        let a = try Fixture()
        try a.run(["written to database a"])
        _ = try a.indexAll()
        #expect(try a.db.search("written", limit: 10).count == 1)
        try DatabaseQueue(path: a.tmp.dbPath + "-search").writeWithoutTransaction { _ = try $0.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }

        // Another database: the index file copied beside it indexes nothing of it.
        let b = TempDir()
        let other = try MDatabase(path: b.dbPath, create: true)
        try FileManager.default.copyItem(atPath: a.tmp.dbPath + "-search", toPath: b.dbPath + "-search")
        #expect(try other.searchCursor() == 0)
        #expect(try other.search("written", limit: 10).isEmpty)

        // An older copy of the same database (its events end before the cursor): rebuilt too.
        let c = TempDir()
        try a.db.backup(to: c.dbPath)
        try a.run(["more lines after the copy"])
        _ = try a.indexAll()
        try DatabaseQueue(path: a.tmp.dbPath + "-search").writeWithoutTransaction { _ = try $0.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
        try FileManager.default.copyItem(atPath: a.tmp.dbPath + "-search", toPath: c.dbPath + "-search")
        let older = try MDatabase(path: c.dbPath)
        #expect(try older.searchCursor() == 0, "the index had passed the copy's last event")
        _ = try SearchIndexing.step(older)
        #expect(try older.search("written", limit: 10).count == 1)
        #expect(try older.search("after", limit: 10).isEmpty)
    }
}
