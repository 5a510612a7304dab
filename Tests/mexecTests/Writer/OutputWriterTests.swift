import CProcess
import Foundation
import MTestSupport
import Testing
import magent
import mdb
@testable import mexec
#if canImport(Glibc)
import Glibc
#endif

@Suite struct OutputWriterTests {
    private func writerAnswers(_ h: MexecHarness) -> Bool {
        guard let path = Defaults.outputWriterSocketPath(databasePath: h.tmp.dbPath),
              let fd = try? UnixSocket.connect(path: path) else { return false }
        close(fd)
        return true
    }

    private func daemonLogs(_ h: MexecHarness) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: h.tmp.path)) ?? [])
            .filter { $0.hasPrefix("daemon-") }.sorted()
            .map { (try? String(contentsOfFile: h.tmp.file($0), encoding: .utf8)) ?? "" }
    }

    @Test func concurrentRunsStoreTheirOutputThroughTheDaemonsWriterCompleteAndInOrder() throws {
        let h = try MexecHarness(args: ["--concurrency", "4"])
        try h.start()
        let lines = 400
        let ids = try (0..<4).map { run in
            try h.create("i=0; while [ $i -lt \(lines) ]; do i=$((i+1)); echo run\(run) line $i; done; echo done >&2")
        }
        for (run, id) in ids.enumerated() {
            #expect(try h.finished(id).status == .succeeded, "\(h.logs)")
            #expect(try h.text(id) == (1...lines).map { "run\(run) line \($0)\n" }.joined())
            #expect(try h.text(id, stream: "stderr") == "done\n")
            let seqs = try h.events(id).map(\.seq)
            #expect(seqs == Array(1...Int64(seqs.count)), "seq must stay contiguous")
            #expect(h.executorLog(id).contains("the shared writer reads this run's stdout and stderr"), "\(h.logs)")
            // The run's columns count what its events hold.
            #expect(try h.db.storedOutput(runId: id) == StoredOutput(bytes: OutputCounts(stdout: Int64(try h.output(id, stream: "stdout").count),
                                                                                     stderr: 5)))
        }
    }

    @Test func aProcessThatIsNotTheRunsExecutorCannotWriteItsOutput() throws {
        // The agent's uid could reach the socket; knowing the run and its holder is not enough.
        let (h, id, holder, fd) = try strangerBesideARunningRun()
        defer { close(fd) }
        let forged = WriterMessage.events(batch: 1, events: [WireEvent(NewEvent(EventType.output, ["stream": "stdout", "text": "forged\n"]))])
        #expect(UnixSocket.writeAll(fd: fd, WriterProtocol.frame(WriterMessage.hello(version: WriterProtocol.version, runId: id, workerId: holder))
                                            + WriterProtocol.frame(forged)))
        expectRefused(fd, runId: id, "the hello before the events is refused")
        #expect(try h.text(id) == "ready\n")
        #expect(try h.db.storedOutputBatch(runId: id) == 0)
        try h.db.requestCancel(runId: id)
        #expect(try h.finished(id).status == .canceled)
    }

    @Test func aProcessThatIsNotTheRunsExecutorCannotHandItsPipesToTheWriter() throws {
        let (h, id, holder, fd) = try strangerBesideARunningRun()
        defer { close(fd) }
        // A pipe of our own, offered as the run's stdout: its bytes must never become the run's output.
        var pipe: [Int32] = [-1, -1], sink: [Int32] = [-1, -1]
        #expect(Glibc.pipe(&pipe) == 0 && Glibc.pipe(&sink) == 0)
        defer { (pipe + sink).forEach { close($0) } }
        _ = write(pipe[1], "forged\n", 7)
        let hello = WriterProtocol.frame(WriterMessage.hello(version: WriterProtocol.version, runId: id, workerId: holder))
        let delegation = hello + WriterProtocol.frame(WriterMessage.delegate(streams: ["stdout"], consumed: [0], capBytes: 1 << 20))
        #expect(delegation.withUnsafeBytes { m_send_with_fds(fd, $0.baseAddress, UInt($0.count), [pipe[0], sink[1]], 2) } == delegation.count)
        expectRefused(fd, runId: id, "the hello before the delegation is refused")
        var left = [UInt8](repeating: 0, count: 16)
        _ = fcntl(pipe[0], F_SETFL, O_NONBLOCK)
        #expect(read(pipe[0], &left, 16) == 7, "the writer did not touch the offered pipe")
        #expect(try h.text(id) == "ready\n")
        try h.db.requestCancel(runId: id)
        #expect(try h.finished(id).status == .canceled)
    }

    @Test func aConnectionSendingDescriptorsNoDelegationAskedForIsClosed() throws {
        let h = try MexecHarness()
        try h.start()
        let path = try #require(Defaults.outputWriterSocketPath(databasePath: h.tmp.dbPath))
        #expect(try eventually(timeout: 20) { writerAnswers(h) }, "\(h.logs)")
        let fd = try UnixSocket.connect(path: path)
        defer { close(fd) }
        let null = open("/dev/null", O_RDONLY)
        defer { close(null) }
        // Ten descriptors at a time with a byte each, and no delegation to take them.
        for _ in 0..<2 {
            let byte: [UInt8] = [0]
            _ = m_send_with_fds(fd, byte, 1, Array(repeating: null, count: 10), 10)
        }
        var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        var buffer = [UInt8](repeating: 0, count: 16)
        #expect(poll(&pfd, 1, 10_000) == 1 && read(fd, &buffer, 16) == 0, "the writer hangs up")
        #expect(try eventually(timeout: 5) { h.logs.contains("a connection sent descriptors no delegation asked for") }, "\(h.logs)")
    }

    @Test func oneDaemonServesTheWriterAndAnotherTakesOverWhenItIsKilled() throws {
        let h = try MexecHarness()
        let first = try h.start()
        #expect(try eventually(timeout: 20) { writerAnswers(h) }, "\(h.logs)")
        try h.start()
        let before = try h.create("echo one")
        #expect(try h.finished(before).status == .succeeded, "\(h.logs)")
        #expect(daemonLogs(h).filter { $0.contains("serving the shared output writer") }.count == 1,
                "exactly one daemon serves the writer: \(h.logs)")
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        #expect(try eventually(timeout: 10) {
            daemonLogs(h).filter { $0.contains("serving the shared output writer") }.count == 2 && writerAnswers(h)
        }, "the second daemon must take the writer over: \(h.logs)")
        let after = try h.create("echo two")
        #expect(try h.finished(after).status == .succeeded, "\(h.logs)")
        #expect(try h.text(after) == "two\n")
        #expect(h.executorLog(after).contains("the shared writer reads this run's stdout and stderr"), "\(h.logs)")
    }

    @Test func inputReachesAnAgentThatPrintsNothingWhenTheWriterRingsItsExecutor() throws {
        let h = try MexecHarness()
        try h.start()
        let rounds = 10
        let id = try h.create("i=0; while [ $i -lt \(rounds) ]; do i=$((i+1)); read line; echo got $line; done")
        #expect(try eventually(timeout: 20) { h.executorLog(id).contains("the shared writer rings this run's requests") },
                "the executor connects and registers before the agent prints anything: \(h.logs)")
        // Each input waits for the previous echo. Rung, a round trip takes milliseconds; the
        // executor's own safety-net look comes only every second, so ten of those would take ~5 s.
        let started = Date()
        for round in 1...rounds {
            _ = try h.db.queueInput(runId: id, text: "input\(round)")
            #expect(try h.waitForOutput(id, containing: "got input\(round)\n", timeout: 20), "\(h.logs)")
        }
        let elapsed = Date().timeIntervalSince(started)
        #expect(elapsed < Double(rounds) * Double(Defaults.requestSafetyNetMilliseconds) / 1000 * 0.3,
                "\(rounds) inputs took \(elapsed) s: the writer did not ring the executor")
        #expect(try h.finished(id).status == .succeeded, "\(h.logs)")
    }

    @Test func aCancelRingsTheExecutorOfARunThatPrintsNothing() throws {
        let h = try MexecHarness()
        try h.start()
        let id = try h.create("sleep 60")
        #expect(try eventually(timeout: 20) { h.executorLog(id).contains("the shared writer rings this run's requests") },
                "\(h.logs)")
        _ = try h.db.requestCancel(runId: id)
        #expect(try h.finished(id, timeout: 20).status == .canceled, "\(h.logs)")
    }

    @Test func aHelloFromAProcessThatIsNotTheRunsExecutorIsRefused() throws {
        let (h, id, holder, fd) = try strangerBesideARunningRun()
        defer { close(fd) }
        #expect(UnixSocket.writeAll(fd: fd, WriterProtocol.frame(WriterMessage.hello(version: WriterProtocol.version, runId: id,
                                                                                     workerId: holder))))
        expectRefused(fd, runId: id, "another process must not learn of the run's requests")
        _ = try h.db.requestCancel(runId: id)
        #expect(try h.finished(id).status == .canceled)
    }

    @Test func inputStillArrivesWhileNoWriterRingsAndAfterAnotherDaemonTakesOver() throws {
        let h = try MexecHarness()
        let first = try h.start()
        let id = try h.create("read a; echo got $a; read b; echo got $b; read c; echo got $c")
        #expect(try eventually(timeout: 20) { h.executorLog(id).contains("the shared writer rings this run's requests") },
                "\(h.logs)")
        _ = try h.db.queueInput(runId: id, text: "one")
        #expect(try h.waitForOutput(id, containing: "got one\n"), "\(h.logs)")
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        // No daemon: the executor looks for its requests itself; the agent's answer waits in its pipe.
        _ = try h.db.queueInput(runId: id, text: "two")
        #expect(try eventually(timeout: 20) { try h.db.pendingInputs(runId: id).isEmpty }, "input delivered without a writer: \(h.logs)")
        try h.start()
        #expect(try h.waitForOutput(id, containing: "got two\n", timeout: 20), "\(h.logs)")
        let notices = try h.events(id).filter { $0.type == EventType.notice }.compactMap { $0.dataValue["text"]?.stringValue }
        #expect(notices.filter { $0.contains("output waited in its pipes") }.count == 1, "the run says it waited, once: \(notices) \(h.logs)")
        #expect(try eventually(timeout: 20) {
            h.executorLog(id).components(separatedBy: "the shared writer rings this run's requests").count == 3
        }, "the executor registers with the new daemon's writer: \(h.logs)")
        _ = try h.db.queueInput(runId: id, text: "three")
        #expect(try h.waitForOutput(id, containing: "got three\n", timeout: 20), "\(h.logs)")
        #expect(try h.finished(id).status == .succeeded, "\(h.logs)")
    }

    /// A running run (it printed "ready" and sleeps) and a connection to the
    /// writer from this test process, which is not the run's executor.
    private func strangerBesideARunningRun() throws -> (MexecHarness, Int64, String, Int32) {
        let h = try MexecHarness()
        try h.start()
        let id = try h.create("echo ready; sleep 30")
        #expect(try h.waitForOutput(id, containing: "ready"), "\(h.logs)")
        let holder = try #require(try h.db.run(id).workerId)
        let path = try #require(Defaults.outputWriterSocketPath(databasePath: h.tmp.dbPath))
        return (h, id, holder, try UnixSocket.connect(path: path))
    }

    /// Expects the writer's answer on `fd` to refuse a connection that is not run `id`'s executor.
    private func expectRefused(_ fd: Int32, runId id: Int64, _ context: String) {
        guard let reply = readReply(fd), case .notAllowed(let why) = reply else {
            Issue.record("expected notAllowed: \(context)")
            return
        }
        #expect(why.contains("not run \(id)'s executor"), "\(context)")
    }

    private func readReply(_ fd: Int32) -> WriterReply? {
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        while poll(&pfd, 1, 10_000) > 0 {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { return nil }
            buffer += chunk[0..<n]
            if let reply = try? WriterProtocol.unframe(WriterReply.self, from: &buffer).first { return reply }
        }
        return nil
    }
}
