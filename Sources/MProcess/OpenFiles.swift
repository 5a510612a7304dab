import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Which processes have a file open, from `/proc/PID/fd` (only processes this
/// user may inspect: the same user, or every process for root).
public enum OpenFiles {
    /// The pids, other than ours, that hold one of `paths` open, with their command names.
    public static func holders(of paths: [String]) -> [(pid: Int32, command: String)] {
        let wanted = Set(paths.map(realPath))
        let me = getpid()
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        return entries.compactMap { Int32($0) }.filter { $0 != me }.compactMap { pid in
            guard let fds = try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd") else { return nil }
            let holds = fds.contains { fd in
                (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\(fd)")).map(wanted.contains) ?? false
            }
            guard holds else { return nil }
            let command = (try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines) ?? "?"
            return (pid, command)
        }
    }

    /// The absolute path with its directory's symlinks resolved, as `/proc/PID/fd` shows it
    /// (the file itself need not exist: a `-wal` may not).
    static func realPath(_ path: String) -> String {
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        let dir = (absolute as NSString).deletingLastPathComponent
        guard let resolved = realpath(dir, nil) else { return absolute }
        defer { free(resolved) }
        return (String(cString: resolved) as NSString).appendingPathComponent((absolute as NSString).lastPathComponent)
    }
}
