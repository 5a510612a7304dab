import Foundation
import MAuth
import MProcess
import MTestSupport
import Testing
import mdb
#if canImport(Glibc)
import Glibc
#endif

extension StreamLoad {
    /// The upgrade path: both services stopped with SIGTERM and started again
    /// (as `systemctl restart` does after new binaries are installed) while runs
    /// stream to connected clients.
    @Suite struct UpgradeTests {
        @Test func restartingMwebAndMexecMidRunKeepsTheAgentsAndEveryClientResumesWithoutAGap() async throws {
            let tmp = TempDir("upgrade")
            let db = try MDatabase(path: tmp.dbPath, create: true)
            let secret = Secret.generate()
            _ = try db.createToken(name: "phone", scope: .read, hash: Secret.hash(secret))
            let mexecArgs = ["--db", tmp.dbPath, "--workspaces", tmp.file("workspaces"), "--concurrency", "4"]
            let daemon = LockedBox(try Exec.start("mexec", mexecArgs))
            let mweb = LockedBox(try MWebProcess(db: tmp.dbPath))
            let lines = 500
            let runs = try (1...3).map { _ in
                try db.createRun(NewRun(title: "upgrade", spec: RunSpec(command:
                    "i=1; while [ $i -le \(lines) ]; do echo line $i; sleep 0.012; i=$((i+1)); done"))).id
            }
            // The restart, once every run has streamed a little (on a thread: it blocks).
            struct Upgrade: Sendable {
                var executors: [Int32], exitStatuses: [Int32], executorsAliveMeanwhile: Bool, runningMeanwhile: Bool
            }
            async let upgrade = onThread { () throws -> Upgrade in
                guard try eventually(timeout: 60, { try runs.allSatisfy { try db.run($0).lastSeq > 40 } }) else {
                    throw TestFailure("the runs did not start streaming")
                }
                let executors = try runs.map { id in
                    guard let pid = try db.processes(runId: id).executorPid else { throw TestFailure("run \(id) has no executor") }
                    return pid
                }
                let services = [mweb.get().process, daemon.get()]
                for process in services { kill(process.processIdentifier, SIGTERM) }
                for process in services where !eventually(timeout: 20, { !process.isRunning }) {
                    throw TestFailure("\(process.executableURL?.lastPathComponent ?? "?") did not stop on SIGTERM")
                }
                let alive = executors.allSatisfy { ProcStat.read($0).map { !$0.hasEnded } ?? false }
                let running = try runs.allSatisfy { try db.run($0).status == .running }
                daemon.set(try Exec.start("mexec", mexecArgs))
                mweb.set(try MWebProcess(db: tmp.dbPath))
                return Upgrade(executors: executors, exitStatuses: services.map(\.terminationStatus),
                               executorsAliveMeanwhile: alive, runningMeanwhile: running)
            }
            // One client per run, each reconnecting (from its last seq) when its connection ends.
            let followers = try await withThrowingTaskGroup(of: (Int64, [WireEvent], Int).self) { group in
                for id in runs {
                    group.addTask {
                        let (events, connections) = try await followWithRandomDisconnects(
                            runId: id, token: secret, port: { mweb.get().port }, maxFramesPerConnection: 1_000_000)
                        return (id, events, connections)
                    }
                }
                return try await group.reduce(into: [:]) { $0[$1.0] = ($1.1, $1.2) }
            }
            let restart = try await upgrade
            #expect(restart.exitStatuses == [0, 0], "mweb and mexec stop cleanly on SIGTERM")
            #expect(restart.executorsAliveMeanwhile, "the executors outlive both services")
            #expect(restart.runningMeanwhile, "the runs stay running while no service is up")
            #expect(restart.executors.count == runs.count)
            for id in runs {
                let run = try db.run(id)
                #expect(run.status == .succeeded, "run \(id) finished by the agent that was running before the restart")
                let (events, connections) = try #require(followers[id])
                #expect(events.map(\.seq) == Array(1...run.lastSeq), "run \(id): every event once, in order, across the restart")
                #expect(connections >= 2, "run \(id)'s client reconnected after the restart")
                let texts = try db.read {
                    try String.fetchAll($0, sql: "SELECT json_extract(data, '$.text') FROM events WHERE run_id = ? AND type = 'output' ORDER BY seq", arguments: [id])
                }
                #expect(texts.joined() == (1...lines).map { "line \($0)\n" }.joined(), "run \(id): no output lost")
                let started = try db.events(runId: id, afterSeq: 0, limit: 10_000).filter { $0.type == EventType.runStarted }
                #expect(started.count == 1, "run \(id) ran once: its agent was never started again")
            }
            for process in [mweb.get().process, daemon.get()] {
                process.terminate()
                process.waitUntilExit()
            }
        }
    }
}
