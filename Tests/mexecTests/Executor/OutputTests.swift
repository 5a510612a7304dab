import Foundation
import MTestSupport
import Testing
import mdb

/// An agent's output stored once, in order, exactly as written, whichever
/// way it reaches the writer (`OutputPath`).
@Suite struct OutputTests {
    @Test func hundredThousandInterleavedLinesAreStoredOnceInOrderPerStream() throws {
        let h = try MexecHarness()
        try h.start()
        let count = 100_000
        // awk writes both streams; the flush every 50 lines interleaves them in the pipes.
        let id = try h.create(#"awk 'BEGIN { for (i = 1; i <= \#(count); i++) { print "out " i; print "err " i > "/dev/stderr"; if (i % 50 == 0) { fflush() } } }'"#)
        let run = try h.finished(id, timeout: 120)
        #expect(run.status == .succeeded, "\(h.logs)")
        let out = try h.text(id, stream: "stdout").split(separator: "\n", omittingEmptySubsequences: false)
        let err = try h.text(id, stream: "stderr").split(separator: "\n", omittingEmptySubsequences: false)
        #expect(out.count == count + 1 && out.last == "")
        #expect(err.count == count + 1 && err.last == "")
        #expect(out.dropLast().elementsEqual((1...count).map { "out \($0)" }[...].map { Substring($0) }))
        #expect(err.dropLast().elementsEqual((1...count).map { "err \($0)" }[...].map { Substring($0) }))
        // Both streams really were interleaved in the event log, not stored one after the other.
        let streams = try h.events(id).filter { $0.type == EventType.output }.map { $0.dataValue["stream"]?.stringValue ?? "" }
        let switches = zip(streams, streams.dropFirst()).filter { $0 != $1 }.count
        #expect(switches > 10)
        #expect(try h.events(id).last?.type == EventType.runFinished)
    }

    @Test(arguments: OutputPath.allCases)
    func invalidUTF8AndNulBytesRoundTripExactly(_ path: OutputPath) throws {
        let h = try MexecHarness()
        try h.start()
        // An invalid byte, NULs, and a two-byte character split across two writes (then, apart
        // from it, NUL on stderr: a PTY merges the streams, and a NUL makes its chunk bytes).
        let id = try path.create(h, #"printf 'a\377b\000c\000'; printf 'h\303'; sleep 0.2; printf '\251llo\n'; sleep 0.2; printf 'e\000' >&2"#)
        let run = try h.finished(id)
        #expect(run.status == .succeeded, "\(h.logs)")
        try path.expectOutput(h, id, stdout: [0x61, 0xFF, 0x62, 0x00, 0x63, 0x00] + Array("héllo\n".utf8), stderr: [0x65, 0x00])
        // The character split between two writes arrives whole, as text ("é…"), not as two b64 halves.
        let texts = try h.events(id).compactMap { $0.dataValue["text"]?.stringValue }
        #expect(texts.contains { $0.contains("éllo") })
    }

    @Test(arguments: OutputPath.allCases)
    func tenMegabyteLineKeepsExecutorMemoryBounded(_ path: OutputPath) throws {
        let h = try MexecHarness()
        try h.start()
        let size = 10_000_000
        // The agent then waits for input, so the executor is measured while alive.
        let id = try path.create(h, "head -c \(size) /dev/zero | tr '\\000' 'a'; echo; read done")
        #expect(try eventually(timeout: 120, interval: 0.05) { try h.output(id, stream: path.stdout).count == size + 1 }, "\(h.logs)")
        let executor = try #require(try h.db.processes(runId: id).executorPid)
        let peakKB = try #require(Proc.statusKB(executor, "VmHWM"))
        #expect(peakKB < 100 * 1024, "executor peak RSS \(peakKB) kB")
        try Exec.run("mcli", ["input", "--db", h.tmp.dbPath, String(id), "bye"])
        #expect(try h.finished(id).status == .succeeded)
        let bytes = try h.output(id, stream: path.stdout)
        #expect(bytes.count == size + 1 && bytes.dropLast().allSatisfy { $0 == 0x61 } && bytes.last == 0x0A)
        // Split into events no longer than the limit.
        let longest = try h.events(id).compactMap { $0.dataValue["text"]?.stringValue?.utf8.count }.max() ?? 0
        #expect(longest <= Defaults.outputEventMaxBytes)
    }

    @Test func ptyModeMergesOutputOnATerminal() throws {
        let h = try MexecHarness()
        try h.start()
        let id = try h.create("test -t 0 && test -t 1 && echo tty-yes; tty; echo to-stderr >&2; stty size", pty: true)
        let run = try h.finished(id)
        #expect(run.status == .succeeded, "\(h.logs)")
        let text = try h.text(id, stream: "pty")
        #expect(text.contains("tty-yes"))
        // (Confined, the terminal has no name under the sandbox's own /dev: `tty` may say /dev/console.)
        #expect(!text.contains("not a tty"))
        #expect(text.contains("to-stderr"))
        #expect(text.contains("\(Defaults.ptyRows) \(Defaults.ptyColumns)"))
        #expect(try h.output(id, stream: "stdout").isEmpty && h.output(id, stream: "stderr").isEmpty)
    }

    @Test(arguments: OutputPath.allCases)
    func theOutputCapEndsInANoticeAndTheRunStillFinishes(_ path: OutputPath) throws {
        let h = try MexecHarness(args: ["--output-cap-bytes", "1000"])
        try h.start()
        let id = try path.create(h, "seq 1 100000; echo after-cap >&2")
        let run = try h.finished(id)
        #expect(run.status == .succeeded, "\(h.logs)")
        #expect(try h.output(id, stream: path.stdout).count == 1000, "exactly the cap is kept")
        let notice = try h.events(id).first { $0.type == EventType.notice }?.dataValue["text"]?.stringValue ?? ""
        #expect(notice.contains("output cap of 1000 bytes reached"))
        #expect(try h.db.storedOutput(runId: id).capped, "the run's column says so too")
    }
}
