import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Lowering the CPU priority of this process and what it starts, in a way that
/// holds against every other process on the machine.
///
/// A nice value alone orders a process only against the others of its own
/// scheduling group. Where the kernel groups by session (`CONFIG_SCHED_AUTOGROUP`,
/// on by default in Debian's and most distributions' kernels, for processes
/// outside a cgroup with its own CPU controller), each executor leads a session
/// of its own, so its nice value would weigh only against its own agent. The
/// group's nice (`/proc/self/autogroup`) is what weighs against mweb, the
/// shared writer and the other runs.
public enum Priority {
    /// Sets `nice` for every process of this process group and, when this
    /// process leads its session, for the session's scheduling group.
    /// Returns why something could not be done, or nil when all went well.
    public static func lower(to nice: Int) -> String? {
        if setpriority(__priority_which_t(PRIO_PGRP.rawValue), 0, Int32(nice)) != 0 {
            return "cannot lower the process group's priority: \(String(cString: strerror(errno)))"
        }
        guard getsid(0) == getpid() else { return nil }
        let path = "/proc/self/autogroup"
        // Without session groups (no such file, or a cgroup decides instead) the nice above is all it takes.
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return "cannot open \(path): \(String(cString: strerror(errno)))" }
        defer { close(fd) }
        let text = Array("\(nice)\n".utf8)
        guard write(fd, text, text.count) == text.count else {
            return "cannot lower the session's scheduling group: \(String(cString: strerror(errno)))"
        }
        return nil
    }
}
