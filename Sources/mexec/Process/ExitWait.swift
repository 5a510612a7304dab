import CProcess
#if canImport(Glibc)
import Glibc
#endif

/// Sleeps between control ticks, waking at once when the agent exits: a
/// `pidfd` polled with a timeout where the kernel has one, a plain sleep
/// otherwise. One wake per tick, on the caller's own thread.
final class ExitWait {
    private let pidfd: Int32

    /// Watches `pid` (a child of this process).
    init(pid: pid_t) {
        pidfd = m_pidfd_open(pid)
    }

    deinit { if pidfd >= 0 { close(pidfd) } }

    /// Waits up to `milliseconds`, less if the process exits meanwhile.
    func wait(milliseconds: Int) {
        guard pidfd >= 0 else {
            usleep(UInt32(milliseconds) * 1000)
            return
        }
        var pfd = pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)
        _ = poll(&pfd, 1, Int32(milliseconds))
    }
}
