import Foundation
import MProcess
#if canImport(Glibc)
import Glibc
#endif

/// A helper process an agent asked for (ACP's terminals): its pid (leader of its own process group)
/// and the read end of the pipe that carries its stdout and stderr.
public struct DriverProcess: Sendable {
    /// The process id, also its process group id.
    public var pid: pid_t
    /// The read end of its merged stdout/stderr pipe, owned by the driver.
    public var output: Int32

    /// A process.
    public init(pid: pid_t, output: Int32) {
        self.pid = pid
        self.output = output
    }

    /// Starts `argv` in `directory` with exactly `environment`, stdin from /dev/null, in a process
    /// group of its own, without a sandbox (a host wraps `argv` in its sandbox first when it has one).
    public static func start(_ argv: [String], environment: [String: String], directory: String) throws -> DriverProcess {
        let (read, write) = try Spawn.pipe()
        let null = open("/dev/null", O_RDONLY | O_CLOEXEC)
        defer {
            close(write)
            if null >= 0 { close(null) }
        }
        do {
            let pid = try Spawn.start(argv, environment: environment, directory: directory,
                                      stdio: .descriptors(null, write, write), group: .newGroup)
            return DriverProcess(pid: pid, output: read)
        } catch {
            close(read)
            throw error
        }
    }
}
