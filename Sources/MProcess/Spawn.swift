import CProcess
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Why a process could not be started.
public struct SpawnError: Error, CustomStringConvertible {
    public var description: String

    /// An error whose text says what failed and what to do.
    public init(description: String) {
        self.description = description
    }
}

/// `posix_spawn` with the options M needs: a new process group or session (or neither),
/// a working directory, exact descriptors 0–2 and nothing else inherited,
/// and default signal handling (a parent may ignore SIGPIPE, as NIO's do; a
/// child must not inherit that). posix_spawn rather than fork: after fork a Swift
/// process may only exec, and posix_spawn does that safely for us.
public enum Spawn {
    /// What the child's descriptors 0, 1 and 2 are.
    public enum Stdio {
        /// Duplicates of these parent descriptors.
        case descriptors(Int32, Int32, Int32)
        /// The terminal at this path, opened in the child after `setsid`, which
        /// makes it the child's controlling terminal.
        case terminal(String)
    }

    /// Which process group and session the child is in.
    public enum Group {
        /// The parent's: signals to the parent's group reach it too (a helper such as git).
        case parents
        /// A new process group that the child leads, in the parent's session.
        case newGroup
        /// A new session (and group) that the child leads.
        case newSession
    }

    /// Starts `argv` with exactly `environment` (`argv[0]` is looked up on its PATH).
    public static func start(_ argv: [String], environment: [String: String], directory: String?, stdio: Stdio,
                             group: Group) throws -> pid_t {
        guard let program = argv.first, !program.isEmpty else { throw SpawnError(description: "nothing to run: the command is empty") }
        let path = try resolve(program, searchPath: environment["PATH"] ?? "/usr/bin:/bin")

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        switch stdio {
        case .descriptors(let input, let output, let error):
            posix_spawn_file_actions_adddup2(&actions, input, 0)
            posix_spawn_file_actions_adddup2(&actions, output, 1)
            posix_spawn_file_actions_adddup2(&actions, error, 2)
        case .terminal(let tty):
            posix_spawn_file_actions_addopen(&actions, 0, tty, O_RDWR, 0)
            posix_spawn_file_actions_adddup2(&actions, 0, 1)
            posix_spawn_file_actions_adddup2(&actions, 0, 2)
        }
        m_spawn_addclosefrom(&actions, 3)
        if let directory { m_spawn_addchdir(&actions, directory) }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGPIPE, SIGINT, SIGTERM, SIGQUIT, SIGHUP, SIGCHLD, SIGTSTP, SIGTTIN, SIGTTOU] {
            sigaddset(&defaults, signal)
        }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var flags = Int32(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK)
        switch group {
        case .parents:
            break
        case .newGroup:
            flags |= Int32(POSIX_SPAWN_SETPGROUP)
            posix_spawnattr_setpgroup(&attributes, 0)
        case .newSession:
            flags |= Int32(m_spawn_setsid_flag())
        }
        posix_spawnattr_setflags(&attributes, Int16(flags))

        let cArgv = argv.map { strdup($0) } + [nil]
        let cEnv = environment.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            cArgv.forEach { free($0) }
            cEnv.forEach { free($0) }
        }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, path, &actions, &attributes, cArgv, cEnv)
        guard rc == 0 else {
            throw SpawnError(description: "cannot start \(program): \(String(cString: strerror(rc)))")
        }
        return pid
    }

    /// The executable for `program`: itself when it holds a '/', else the first
    /// match on `searchPath` (the child's PATH, not ours).
    public static func resolve(_ program: String, searchPath: String) throws -> String {
        if program.contains("/") { return program }
        for dir in searchPath.split(separator: ":") where !dir.isEmpty {
            let candidate = "\(dir)/\(program)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        throw SpawnError(description: "cannot start \(program): not found on PATH (\(searchPath))")
    }

    /// A pipe whose ends are closed on exec (the child gets its copies by dup2).
    public static func pipe() throws -> (read: Int32, write: Int32) {
        var fds: [Int32] = [0, 0]
        guard m_pipe2(&fds, O_CLOEXEC) == 0 else {
            throw SpawnError(description: "cannot create a pipe: \(String(cString: strerror(errno)))")
        }
        return (fds[0], fds[1])
    }

    /// Waits for `pid` without blocking; the wait status when it has ended.
    public static func poll(_ pid: pid_t) -> Int32? {
        var status: Int32 = 0
        let rc = waitpid(pid, &status, WNOHANG)
        return rc == pid ? status : nil
    }

    /// Waits until `pid` ends and returns its wait status (nil if it is not our
    /// child). It blocks: call it on a thread of its own, never on Swift's pool.
    public static func wait(_ pid: pid_t) -> Int32? {
        var status: Int32 = 0
        while true {
            let rc = waitpid(pid, &status, 0)
            if rc == pid { return status }
            if rc == -1, errno == EINTR { continue }
            return nil
        }
    }

    /// How a wait status reads to a person: "status 3" or "signal 9".
    public static func describe(_ status: Int32) -> String {
        if let code = exitCode(status) { return "status \(code)" }
        return "signal \(terminatingSignal(status) ?? 0)"
    }

    /// The exit code of a wait status, if the process exited.
    public static func exitCode(_ status: Int32) -> Int? { (status & 0x7f) == 0 ? Int((status >> 8) & 0xff) : nil }
    /// The signal that ended the process, if one did.
    public static func terminatingSignal(_ status: Int32) -> Int? {
        let sig = status & 0x7f
        return (sig != 0 && sig != 0x7f) ? Int(sig) : nil
    }
}
