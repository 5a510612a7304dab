import CProcess
#if canImport(Glibc)
import Glibc
#endif

/// Sleeps between control ticks, waking at once when the agent exits or when
/// `bell` becomes readable: a `pidfd` polled with a timeout where the kernel
/// has one, a plain sleep otherwise. One wake per tick, on the caller's own thread.
public final class ExitWait {
    private let pidfd: Int32
    private let bell: Int32
    private let pollWithoutPidfd: Int

    /// Watches `pid` (a child of this process) and, if given, the descriptor
    /// `bell`; without a pidfd, waits at most `pollWithoutPidfdMilliseconds`.
    public init(pid: pid_t, bell: Int32 = -1, pollWithoutPidfdMilliseconds: Int) {
        pidfd = m_pidfd_open(pid)
        self.bell = bell
        pollWithoutPidfd = pollWithoutPidfdMilliseconds
    }

    deinit { if pidfd >= 0 { close(pidfd) } }

    /// Waits up to `milliseconds`, less if the process exits or the bell rings
    /// meanwhile (without a pidfd, an exit is seen at the next tick).
    public func wait(milliseconds: Int) {
        let milliseconds = pidfd >= 0 ? milliseconds : min(milliseconds, pollWithoutPidfd)
        guard pidfd >= 0 || bell >= 0 else {
            usleep(UInt32(milliseconds) * 1000)
            return
        }
        var fds = [pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0), pollfd(fd: bell, events: Int16(POLLIN), revents: 0)]
        _ = poll(&fds, 2, Int32(milliseconds))
    }
}
