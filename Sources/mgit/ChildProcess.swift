import CProcess
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One git command as a child process, started with `posix_spawn`, fed its
/// stdin and read to the end on a thread of its own.
///
/// Why not fork: a fork copies the calling process's page tables and makes
/// every page of it copy-on-write until the child execs. An executor is a
/// multi-threaded Swift process of some 30 MB resident, forked for each git
/// command of a diff, fifty diffs at once when fifty runs end together. `posix_spawn` (glibc's
/// `clone(CLONE_VM | CLONE_VFORK)`) shares the memory until the exec instead.
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

    /// Why the command could not be run at all.
    struct LaunchError: Error, CustomStringConvertible {
        var description: String
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
                done.resume(with: Result {
                    try runBlocking(program, arguments: arguments, environment: environment, stdin: stdin,
                                    stdoutLimit: stdoutLimit, stderrLimit: stderrLimit)
                })
            }
            thread.name = "m-git"
            thread.start()
        }
    }

    /// `run`, on the calling thread.
    static func runBlocking(_ program: String, arguments: [String], environment: [String: String], stdin: [UInt8],
                            stdoutLimit: Int, stderrLimit: Int) throws -> Outcome {
        let path = try resolve(program, searchPath: environment["PATH"] ?? "/usr/bin:/bin")
        let input = try pipe(), output = try pipe(), errors = try pipe()
        var parentEnds = [input.write, output.read, errors.read]
        defer { parentEnds.forEach { if $0 >= 0 { close($0) } } }
        let pid: pid_t
        do {
            defer { [input.read, output.write, errors.write].forEach { close($0) } }
            pid = try spawn(path, arguments: [program] + arguments, environment: environment,
                            stdio: (input.read, output.write, errors.write))
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
                throw LaunchError(description: "cannot read what \(program) prints: poll failed: \(reason)")
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
            guard errno == EINTR else { throw LaunchError(description: "cannot wait for \(program): \(String(cString: strerror(errno)))") }
        }
        // WIFEXITED / WEXITSTATUS / WTERMSIG, which Swift's Glibc module does not export.
        let code = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return Outcome(status: code, stdout: kept.0, stdoutBytes: total, stderr: kept.1)
    }

    private static func spawn(_ path: String, arguments: [String], environment: [String: String],
                              stdio: (Int32, Int32, Int32)) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, stdio.0, 0)
        posix_spawn_file_actions_adddup2(&actions, stdio.1, 1)
        posix_spawn_file_actions_adddup2(&actions, stdio.2, 2)
        m_spawn_addclosefrom(&actions, 3)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // A parent may ignore SIGPIPE (NIO makes its processes do so); git must not inherit that, nor a blocked signal.
        var defaults = sigset_t()
        sigfillset(&defaults)
        sigdelset(&defaults, SIGKILL)
        sigdelset(&defaults, SIGSTOP)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let cArgv = arguments.map { strdup($0) } + [nil]
        let cEnv = environment.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            cArgv.forEach { free($0) }
            cEnv.forEach { free($0) }
        }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, path, &actions, &attributes, cArgv, cEnv)
        guard rc == 0 else { throw LaunchError(description: "cannot start \(path): \(String(cString: strerror(rc)))") }
        return pid
    }

    /// The first executable `program` on `searchPath` (itself when it holds a '/').
    private static func resolve(_ program: String, searchPath: String) throws -> String {
        if program.contains("/") { return program }
        for dir in searchPath.split(separator: ":") where !dir.isEmpty {
            let candidate = "\(dir)/\(program)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        throw LaunchError(description: "\(program) not found on PATH (\(searchPath))")
    }

    /// A pipe whose ends are closed on exec (the child gets its copies by dup2).
    private static func pipe() throws -> (read: Int32, write: Int32) {
        var fds: [Int32] = [0, 0]
        guard m_pipe2(&fds, O_CLOEXEC) == 0 else {
            throw LaunchError(description: "cannot create a pipe: \(String(cString: strerror(errno)))")
        }
        return (fds[0], fds[1])
    }
}
