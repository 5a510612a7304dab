import CProcess
import Foundation
import MProcess
#if canImport(Glibc)
import Glibc
#endif

/// Copies a PTY's output into a pipe, on a thread of its own, so that the
/// shared writer reads a terminal run like any other (`tee` and `splice`
/// need a pipe). The copy blocks on a full pipe, so back-pressure reaches
/// the agent through the terminal as it would through a pipe.
final class TerminalCopy: @unchecked Sendable {
    /// The pipe's read end: what the writer reads as the `pty` stream.
    let output: Int32
    private let input: Int32
    private let master: Int32
    private let wake: (read: Int32, write: Int32)

    /// Starts copying `master` (non-blocking, shared with input) into a new pipe.
    init(master: Int32) throws {
        var pipe: [Int32] = [-1, -1], wakeFds: [Int32] = [-1, -1]
        guard m_pipe2(&pipe, O_CLOEXEC) == 0 else {
            throw OutputPathError.noDescriptors(what: "the terminal's output pipe", reason: String(cString: strerror(errno)))
        }
        guard m_pipe2(&wakeFds, O_CLOEXEC | O_NONBLOCK) == 0 else {
            close(pipe[0]); close(pipe[1])
            throw OutputPathError.noDescriptors(what: "the terminal copy's wake pipe", reason: String(cString: strerror(errno)))
        }
        (output, input, self.master, wake) = (pipe[0], pipe[1], master, (wakeFds[0], wakeFds[1]))
        let thread = Thread { [self] in copy() }
        thread.name = "terminal-copy"
        thread.start()
    }

    /// Stops copying (a process outside the agent's group holds the terminal).
    func stop() {
        var byte: UInt8 = 1
        _ = write(wake.write, &byte, 1)
    }

    /// Until the terminal's last slave closes (EIO) or `stop()`; then the pipe ends.
    private func copy() {
        defer {
            close(input)
            close(wake.read)
            close(wake.write)
        }
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            var fds = [pollfd(fd: master, events: Int16(POLLIN), revents: 0), pollfd(fd: wake.read, events: Int16(POLLIN), revents: 0)]
            if poll(&fds, 2, -1) < 0 && errno != EINTR { return }
            if fds[1].revents != 0 { return }
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
