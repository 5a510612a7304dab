import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A run's own cgroup, which holds its agent's memory (`limits.memory_mb`) and process count
/// (`limits.pids`) together, however many processes it starts, confined or not.
///
/// The executor writes the cgroup itself, in whichever hierarchy it may write to:
/// - cgroup v2 with the `memory` and `pids` controllers: beside the daemon's own leaf in a
///   subtree systemd delegated to it (`Delegate=yes`: `<service>/m-runs/<name>`, see
///   `leaveDelegatedRoot`), else at the top (`<mount>/m-runs/<name>`, root only), with
///   `memory.max`, `memory.swap.max = 0`, `memory.oom.group = 1` and `pids.max`;
/// - cgroup v1 (`memory` and `pids` hierarchies): `<hierarchy>/<the executor's own cgroup>/<name>`,
///   with `memory.limit_in_bytes` (and `memsw`, without swap) and `pids.max`.
/// That takes root, or a delegated hierarchy. The agent's first process enters it before it
/// starts anything (`enter`). Which limit was reached is read from the cgroup's events:
/// an OOM kill (`memory.events`/`memory.oom_control`: `oom_kill`) or a refused fork
/// (`pids.events`: `max`).
public final class RunCgroup: @unchecked Sendable {
    /// A limit the cgroup enforces.
    public enum Limit: Equatable, Sendable {
        case memory, processes
    }

    /// The cgroup folders made for the run (one in v2; the memory and pids ones in v1).
    public let directories: [String]
    private let memoryEvents: String?
    private let pidsEvents: String?
    private let killFile: String?

    private init(directories: [String], memoryEvents: String?, pidsEvents: String?, killFile: String?) {
        self.directories = directories
        self.memoryEvents = memoryEvents
        self.pidsEvents = pidsEvents
        self.killFile = killFile
    }

    /// A new cgroup `name` holding `memoryMB` and `pids`, or why none could be made here.
    /// Blocking file work: call it off the cooperative pool.
    public static func create(name: String, memoryMB: Int?, pids: Int?) -> Result<RunCgroup, CgroupProblem> {
        let mounts = Mounts.read()
        if let root = mounts.v2, let made = createV2(root: root, own: mounts.v2Own, name: name, memoryMB: memoryMB, pids: pids) {
            return .success(made)
        }
        return createV1(mounts: mounts, name: name, memoryMB: memoryMB, pids: pids)
    }

    /// `argv` started by a shell that first moves itself into the cgroup (so everything the
    /// agent starts is counted from its first fork on).
    public func enter(_ argv: [String]) -> [String] {
        let moves = directories.map { "echo $$ > \(Self.quoted($0 + "/cgroup.procs"))" }.joined(separator: " && ")
        return ["/bin/sh", "-c", "\(moves) && exec \"$@\"", "m-limits"] + argv
    }

    /// The limit the cgroup refused something for, if any (memory first: an OOM kill is the
    /// harder failure).
    public func reached() -> Limit? {
        if let memoryEvents, Self.counter(memoryEvents, "oom_kill") > 0 { return .memory }
        if let pidsEvents, Self.counter(pidsEvents, "max") > 0 { return .processes }
        return nil
    }

    /// SIGKILL to every process in the cgroup (`cgroup.kill` where the kernel has it); one pass.
    public func killAll() {
        if let killFile, Self.write("1", to: killFile) { return }
        directories.flatMap { Self.pids(in: $0) }.forEach { kill($0, SIGKILL) }
    }

    /// Kills every process left in the cgroup, waits until it is empty (at most
    /// `timeoutSeconds`) and removes it.
    public func killAndRemove(timeoutSeconds: Double = 5) {
        if let killFile { _ = Self.write("1", to: killFile) }
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        repeat {
            let left = directories.flatMap { Self.pids(in: $0) }
            if left.isEmpty, directories.allSatisfy({ rmdir($0) == 0 || errno == ENOENT }) { return }
            left.forEach { kill($0, SIGKILL) }
            usleep(10_000)
        } while Date() < deadline
    }

