import Foundation
import MProcess
import mdb
#if canImport(Glibc)
import Glibc
#endif

/// Why a run's workspace could not be prepared; the text ends up in a `notice`.
enum WorkspaceError: Error, CustomStringConvertible {
    /// Git failed or could not be run, or the folder could not be made.
    case failed(String)
    /// The run was canceled while its repository was being cloned.
    case canceled(String)

    var description: String {
        switch self {
        case .failed(let text), .canceled(let text): return text
        }
    }
}

/// A run's own directory, `<root>/<run id>`, optionally a clone of a repo.
enum Workspace {
    /// Creates the workspace (cloning `repoUrl` into it and checking out
    /// `repoRef` when given) and returns its path and the commit it starts at.
    /// `stop` is asked a few times a second while git runs; when it says so
    /// (the run was canceled), git's whole process group is killed.
    static func prepare(root: String, runId: Int64, repoUrl: String?, repoRef: String?,
                        cloneTimeoutSeconds: Double = Defaults.cloneTimeoutSeconds,
                        stop: () -> Bool = { false }) throws -> (path: String, baseCommit: String?) {
        let path = (root as NSString).appendingPathComponent(String(runId))
        let fm = FileManager.default
        do {
            // 0700: another local user must not read or write a run's files.
            try fm.createDirectory(atPath: root, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw WorkspaceError.failed("cannot create the workspaces root \(root): \(error.localizedDescription)")
        }
        if let existing = try? fm.contentsOfDirectory(atPath: path), !existing.isEmpty {
            throw WorkspaceError.failed("the workspace \(path) already exists and is not empty; move it away and create the run again")
        }
        guard let repoUrl else {
            do { try fm.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700]) } catch {
                throw WorkspaceError.failed("cannot create the workspace \(path): \(error.localizedDescription)")
            }
            return (path, nil)
        }
        if let refusal = RepoURL.refusal(repoUrl) { throw WorkspaceError.failed(refusal) }
        let deadline = Date().addingTimeInterval(cloneTimeoutSeconds)
        // `--` keeps user text from ever being read as a git option (mdb also
        // refuses urls and refs starting with '-').
        try git(["clone", "--quiet", "--no-recurse-submodules", "--", repoUrl, path], in: root,
                what: "git clone of \(repoUrl)", deadline: deadline, stop: stop)
        chmod(path, 0o700)
        if let repoRef {
            try git(["checkout", "--quiet", "--detach", repoRef, "--"], in: path, what: "git checkout of \(repoRef)",
                    deadline: deadline, stop: stop)
        }
        let head = try git(["rev-parse", "HEAD"], in: path, what: "git rev-parse HEAD", deadline: deadline, stop: stop)
        return (path, head.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// The only environment the clone sees: no system or global git config (an
    /// agent without confinement could have written `~/.gitconfig`), only the
    /// transports meant (`GIT_ALLOW_PROTOCOL`: never `ext::` or `fd::`), no
    /// prompts (a clone that would ask for a password fails at once), and none
    /// of M's own variables. HOME stays, for ssh's keys and known hosts.
    static func environment() -> [String: String] {
        let inherited = ProcessInfo.processInfo.environment
        var env: [String: String] = [
            "PATH": inherited["PATH"] ?? "/usr/local/bin:/usr/bin:/bin",
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": "/dev/null",
            "GIT_ALLOW_PROTOCOL": RepoURL.allowedProtocols,
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_ASKPASS": "/bin/false",
            "SSH_ASKPASS": "/bin/false",
            "GIT_SSH_COMMAND": "ssh -o BatchMode=yes",
            "LC_ALL": "C",
        ]
        for name in ["HOME", "SSH_AUTH_SOCK", "http_proxy", "https_proxy", "no_proxy", "HTTPS_PROXY", "NO_PROXY"] {
            if let value = inherited[name] { env[name] = value }
        }
        return env
    }

    /// Runs git in its own process group, reading its output on this thread,
    /// until it exits, `deadline` passes or `stop` says so (then the group is
    /// killed); returns stdout.
    @discardableResult
    static func git(_ args: [String], in directory: String, what: String, deadline: Date,
                    stop: () -> Bool) throws -> String {
        let (output, errors) = (try Spawn.pipe(), try Spawn.pipe())
        let devNull = open("/dev/null", O_RDONLY | O_CLOEXEC)
        var readEnds = [output.read, errors.read]
        defer { readEnds.forEach { if $0 >= 0 { close($0) } } }
        let pid: pid_t
        do {
            defer { [output.write, errors.write, devNull].forEach { close($0) } }
            pid = try Spawn.start(["git"] + args, environment: environment(), directory: directory,
                                  stdio: .descriptors(devNull, output.write, errors.write), group: .newGroup)
        } catch {
            throw WorkspaceError.failed("\(what) failed: cannot run git (\(error)); install git")
        }
        var collected = ([UInt8](), [UInt8]())
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        var ended: Int32?
        var nextStopCheck = Date()
        while ended == nil {
            var fds = readEnds.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            _ = poll(&fds, nfds_t(fds.count), 100)
            for slot in 0..<2 where fds[slot].revents != 0 {
                let n = chunk.withUnsafeMutableBytes { read(readEnds[slot], $0.baseAddress, $0.count) }
                if n > 0 {
                    if slot == 0 { collected.0 += chunk[0..<n] } else if collected.1.count < 64 * 1024 { collected.1 += chunk[0..<n] }
                } else if n == 0 || (errno != EAGAIN && errno != EINTR) {
                    close(readEnds[slot])
                    readEnds[slot] = -1
                }
            }
            ended = Spawn.poll(pid)
            if ended != nil { break }
            let now = Date()
            if now >= deadline || (now >= nextStopCheck && stop()) {
                kill(-pid, SIGKILL)
                while waitpid(pid, nil, 0) < 0 && errno == EINTR {}
                if now >= deadline {
                    throw WorkspaceError.failed("\(what) did not finish in time and was stopped; check the URL and the network")
                }
                throw WorkspaceError.canceled("\(what) was stopped: the run was canceled")
            }
            if now >= nextStopCheck { nextStopCheck = now.addingTimeInterval(0.25) }
        }
        // Helpers git started (git-remote-https, ssh) go with it.
        kill(-pid, SIGKILL)
        let status = ended ?? 0
        let code = Spawn.exitCode(status) ?? 128 + (Spawn.terminatingSignal(status) ?? 0)
        guard code == 0 else {
            let message = String(decoding: collected.1, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            throw WorkspaceError.failed("\(what) failed (exit \(code)): \(message.suffix(2_000))")
        }
        return String(decoding: collected.0, as: UTF8.self)
    }
}
