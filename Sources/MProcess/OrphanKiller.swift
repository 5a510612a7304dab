import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Ends processes a dead executor left behind, without ever signalling a
/// stranger that was given a reused pid.
public enum OrphanKiller {
    /// SIGKILLs the agent's process group if it is still ours. The group is
    /// ours when its leader still has the recorded start time, or when the
    /// leader is gone but members remain: Linux does not hand out a pid that
    /// is still some group's id, so a leaderless group with that id can only
    /// be the one our agent created. Returns the number of processes signalled.
    @discardableResult
    public static func killAgentGroup(pgid: Int32, leaderStartTicks: Int64) -> Int {
        guard pgid > 1 else { return 0 }
        if let leader = ProcStat.read(pgid), leader.state != "Z", leader.startTicks != leaderStartTicks {
            return 0 // the pid now belongs to another process: not ours to touch
        }
        let members = ProcStat.members(ofGroup: pgid)
        guard !members.isEmpty else { return 0 }
        _ = kill(-pgid, SIGKILL)
        return members.count
    }

    /// SIGKILLs one process if it still has the recorded start time.
    @discardableResult
    public static func killProcess(pid: Int32, startTicks: Int64) -> Bool {
        guard pid > 1, let stat = ProcStat.read(pid), stat.startTicks == startTicks, stat.state != "Z" else { return false }
        return kill(pid, SIGKILL) == 0
    }
}
