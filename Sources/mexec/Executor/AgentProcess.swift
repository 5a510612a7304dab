import Foundation
import mdb
import MProcess
#if canImport(Glibc)
import Glibc
#endif

/// The agent of a run, started in its own process group with its CWD in the
/// workspace: its descriptors as the executor sees them.
struct AgentProcess {
    /// The agent's pid, which is also its process group id.
    let pid: pid_t
    /// Where input goes (the pipe to stdin, or the PTY master). Non-blocking.
    let input: Int32
    /// What the pump reads, with the stream name each carries.
    let outputs: [(fd: Int32, stream: String)]
    /// Whether the agent runs on a pseudo-terminal.
    let pty: Bool

    /// Starts the agent. Pipes mode keeps stdout and stderr apart; PTY mode
    /// gives the agent a terminal of `columns` x `rows` and one merged stream.
    static func start(argv: [String], environment: [String: String], directory: String, pty: Bool,
                      columns: UInt16 = Defaults.ptyColumns, rows: UInt16 = Defaults.ptyRows) throws -> AgentProcess {
        if pty {
            var master: Int32 = -1, slave: Int32 = -1
            var size = winsize(ws_row: rows, ws_col: columns, ws_xpixel: 0, ws_ypixel: 0)
            guard openpty(&master, &slave, nil, nil, &size) == 0 else {
                throw SpawnError(description: "cannot open a pseudo-terminal: \(String(cString: strerror(errno)))")
            }
            _ = fcntl(master, F_SETFD, FD_CLOEXEC)
            _ = fcntl(slave, F_SETFD, FD_CLOEXEC)
            defer { close(slave) } // the agent holds its own copy; ours would hide its EOF
            guard let name = ttyname(slave) else {
                close(master)
                throw SpawnError(description: "cannot name the pseudo-terminal: \(String(cString: strerror(errno)))")
            }
            let pid: pid_t
            do {
                pid = try Spawn.start(argv, environment: environment, directory: directory,
                                      stdio: .terminal(String(cString: name)), group: .newSession)
            } catch {
                close(master)
                throw error
            }
            _ = fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK)
            return AgentProcess(pid: pid, input: master, outputs: [(master, "pty")], pty: true)
        }
        let stdin = try Spawn.pipe(), stdout = try Spawn.pipe(), stderr = try Spawn.pipe()
        let pid: pid_t
        do {
            pid = try Spawn.start(argv, environment: environment, directory: directory,
                                  stdio: .descriptors(stdin.read, stdout.write, stderr.write), group: .newGroup)
        } catch {
            [stdin.read, stdin.write, stdout.read, stdout.write, stderr.read, stderr.write].forEach { close($0) }
            throw error
        }
        close(stdin.read); close(stdout.write); close(stderr.write)
        for fd in [stdin.write, stdout.read, stderr.read] {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        }
        return AgentProcess(pid: pid, input: stdin.write, outputs: [(stdout.read, "stdout"), (stderr.read, "stderr")],
                            pty: false)
    }

    /// Sends `signal` to the agent's whole process group.
    func signalGroup(_ signal: Int32) {
        _ = kill(-pid, signal)
    }

    /// Whether any process of the agent's group is still alive. `kill(-pgid, 0)`
    /// says "no such group" without reading /proc, the usual answer once the
    /// agent exited (reading every process's stat is slow, and many runs end
    /// together); only when some process is left are the members read, to
    /// leave zombies out.
    var groupAlive: Bool {
        if kill(-pid, 0) != 0 && errno == ESRCH { return false }
        return !ProcStat.members(ofGroup: pid).isEmpty
    }
}
