import Foundation
import MProcess
#if canImport(Glibc)
import Glibc
#endif

/// One git command as a child process, started with `posix_spawn`, fed its
/// stdin and read to the end on a thread of its own.
///
/// Why not fork: a fork copies the calling process's page tables and makes
/// every page of it copy-on-write until the child execs. An executor is a
/// multi-threaded Swift process of some 30 MB resident, forked for each git
/// command of a diff, fifty diffs at once when fifty runs end together.
/// `posix_spawn` (glibc's `clone(CLONE_VM | CLONE_VFORK)`, through
/// `MProcess.Spawn`) shares the memory until the exec instead.
struct ChildProcess {
    /// What a finished command printed and how it ended.
    struct Outcome {
        /// The exit code, or 128 + the signal number for a killed process.
        var status: Int32
        /// Standard output, at most the limit asked for.
        var stdout: [UInt8]
        /// How many bytes of standard output there were in all.
        var stdoutBytes: Int
        /// Standard error, at most the limit asked for.
        var stderr: [UInt8]
    }

    /// Runs `program` (looked up on the `PATH` of `environment`) with exactly
    /// `environment`, descriptors 0–2 only, and default signal handling; keeps
    /// the first `stdoutLimit` and `stderrLimit` bytes of each output while
    /// reading the rest, so the child never blocks on a full pipe.
    static func run(_ program: String, arguments: [String], environment: [String: String], stdin: [UInt8],
                    stdoutLimit: Int, stderrLimit: Int) async throws -> Outcome {
        try await withCheckedThrowingContinuation { (done: CheckedContinuation<Outcome, any Error>) in
            // Blocking waits stay off the cooperative pool (two cores give it two threads).
            let thread = Thread {
                // A child that exits before reading all of its stdin makes the write fail with EPIPE;
                // the SIGPIPE that comes with it stays blocked here (and goes with this thread)
                // instead of killing the caller, which does not ignore it (an executor does not).
                var pipeSignal = sigset_t()
                sigemptyset(&pipeSignal)
                sigaddset(&pipeSignal, SIGPIPE)
                pthread_sigmask(SIG_BLOCK, &pipeSignal, nil)
                done.resume(with: Result {
                    try runBlocking(program, arguments: arguments, environment: environment, stdin: stdin,
                                    stdoutLimit: stdoutLimit, stderrLimit: stderrLimit)
                })
            }
            thread.name = "m-git"
            thread.start()
        }
    }

    /// `run`, on the calling thread (whose SIGPIPE `run` blocks).
    private static func runBlocking(_ program: String, arguments: [String], environment: [String: String],
                                    stdin: [UInt8], stdoutLimit: Int, stderrLimit: Int) throws -> Outcome {
        // Stdin, stdout, stderr; when one cannot be made (no descriptors left), those made are closed.
        var pipes: [(read: Int32, write: Int32)] = []
        do {
            for _ in 0..<3 { pipes.append(try Spawn.pipe()) }
        } catch {
            pipes.forEach { close($0.read); close($0.write) }
            throw error
        }
        let (input, output, errors) = (pipes[0], pipes[1], pipes[2])
        var parentEnds = [input.write, output.read, errors.read]
        defer { parentEnds.forEach { if $0 >= 0 { close($0) } } }
        let pid: pid_t
        do {
            defer { [input.read, output.write, errors.write].forEach { close($0) } }
            // In the caller's process group: git goes when the executor's group is killed.
            pid = try Spawn.start([program] + arguments, environment: environment, directory: nil,
                                  stdio: .descriptors(input.read, output.write, errors.write), group: .parents)
        }
        for fd in parentEnds { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }

        var kept = ([UInt8](), [UInt8]())
        var total = 0
        var written = 0
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        if stdin.isEmpty {
            close(parentEnds[0])
            parentEnds[0] = -1
        }
        while parentEnds[1] >= 0 || parentEnds[2] >= 0 {
            var fds = [pollfd(fd: parentEnds[0], events: Int16(POLLOUT), revents: 0),
                       pollfd(fd: parentEnds[1], events: Int16(POLLIN), revents: 0),
                       pollfd(fd: parentEnds[2], events: Int16(POLLIN), revents: 0)]
            // Negative descriptors are skipped by poll.
            if poll(&fds, 3, -1) < 0 {
                if errno == EINTR { continue }
                let reason = String(cString: strerror(errno))
                kill(pid, SIGKILL)
                _ = waitpid(pid, nil, 0)
                throw SpawnError(description: "cannot read what \(program) prints: poll failed: \(reason)")
            }
            if fds[0].revents != 0 {
                let n = stdin[written...].withUnsafeBytes { write(parentEnds[0], $0.baseAddress, $0.count) }
                if n > 0 { written += n }
                // Done, or the child closed its stdin without reading it all: either way nothing more goes in.
                if written == stdin.count || (n < 0 && errno != EAGAIN && errno != EINTR) {
                    close(parentEnds[0])
                    parentEnds[0] = -1
                }
            }
            for (slot, limit) in [(1, stdoutLimit), (2, stderrLimit)] where fds[slot].revents != 0 {
                let n = chunk.withUnsafeMutableBytes { read(parentEnds[slot], $0.baseAddress, $0.count) }
                if n > 0 {
                    if slot == 1 {
                        total += n
                        kept.0.append(contentsOf: chunk[0..<min(n, max(0, limit - kept.0.count))])
                    } else {
                        kept.1.append(contentsOf: chunk[0..<min(n, max(0, limit - kept.1.count))])
                    }
                } else if n == 0 || (errno != EAGAIN && errno != EINTR) {
                    close(parentEnds[slot])
                    parentEnds[slot] = -1
                }
            }
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { throw SpawnError(description: "cannot wait for \(program): \(String(cString: strerror(errno)))") }
        }
        let code = Spawn.exitCode(status) ?? 128 + (Spawn.terminatingSignal(status) ?? 0)
        return Outcome(status: Int32(code), stdout: kept.0, stdoutBytes: total, stderr: kept.1)
    }
}