    /// Without a cgroup: `argv` started by a shell that sets what rlimits can hold, and the
    /// warnings that say what is not held. `memory_mb` becomes RLIMIT_AS, per process (several
    /// processes together can use more, and a process that hits it sees an allocation fail
    /// rather than being killed, so the run is not stopped for it); `pids` becomes RLIMIT_NPROC,
    /// which counts all of the Unix user's processes and does not apply to root at all.
    public static func withRlimits(_ argv: [String], memoryMB: Int?, pids: Int?, problem: CgroupProblem) -> (argv: [String], notices: [String]) {
        var settings: [String] = [], notices: [String] = []
        if let memoryMB {
            settings.append("ulimit -v \(memoryMB * 1024)")
            notices.append("limits.memory_mb is held only per process here (\(problem)): each process of the agent may use \(memoryMB) MiB of address space (RLIMIT_AS), several together more, and running out is not reported as the limit; run mexec as root or with a delegated cgroup for a real limit")
        }
        if let pids {
            if getuid() == 0 {
                notices.append("limits.pids is NOT enforced here (\(problem)), and RLIMIT_NPROC does not apply to root; run mexec with a writable cgroup for it")
            } else {
                settings.append("ulimit -u \(pids)")
                notices.append("limits.pids is held only through RLIMIT_NPROC here (\(problem)): it counts every process of this Unix user, not only the run's; run mexec with a writable cgroup for a real limit")
            }
        }
        guard !settings.isEmpty else { return (argv, notices) }
        return (["/bin/sh", "-c", settings.joined(separator: " && ") + " && exec \"$@\"", "m-limits"] + argv, notices)
    }

    // MARK: - Making it

    /// The leaf a daemon moves itself into inside a delegated cgroup v2 subtree.
    static let daemonLeaf = "daemon"

    /// At the daemon's start, when its cgroup v2 subtree is its own to write (systemd's
    /// `Delegate=yes` in mexec.service) and offers the memory and pids controllers: moves the
    /// daemon into a leaf `daemon` of it. A cgroup that holds processes cannot hand controllers
    /// down, so runs' cgroups (`m-runs/…`, beside that leaf) can have them only then; executors
    /// the daemon starts inherit the leaf. Returns what was done, or nil when nothing was.
    public static func leaveDelegatedRoot() -> String? {
        let mounts = Mounts.read()
        // Root makes runs' cgroups at the top of the hierarchy instead, and leaves a cgroup
        // systemd did not delegate where systemd put it.
        guard getuid() != 0, let mount = mounts.v2, let own = mounts.v2Own, own != "/",
              (own as NSString).lastPathComponent != daemonLeaf else { return nil }
        let dir = mount + own
        let available = (read(dir + "/cgroup.controllers") ?? "").split(separator: " ").map(String.init)
        guard available.contains("memory"), available.contains("pids"),
              access(dir + "/cgroup.subtree_control", W_OK) == 0, access(dir + "/cgroup.procs", W_OK) == 0 else { return nil }
        let leaf = dir + "/" + daemonLeaf
        guard mkdir(leaf, 0o755) == 0 || errno == EEXIST, write(String(getpid()), to: leaf + "/cgroup.procs") else { return nil }
        return "moved into \(leaf), so that runs' memory and process limits get cgroups beside it"
    }

    private static func createV2(root: String, own: String?, name: String, memoryMB: Int?, pids: Int?) -> RunCgroup? {
        let wanted = (memoryMB == nil ? [] : ["memory"]) + (pids == nil ? [] : ["pids"])
        // Beside the daemon's leaf in its delegated subtree, else at the top of the hierarchy.
        var parents = [root]
        if let own, (own as NSString).lastPathComponent == daemonLeaf {
            parents.insert(root + (own as NSString).deletingLastPathComponent, at: 0)
        }
        for parent in parents {
            if let made = createV2(parent: parent, name: name, wanted: wanted, memoryMB: memoryMB, pids: pids) { return made }
        }
        return nil
    }

    private static func createV2(parent: String, name: String, wanted: [String], memoryMB: Int?, pids: Int?) -> RunCgroup? {
        let root = parent
        let available = (read(root + "/cgroup.controllers") ?? "").split(separator: " ").map(String.init)
        guard wanted.allSatisfy(available.contains) else { return nil }
        let base = root + "/m-runs"
        guard mkdir(base, 0o755) == 0 || errno == EEXIST else { return nil }
        // A cgroup has a controller's files only when its parent hands the controller down.
        let enable = wanted.map { "+" + $0 }.joined(separator: " ")
        _ = write(enable, to: root + "/cgroup.subtree_control")
        _ = write(enable, to: base + "/cgroup.subtree_control")
        let dir = base + "/" + name
        guard mkdir(dir, 0o755) == 0 else { return nil }
        var ok = true
        if let memoryMB {
            ok = ok && write(String(Int64(memoryMB) << 20), to: dir + "/memory.max")
            _ = write("0", to: dir + "/memory.swap.max")
            _ = write("1", to: dir + "/memory.oom.group")
        }
        if let pids { ok = ok && write(String(pids), to: dir + "/pids.max") }
        guard ok else {
            rmdir(dir)
            return nil
        }
        return RunCgroup(directories: [dir], memoryEvents: memoryMB == nil ? nil : dir + "/memory.events",
                         pidsEvents: pids == nil ? nil : dir + "/pids.events",
                         killFile: FileManager.default.fileExists(atPath: dir + "/cgroup.kill") ? dir + "/cgroup.kill" : nil)
    }

