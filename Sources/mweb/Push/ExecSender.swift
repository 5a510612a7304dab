import Foundation
import MProcess
import mdb
#if canImport(Glibc)
import Glibc
#endif

/// Sends a notification to a local command: `sh -c COMMAND` with the payload
/// on its stdin and `M_SUMMARY`, `M_TITLE`, `M_DELIVERY`, `M_EVENT` in its
/// environment (enough for a three-line curl to Telegram or Pushover). It
/// runs and is waited for on a thread of the push service's own, never on
/// Swift's cooperative pool, and is killed (its whole group) at the timeout.
enum ExecSender {
    /// Runs the command to its end; throws with its exit status and the tail of its output unless it exits 0.
    static func run(command: String, payload: String, environment extra: [String: String], timeoutSeconds: Double) throws {
        // A command that exits without reading its stdin must not take mweb down with SIGPIPE:
        // blocked on this thread, the write fails with EPIPE instead.
        var pipeSignal = sigset_t()
        sigemptyset(&pipeSignal)
        sigaddset(&pipeSignal, SIGPIPE)
        pthread_sigmask(SIG_BLOCK, &pipeSignal, nil)

        var environment = ProcessInfo.processInfo.environment
        for (k, v) in extra { environment[k] = v }
        let input = try Spawn.pipe()
        let output = try Spawn.pipe()
        let pid: pid_t
        do {
            pid = try Spawn.start(["/bin/sh", "-c", command], environment: environment, directory: nil,
                                  stdio: .descriptors(input.read, output.write, output.write), group: .newGroup)
        } catch {
            [input.read, input.write, output.read, output.write].forEach { close($0) }
            throw PushError.command("\(error)")
        }
        close(input.read)
        close(output.write)
        var writeFD = input.write
        _ = fcntl(writeFD, F_SETFL, O_NONBLOCK)
        _ = fcntl(output.read, F_SETFL, O_NONBLOCK)
        defer {
            if writeFD >= 0 { close(writeFD) }
            close(output.read)
        }
        let bytes = Array(payload.utf8)
        var sent = 0
        var tail: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while true {
            if writeFD >= 0 {
                let n = bytes.withUnsafeBytes { write(writeFD, $0.baseAddress! + sent, bytes.count - sent) }
                if n > 0 { sent += n }
                if sent == bytes.count || (n < 0 && errno != EAGAIN) {
                    close(writeFD)
                    writeFD = -1
                }
            }
            while true {
                let n = buffer.withUnsafeMutableBytes { read(output.read, $0.baseAddress, $0.count) }
                guard n > 0 else { break }
                tail += buffer[0..<n]
                if tail.count > 2048 { tail.removeFirst(tail.count - 2048) }
            }
            if let status = Spawn.poll(pid) {
                guard Spawn.exitCode(status) == 0 else {
                    let how = Spawn.exitCode(status).map { "exited \($0)" }
                        ?? "was killed by signal \(Spawn.terminatingSignal(status) ?? 0)"
                    let text = String(decoding: tail, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                    throw PushError.command("the command \(how)\(text.isEmpty ? "" : ": \(text.suffix(300))")")
                }
                return
            }
            if Date() > deadline {
                kill(-pid, SIGKILL)
                var status: Int32 = 0
                waitpid(pid, &status, 0)
                throw PushError.command("the command did not finish within \(Int(timeoutSeconds)) s and was killed")
            }
            var fds = [pollfd(fd: output.read, events: Int16(POLLIN), revents: 0)]
            if writeFD >= 0 { fds.append(pollfd(fd: writeFD, events: Int16(POLLOUT), revents: 0)) }
            // At most 10 ms: the child's exit is not a descriptor event here.
            _ = poll(&fds, nfds_t(fds.count), 10)
        }
    }
}
