import Foundation
import MProcess

/// What a run's agent is started under: bubblewrap unless the run asks for
/// none or it cannot work here (and then a notice that says so, never
/// silently), and its memory and process limits in a cgroup of its own, or
/// rlimits with notices where no cgroup can be written. Preparing it blocks
/// (it probes bwrap with a short child and writes cgroup files).
public struct Confinement: Sendable {
    /// Where the agent runs, as recorded on the run (`bwrap` or `none`).
    public let mode: Sandbox.Mode
    /// Why the agent is not confined, for the run's notice (nil when it is).
    public let notice: String?
    /// The run's cgroup, when its limits got one (killed and removed when the run ends).
    public let cgroup: RunCgroup?
    /// Warnings about limits held by rlimits instead of a cgroup.
    public let limitNotices: [String]
    /// The command line to start: the agent's, wrapped.
    public let argv: [String]

    /// What the agent may see besides the system: its folders, and the paths never bound in.
    public struct Paths: Sendable {
        public var workspace: String
        public var socketPath: String
        public var binDirectory: String
        public var home: String?
        /// The agent's PATH, whose folders outside the system are bound read-only.
        public var searchPath: String
        public var readOnly: [String]
        public var writable: [String]
        /// Never bound in (the database's and the workspaces' folders).
        public var hidden: [String]

        public init(workspace: String, socketPath: String, binDirectory: String, home: String?, searchPath: String,
                    readOnly: [String], writable: [String], hidden: [String]) {
            (self.workspace, self.socketPath, self.binDirectory, self.home) = (workspace, socketPath, binDirectory, home)
            (self.searchPath, self.readOnly, self.writable, self.hidden) = (searchPath, readOnly, writable, hidden)
        }
    }

    /// Decides and prepares the confinement of `argv`.
    public static func prepare(_ argv: [String], unconfined: Bool, network: Bool, memoryMB: Int?, pids: Int?,
                               cgroupName: String, paths: Paths) -> Confinement {
        let made = memoryMB == nil && pids == nil ? nil : RunCgroup.create(name: cgroupName, memoryMB: memoryMB, pids: pids)
        let notice = unconfined
            ? "this run's agent is not confined (sandbox: \"none\"): it can read and change everything its Unix user can, M's database included"
            : Sandbox.probe()
        var launched = argv
        var mode = Sandbox.Mode.none
        if notice == nil, let bwrap = Sandbox.bwrapPath() {
            mode = .bwrap
            launched = Sandbox.wrap(argv, bwrap: bwrap, workspace: paths.workspace, socketPath: paths.socketPath,
                                    binDirectory: paths.binDirectory, home: paths.home, network: network,
                                    readOnly: paths.readOnly, writable: paths.writable,
                                    extraReadOnly: Sandbox.toolFolders(path: paths.searchPath, hiding: paths.hidden),
                                    hidden: paths.hidden)
        }
        switch made {
        case .success(let cgroup)?:
            return Confinement(mode: mode, notice: notice, cgroup: cgroup, limitNotices: [], argv: cgroup.enter(launched))
        case .failure(let problem)?:
            let (limited, notices) = RunCgroup.withRlimits(launched, memoryMB: memoryMB, pids: pids, problem: problem)
            return Confinement(mode: mode, notice: notice, cgroup: nil, limitNotices: notices, argv: limited)
        case nil:
            return Confinement(mode: mode, notice: notice, cgroup: nil, limitNotices: [], argv: launched)
        }
    }
}
