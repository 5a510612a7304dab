import Foundation
import MTestSupport
import Testing
import magent
import mdb
@testable import mexec
#if canImport(Glibc)
import Glibc
#endif

/// The shared writer reading agents' pipes itself (`DelegatedOutput`,
/// `WriterLink`): everything stored once, in order, whatever happens to the
/// writer, whichever way the output reaches it (`OutputPath`).
@Suite struct DelegatedOutputTests {
    /// A harness whose daemon serves the writer already (a run created earlier would not delegate).
    private func harnessWithWriter(_ args: [String] = []) throws -> (MexecHarness, Process) {
        let h = try MexecHarness(args: args)
        let daemon = try h.start()
        let path = try #require(Defaults.outputWriterSocketPath(databasePath: h.tmp.dbPath))
        #expect(try eventually(timeout: 20) {
            guard let fd = try? UnixSocket.connect(path: path) else { return false }
            close(fd)
            return true
        }, "\(h.logs)")
        return (h, daemon)
    }

    @Test(arguments: OutputPath.allCases)
    func theWriterReadsARunsOutputAndStoresAllOfItInOrder(_ path: OutputPath) throws {
        let (h, _) = try harnessWithWriter()
        let id = try path.create(h, "seq 1 50000; echo done >&2")
        #expect(try h.finished(id).status == .succeeded, "\(h.logs)")
        try path.expectOutput(h, id, stdout: Array((1...50_000).map { "\($0)\n" }.joined().utf8), stderr: Array("done\n".utf8))
        let seqs = try h.events(id).map(\.seq)
        #expect(seqs == Array(1...Int64(seqs.count)), "seq must stay contiguous")
        #expect(h.executorLog(id).contains("the shared writer reads this run's \(path.streams)"), "\(h.logs)")
        #expect(h.logs.contains("run \(id): reading its \(path.streams) here"), "\(h.logs)")
        #expect(!h.executorLog(id).contains("took this run's output back"), "\(h.logs)")
    }

    @Test(arguments: OutputPath.allCases)
    func killingTheWriterMidFloodLosesNothingAndStoresNothingTwice(_ path: OutputPath) throws {
        let (h, first) = try harnessWithWriter()
        // 200,000 lines in 200 bursts: the kill lands while output flows.
        let id = try path.create(h, "for i in $(seq 0 199); do seq $((i*1000+1)) $((i*1000+1000)); sleep 0.01; done")
        #expect(try h.waitForOutput(id, containing: "\n20000\n", stream: path.stdout), "\(h.logs)")
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        try h.start()
        #expect(try h.finished(id).status == .succeeded, "\(h.logs)")
        #expect(try h.text(id, stream: path.stdout) == (1...200_000).map { "\($0)\n" }.joined(), "every line exactly once")
        let log = h.executorLog(id)
        #expect(log.contains("the shared writer reads this run's \(path.streams)"), "\(h.logs)")
        #expect(log.contains("the shared writer let go of this run's output"), "\(h.logs)")
    }

    @Test(arguments: OutputPath.allCases)
    func aGracefulRestartOfTheWriterMidFloodGivesTheRunBackWhole(_ path: OutputPath) throws {
        let (h, first) = try harnessWithWriter()
        let id = try path.create(h, "for i in $(seq 0 199); do seq $((i*1000+1)) $((i*1000+1000)); sleep 0.01; done")
        #expect(try h.waitForOutput(id, containing: "\n20000\n", stream: path.stdout), "\(h.logs)")
        first.terminate()
        first.waitUntilExit()
        #expect(first.terminationStatus == 0)
        try h.start()
        #expect(try h.finished(id).status == .succeeded, "\(h.logs)")
        #expect(try h.text(id, stream: path.stdout) == (1...200_000).map { "\($0)\n" }.joined(), "every line exactly once")
        #expect(h.executorLog(id).contains("the shared writer let go of this run's output"), "\(h.logs)")
    }

    @Test(arguments: OutputPath.allCases)
    func aCharacterCutBetweenTwoWritesIsStoredWholeAndAnUnfinishedOneAtTheEndAsItsBytes(_ path: OutputPath) throws {
        let (h, _) = try harnessWithWriter()
        // "é" is C3 A9: its first byte comes alone; "€" (E2 82 AC) never gets its last byte.
        let id = try path.create(h, #"printf 'caf\303'; sleep 0.3; printf '\251\n'; printf '\342\202'"#)
        #expect(try h.finished(id).status == .succeeded, "\(h.logs)")
        try path.expectOutput(h, id, stdout: Array("café\n".utf8) + [0xE2, 0x82])
        let outputs = try h.events(id).filter { $0.type == EventType.output }.map(\.dataValue)
        #expect(outputs.compactMap { $0["text"]?.stringValue }.joined() == "café\n", "the é is never split")
        #expect(outputs.compactMap { $0["b64"]?.stringValue } == ["4oI="], "only the unfinished character goes as bytes")
    }

    @Test(arguments: OutputPath.allCases)
    func theCapStopsStoringWhileTheAgentKeepsPrinting(_ path: OutputPath) throws {
        let (h, _) = try harnessWithWriter(["--output-cap-bytes", "1000"])
        let id = try path.create(h, "seq 1 100000; echo after-cap >&2")
        #expect(try h.finished(id).status == .succeeded, "\(h.logs)")
        let stored = try path.output(h, id).stdout.count + path.output(h, id).stderr.count
        #expect(stored == 1000, "exactly the cap is kept")
        let notices = try h.events(id).filter { $0.type == EventType.notice }.compactMap { $0.dataValue["text"]?.stringValue }
        #expect(notices.count == 1 && notices[0].contains("output cap of 1000 bytes reached"), "\(notices)")
        #expect(h.executorLog(id).contains("the shared writer reads this run's \(path.streams)"), "\(h.logs)")
    }

    @Test(arguments: OutputPath.allCases)
    func aLongLineOfWideCharactersIsCutIntoEventsBetweenCharacters(_ path: OutputPath) throws {
        let (h, _) = try harnessWithWriter()
        // 100,000 two-byte characters without a newline: more than one event can hold.
        let id = try path.create(h, "yes é | head -n 100000 | tr -d '\\n'; echo")
        #expect(try h.finished(id).status == .succeeded, "\(h.logs)")
        let outputs = try h.events(id).filter { $0.type == EventType.output }.map(\.dataValue)
        let texts = outputs.compactMap { $0["text"]?.stringValue }
        #expect(texts.count == outputs.count, "every piece is text: no character was cut")
        #expect(texts.allSatisfy { $0.utf8.count <= Defaults.outputEventMaxBytes })
        #expect(texts.count > 3)
        #expect(texts.joined() == String(repeating: "é", count: 100_000) + "\n")
    }
}
