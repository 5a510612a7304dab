import Foundation
import MProcess
import MTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite struct OrphanKillerTests {
    /// A `sleep` leading its own process group, with a child in the same group.
    private func startGroup() throws -> pid_t {
        try Spawn.start(["/bin/sh", "-c", "sleep 30 & exec sleep 30"], environment: ["PATH": "/usr/bin:/bin"],
                        directory: "/", stdio: .descriptors(0, 1, 2), group: .newGroup)
    }

    @Test func aGroupWhoseLeaderHasAnotherStartTimeIsNeverSignalled() throws {
        let pid = try startGroup()
        defer { kill(-pid, SIGKILL); _ = waitpid(pid, nil, 0) }
        let stat = try #require(ProcStat.read(pid))
        #expect(stat.pgid == pid)
        // As if the pid had been reused by a process that started later.
        #expect(OrphanKiller.killAgentGroup(pgid: pid, leaderStartTicks: stat.startTicks + 1) == 0)
        #expect(!OrphanKiller.killProcess(pid: pid, startTicks: stat.startTicks + 1))
        #expect(!ProcStat.isGone(pid))
    }

    @Test func theRecordedGroupIsKilledWholeIncludingChildren() throws {
        let pid = try startGroup()
        let stat = try #require(ProcStat.read(pid))
        #expect(try eventually(timeout: 5) { ProcStat.members(ofGroup: pid).count == 2 })
        #expect(OrphanKiller.killAgentGroup(pgid: pid, leaderStartTicks: stat.startTicks) == 2)
        _ = waitpid(pid, nil, 0)
        #expect(try eventually(timeout: 5) { ProcStat.members(ofGroup: pid).isEmpty })
    }

    @Test func statParsingSurvivesParenthesesAndSpacesInTheName() {
        let line = "4242 (a (weird) name) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10"
        let stat = ProcStat.parse(line)
        #expect(stat?.pid == 4242)
        #expect(stat?.state == "S")
        #expect(stat?.ppid == 1)
        #expect(stat?.pgid == 4242)
        #expect(stat?.cpuTicks == 3, "utime 1 + stime 2")
        #expect(stat?.startTicks == 987654)
    }
}
