import CProcess
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Copies a PTY's output into a pipe, on a thread of its own, so that the
/// shared writer reads a terminal run like any other (`tee` and `splice`
/// need a pipe). The copy blocks on a full pipe, so back-pressure reaches
/// the agent through the terminal as it would through a pipe. It ends when
/// the terminal's last slave closes (or with the executor, if a process
/// outside the agent's group keeps it open).
final class TerminalCopy: @unchecked Sendable {
    /// The pipe's read end: what the writer reads as the `pty` stream.
    let output: Int32

    /// Starts copying `master` (non-blocking, shared with input) into a new pipe.
    init(master: Int32) throws {
        var pipe: [Int32] = [-1, -1]
        guard m_pipe2(&pipe, O_CLOEXEC) == 0 else {
            throw OutputPathError.noDescriptors(what: "the terminal's output pipe", reason: String(cString: strerror(errno)))
        }
        output = pipe[0]
        let input = pipe[1]
        let thread = Thread { Self.copy(from: master, to: input) }
        thread.name = "terminal-copy"
        thread.start()
    }

    /// Until reading the terminal fails (EIO once its last slave closed); then the pipe ends.
    private static func copy(from master: Int32, to input: Int32) {
        defer { close(input) }
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            var entry = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
            if poll(&entry, 1, -1) < 0 && errno != EINTR { return }
            let n = buffer.withUnsafeMutableBytes { read(master, $0.baseAddress, $0.count) }
            if n < 0 && (errno == EAGAIN || errno == EINTR) { continue }
            guard n > 0 else { return }
            var written = 0
            while written < n {
                let m = buffer.withUnsafeBytes { write(input, $0.baseAddress! + written, n - written) }
                if m < 0 && errno == EINTR { continue }
                guard m > 0 else { return }
                written += m
            }
        }
    }
}
