import Foundation
import MTestSupport
import Testing
@testable import MSandbox

/// Where mexec cannot write a cgroup, memory and process limits fall back to rlimits, which
/// hold less; the notices say exactly what.
@Suite struct RunCgroupTests {
    @Test func withoutACgroupMemoryIsHeldPerProcessAndTheNoticesSaySo() throws {
        let probe = ["/usr/bin/python3", "-c", "b = b'x' * (200 << 20); print('survived')"]
        let (argv, notices) = RunCgroup.withRlimits(probe, memoryMB: 64, pids: 100, problem: .noController("memory"))
        let run = try Exec.run(argv[0], Array(argv.dropFirst()))
        #expect(run.status != 0 && !run.stdout.contains("survived"), "RLIMIT_AS stopped the allocation: \(run.stdout)")
        #expect(run.stderr.contains("MemoryError"), "\(run.stderr)")
        #expect(notices.contains { $0.contains("limits.memory_mb is held only per process") })
        if getuid() == 0 {
            #expect(notices.contains { $0.contains("limits.pids is NOT enforced") && $0.contains("root") }, "\(notices)")
        } else {
            #expect(notices.contains { $0.contains("RLIMIT_NPROC") }, "\(notices)")
        }
        // Within the limit the same shell runs as it is.
        let (small, _) = RunCgroup.withRlimits(["/bin/sh", "-c", "ulimit -v"], memoryMB: 64, pids: nil, problem: .noController("memory"))
        #expect(try Exec.run(small[0], Array(small.dropFirst())).stdout == "65536\n")
    }
}
