import Foundation
import MTestSupport
import Testing
import mdb
#if canImport(Glibc)
import Glibc
#endif

@Suite struct ExecutorTests {
    @Test func anExecutorWhoseAgentExitedYieldsTheCPUToRunsStillPrinting() throws {
        let h = try MexecHarness()
        try h.start()
        // Ten thousand new files: the final diff's git work takes a while after the agent exits.
        let id = try h.create("for i in $(seq 1 10000); do echo $i > f$i; done; echo made")
        var executor: Int32?
        #expect(try eventually(timeout: 20, interval: 0.005) {
            executor = try h.db.processes(runId: id).executorPid
            return executor != nil
        }, "\(h.logs)")
        let pid = try #require(executor)
        // Where the kernel groups processes by session (autogroup), the executor's session is a
        // group of its own and the group's nice is what weighs against other processes.
        var seen: [Int] = [], seenByGroup: [Int] = []
        #expect(try eventually(timeout: 60, interval: 0.002) {
            guard let nice = Proc.nice(pid), Proc.isAlive(pid) else { return true }
            if seen.last != nice { seen.append(nice) }
            let group = Proc.autogroupNice(pid)
            if let group, seenByGroup.last != group { seenByGroup.append(group) }
            return nice == Defaults.executorWindDownNice && (group == nil || group == Defaults.executorWindDownNice)
        })
        #expect(seen.first == 0, "while its agent runs, the executor keeps its priority: \(seen)")
        #expect(seen.last == Defaults.executorWindDownNice, "once the agent exited: \(seen) \(h.logs)")
        if Proc.autogroupNice(getpid()) != nil {
            #expect(seenByGroup.first == 0, "while its agent runs, its session's group keeps its priority: \(seenByGroup)")
            #expect(seenByGroup.last == Defaults.executorWindDownNice, "once the agent exited: \(seenByGroup) \(h.logs)")
        }
        #expect(try h.finished(id).status == .succeeded, "\(h.logs)")
        #expect(try h.events(id).contains { $0.type == EventType.diffCreated }, "the final diff ran after the wind-down")
    }
}
