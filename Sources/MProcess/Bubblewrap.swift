import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Finding bubblewrap and checking that it can create the namespaces an
/// agent's sandbox needs (mexec before each run, `mcli doctor` on request).
public enum Bubblewrap {
    /// Why bubblewrap cannot confine an agent here.
    public enum Problem: Error, Equatable, Sendable {
        /// No executable `bwrap` on the search path.
        case missing
        /// It could not be started (the error's text).
        case cannotStart(String)
        /// It started but could not create the namespaces.
        case noNamespaces
    }

    /// The bubblewrap binary, looked up on `searchPath` (PATH's form).
    public static func path(searchPath: String = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin") -> String? {
        for dir in searchPath.split(separator: ":") where FileManager.default.isExecutableFile(atPath: "\(dir)/bwrap") {
            return "\(dir)/bwrap"
        }
        return nil
    }

    /// Nil when bubblewrap on `searchPath` can create PID and IPC namespaces
    /// and run `/bin/true` in them. Blocks for one short child process: call
    /// it off the cooperative pool.
    public static func probe(searchPath: String = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin") -> Problem? {
        guard let bwrap = path(searchPath: searchPath) else { return .missing }
        let null = open("/dev/null", O_RDWR | O_CLOEXEC)
        defer { close(null) }
        let pid: pid_t
        do {
            pid = try Spawn.start([bwrap, "--ro-bind", "/", "/", "--proc", "/proc", "--unshare-pid", "--unshare-ipc",
                                   "--die-with-parent", "--", "/bin/true"],
                                  environment: ["PATH": "/usr/bin:/bin"], directory: "/", stdio: .descriptors(null, null, null),
                                  group: .parents)
        } catch {
            return .cannotStart("\(error)")
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return Spawn.exitCode(status) == 0 ? nil : .noNamespaces
    }
}