    private static func createV1(mounts: Mounts, name: String, memoryMB: Int?, pids: Int?) -> Result<RunCgroup, CgroupProblem> {
        var made: [String] = []
        func undo(_ problem: CgroupProblem) -> Result<RunCgroup, CgroupProblem> {
            made.forEach { rmdir($0) }
            return .failure(problem)
        }
        var memoryDir: String?, pidsDir: String?
        for (controller, wanted) in [("memory", memoryMB != nil), ("pids", pids != nil)] where wanted {
            guard let mount = mounts.v1[controller] else {
                return undo(.noController(controller))
            }
            let own = mounts.ownPaths[controller] ?? "/"
            var parent = mount + (own == "/" ? "" : own)
            if !FileManager.default.fileExists(atPath: parent) { parent = mount }
            let dir = parent + "/" + name
            guard mkdir(dir, 0o755) == 0 else {
                return undo(.notWritable(dir, String(cString: strerror(errno))))
            }
            made.append(dir)
            if controller == "memory" { memoryDir = dir } else { pidsDir = dir }
        }
        if let memoryMB, let memoryDir {
            let bytes = String(Int64(memoryMB) << 20)
            guard write(bytes, to: memoryDir + "/memory.limit_in_bytes") else {
                return undo(.notWritable(memoryDir + "/memory.limit_in_bytes", String(cString: strerror(errno))))
            }
            _ = write(bytes, to: memoryDir + "/memory.memsw.limit_in_bytes") // no swapping past the limit, where swap is accounted
        }
        if let pids, let pidsDir {
            guard write(String(pids), to: pidsDir + "/pids.max") else {
                return undo(.notWritable(pidsDir + "/pids.max", String(cString: strerror(errno))))
            }
        }
        return .success(RunCgroup(directories: made, memoryEvents: memoryDir.map { $0 + "/memory.oom_control" },
                                  pidsEvents: pidsDir.map { $0 + "/pids.events" }, killFile: nil))
    }

    // MARK: - Files

    /// The cgroup mounts of this host, and the executor's own cgroup in each v1 hierarchy.
    struct Mounts {
        /// The cgroup2 mount point, if there is one.
        var v2: String?
        /// v1 mount points by controller.
        var v1: [String: String] = [:]
        /// The executor's cgroup path in each v1 controller's hierarchy.
        var ownPaths: [String: String] = [:]
        /// The executor's cgroup path in the v2 hierarchy.
        var v2Own: String?

        static func read() -> Mounts {
            var mounts = Mounts()
            for line in (RunCgroup.read("/proc/self/mountinfo") ?? "").split(separator: "\n") {
                let halves = line.components(separatedBy: " - ")
                guard halves.count == 2 else { continue }
                let fields = halves[0].split(separator: " "), tail = halves[1].split(separator: " ")
                guard fields.count > 4, tail.count >= 3 else { continue }
                let point = String(fields[4])
                if tail[0] == "cgroup2" {
                    if mounts.v2 == nil { mounts.v2 = point }
                } else if tail[0] == "cgroup" {
                    for option in tail[2].split(separator: ",") where option == "memory" || option == "pids" {
                        mounts.v1[String(option)] = point
                    }
                }
            }
            for line in (RunCgroup.read("/proc/self/cgroup") ?? "").split(separator: "\n") {
                let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
                guard parts.count == 3 else { continue }
                if parts[0] == "0" && parts[1].isEmpty { mounts.v2Own = String(parts[2]) }
                for controller in parts[1].split(separator: ",") { mounts.ownPaths[String(controller)] = String(parts[2]) }
            }
            return mounts
        }
    }

    static func read(_ path: String) -> String? {
        try? String(contentsOfFile: path, encoding: .utf8)
    }

    /// Writes `text` to a cgroup file in one `write`, as the kernel wants it.
    @discardableResult
    static func write(_ text: String, to path: String) -> Bool {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) } == bytes.count
    }

    /// The number after `key` in a flat-keyed cgroup file (`oom_kill 1`), 0 if absent.
    static func counter(_ path: String, _ key: String) -> Int64 {
        for line in (read(path) ?? "").split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2, parts[0] == key { return Int64(parts[1]) ?? 0 }
        }
        return 0
    }

    private static func pids(in directory: String) -> [pid_t] {
        (read(directory + "/cgroup.procs") ?? "").split(separator: "\n").compactMap { pid_t($0) }
    }

    private static func quoted(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}

/// Why a run's cgroup could not be made.
public enum CgroupProblem: Error, CustomStringConvertible, Sendable {
    case noController(String)
    case notWritable(String, String)

    public var description: String {
        switch self {
        case .noController(let name): "this host has no writable cgroup with the \(name) controller"
        case .notWritable(let path, let why): "cannot write the cgroup \(path) (\(why))"
        }
    }
}
