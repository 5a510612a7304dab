import Foundation
import Logging
import magent
import mdb
import MSandbox
import mgit
import MProcess
#if canImport(Glibc)
import Glibc
#endif

/// What an executor is told by the daemon that launched it.
struct ExecutorConfig: Sendable {
    var databasePath: String
    var runId: Int64
    /// The lease holder id the daemon handed the run to.
    var holder: String
    var workspacesRoot: String
    var leaseSeconds: Double
    var heartbeatMilliseconds: Int
    var outputCapBytes: Int64
    var cancelInterruptGraceMilliseconds: Int
    var cancelTerminateGraceMilliseconds: Int
    /// Paths confined agents may read (`--sandbox-read`), and read and write (`--sandbox-write`).
    var sandboxRead: [String] = []
    var sandboxWrite: [String] = []
}

/// Runs one run from workspace to `run.finished`: owns the agent process,
/// writes the run's own events (its output goes through the daemon's shared
/// writer), and keeps the run's lease alive. It runs
/// in its own session, so a restart (or kill -9) of the daemon leaves it and
/// its agent untouched.
final class Executor: @unchecked Sendable {
    private let config: ExecutorConfig
    private let db: MDatabase
    private var logger: Logger

    init(config: ExecutorConfig, logger: Logger) throws {
        self.config = config
        self.db = try MDatabase(path: config.databasePath)
        var logger = logger
        logger[metadataKey: "run"] = "\(config.runId)"
        self.logger = logger
    }

    /// Executes the run with its lease kept alive beside it (`LeaseKeeper`, a
    /// service on a thread of its own); returns the executor's exit code.
    func run() async -> Int32 {
        let bell: RequestBell
        do { bell = try RequestBell() } catch {
            logger.error("cannot start: \(error)")
            return 1
        }
        let lease = LeaseKeeper(intervalMilliseconds: config.heartbeatMilliseconds, renew: { [db, config] in
            try db.renewLease(runId: config.runId, workerId: config.holder, leaseSeconds: config.leaseSeconds)
        }, lost: { bell.ring() })
        return await withTaskGroup(of: Void.self) { group in
            group.addTask { await lease.run() }
            let code = await execute(lease: lease, bell: bell)
            group.cancelAll()
            return code
        }
    }

    private func execute(lease: LeaseKeeper, bell: RequestBell) async -> Int32 {
        let runId = config.runId, holder = config.holder
        let run: Run
        do {
            run = try db.run(runId)
            guard !run.status.isFinished, run.workerId == holder else {
                logger.warning("run is not held by \(holder) (status \(run.status.rawValue)); nothing to do")
                return 1
            }
            if let me = ProcStat.read(getpid()) {
                try db.recordExecutor(runId: runId, workerId: holder, pid: getpid(), startTicks: me.startTicks)
            }
        } catch {
            logger.error("cannot start: \(error)")
            return 1
        }
        // Preparing the workspace may take longer than a lease (a big clone): it runs on a thread of its own.
        // A cancel stops a clone too: git's group is killed and the run ends canceled.
        let prepared = await Self.onOwnThread { [db, config] in
            Result { try Workspace.prepare(root: config.workspacesRoot, runId: runId,
                                           repoUrl: run.repoUrl, repoRef: run.repoRef,
                                           stop: { (try? db.run(runId).cancelRequestedAt) != nil }) }
        }
        let workspace: (path: String, baseCommit: String?)
        switch prepared {
        case .success(let value): workspace = value
        case .failure(WorkspaceError.canceled(let reason)):
            return fail(reason, status: .canceled)
        case .failure(let error):
            return fail("\(error)")
        }

        let spec = run.parsedSpec
        let argv: [String]
        if let list = spec.argv, !list.isEmpty { argv = list }
        else if let command = spec.command, !command.isEmpty { argv = ["/bin/sh", "-c", command] }
        else { return fail("the run has neither `command` nor `argv`: nothing to execute") }

        let privateDir: String
        do { privateDir = try makePrivateDirectory() } catch { return fail("\(error)") }
        defer { try? FileManager.default.removeItem(atPath: privateDir) }
        // The approved point is taken before the agent starts: for a plain folder it is the folder
        // as the run found it. Its history lives in the private directory, outside the workspace.
        let diffs = await openDiffs(workspace: workspace.path, privateDir: privateDir, target: spec.target)
        let baseCommit = await diffs?.approvedCommit() ?? workspace.baseCommit
        let socket: AgentSocketServer
        do {
            socket = try AgentSocketServer(path: privateDir + "/agent.sock") { [db, logger, diffs] request in
                AgentRequests.handle(request, db: db, runId: runId, diffs: diffs, logger: logger)
            }
        } catch { return fail("\(error)") }
        // The agent socket serves beside the run, until it ends.
        return await withTaskGroup(of: Void.self) { group in
            group.addTask { await socket.run() }
            let code = await runAgent(spec: spec, argv: argv, workspace: workspace.path, baseCommit: baseCommit,
                                      socketPath: socket.path, diffs: diffs, lease: lease, bell: bell)
            group.cancelAll()
            return code
        }
    }

    /// Starts the agent confined, hands its output to the writer, controls it until it exits, and records the run's end.
    private func runAgent(spec: RunSpec, argv: [String], workspace: String, baseCommit: String?, socketPath: String,
                          diffs: WorkspaceDiffs?, lease: LeaseKeeper, bell: RequestBell) async -> Int32 {
        let runId = config.runId, holder = config.holder
        let env = AgentEnvironment.make(runId: runId, socketPath: socketPath, binDirectory: AgentEnvironment.binDirectory,
                                        pty: spec.pty == true, extra: spec.env)
        // The run's own extra paths, checked again against where this daemon keeps its files.
        for path in spec.sandboxPaths?.all ?? [] {
            if let refusal = SandboxPaths.refusal(path, databasePath: config.databasePath,
                                             workspacesRoot: config.workspacesRoot) { return fail(refusal) }
        }
        // Confined by default; `sandbox: "none"` or a bwrap that cannot work here runs it as it is, and
        // says so on the run. Never bound in: the folders of the database (with the runs directory) and of the workspaces.
        let limits = spec.limits
        let paths = Confinement.Paths(workspace: workspace, socketPath: socketPath, binDirectory: AgentEnvironment.binDirectory,
                                      home: env["HOME"], searchPath: env["PATH"] ?? "",
                                      readOnly: config.sandboxRead + (spec.sandboxPaths?.read ?? []),
                                      writable: config.sandboxWrite + (spec.sandboxPaths?.write ?? []),
                                      hidden: [config.databasePath, config.workspacesRoot])
        let confinement = await Self.onOwnThread {
            Confinement.prepare(argv, unconfined: spec.sandbox == "none", network: spec.network != false, memoryMB: limits?.memoryMB,
                                pids: limits?.pids, cgroupName: "m-run-\(runId)-\(getpid())", paths: paths)
        }
        let (sandbox, sandboxNotice, runCgroup) = (confinement.mode, confinement.notice, confinement.cgroup)
        if let sandboxNotice { logger.warning("\(sandboxNotice)") }
        confinement.limitNotices.forEach { logger.warning("\($0)") }
        if let runCgroup { logger.info("memory and process limits in cgroup \(runCgroup.directories.joined(separator: ", "))") }
        let agent: AgentProcess
        do {
            agent = try AgentProcess.start(argv: confinement.argv, environment: env, directory: workspace, pty: spec.pty == true)
        } catch {
            if let runCgroup { await Self.onOwnThread { runCgroup.killAndRemove() } }
            return fail("\(error)")
        }
        do {
            _ = try db.markStarted(runId: runId, workerId: holder, workspace: workspace,
                               baseCommit: baseCommit, pid: agent.pid, sandbox: sandbox.rawValue, notice: sandboxNotice,
                               notices: confinement.limitNotices)
            try db.recordAgent(runId: runId, workerId: holder, pid: agent.pid, pgid: agent.pid,
                               startTicks: ProcStat.read(agent.pid)?.startTicks ?? 0)
        } catch {
            logger.error("lost the run before it started: \(error); ending the agent")
            agent.signalGroup(SIGKILL)
            _ = waitpid(agent.pid, nil, 0)
            if let runCgroup { await Self.onOwnThread { runCgroup.killAndRemove() } }
            return 1
        }
        logger.info("started agent pid \(agent.pid) in \(workspace)")

        let output: WriterLink
        // The run's own output limit works through the daemon's cap: the smaller of the two.
        let capBytes = min(config.outputCapBytes, limits?.outputBytes ?? Int64.max)
        do {
            // A terminal is copied into a pipe, which the writer reads like any other.
            let terminal = agent.pty ? try TerminalCopy(master: agent.input) : nil
            output = try WriterLink(db: db, runId: runId, holder: holder,
                                    outputs: terminal.map { [($0.output, "pty")] } ?? agent.outputs,
                                    capBytes: capBytes, bell: bell, logger: logger)
        } catch {
            logger.error("\(error); ending the agent")
            agent.signalGroup(SIGKILL)
            _ = waitpid(agent.pid, nil, 0)
            return 1
        }
        output.start()

        let control = RunControl(db: db, runId: runId, agent: agent, output: output, bell: bell, lease: lease, diffs: diffs,
                                 logger: logger, interruptGraceMilliseconds: config.cancelInterruptGraceMilliseconds,
                                 terminateGraceMilliseconds: config.cancelTerminateGraceMilliseconds,
                                 limits: limits, cgroup: runCgroup)
        await control.run()
        guard let status = control.agentStatus else {
            logger.error("this executor no longer holds the run; ending its agent and stopping")
            agent.signalGroup(SIGKILL)
            _ = waitpid(agent.pid, nil, 0)
            output.stop()
            if let runCgroup { await Self.onOwnThread { runCgroup.killAndRemove() } }
            return 1
        }
        control.noteLimitsAfterExit()

        // The agent has exited. Its output is still in the pipes; background
        // children may hold them open, so they get a short grace, then the
        // group is killed: a finished run leaves no processes behind. While no
        // writer is up, its output waits for one (the lease is kept meanwhile).
        let ending = Unchecked((agent, output, logger))
        await Self.onOwnThread {
            let (agent, output, logger) = ending.value
            let stored = output.waitUntilStored(timeoutSeconds: Double(Defaults.drainAfterExitMilliseconds) / 1000)
            if agent.groupAlive { agent.signalGroup(SIGKILL) }
            while !stored && !output.waitUntilStored(timeoutSeconds: 0.2) {
                // Read by a writer and still not ended: held by a process outside the group.
                guard !agent.groupAlive && output.isDelegated else { continue }
                logger.warning("a process outside the agent's group holds its output open; the run ends without the rest")
                output.stop()
            }
        }
        output.stop()
        control.closeInput()
        agent.outputs.forEach { close($0.fd) }
        // Whatever the agent left in its cgroup (outside its group, unconfined) ends with the run.
        if let runCgroup { await Self.onOwnThread { runCgroup.killAndRemove() } }

        // What is left (the final diff's git processes, recording the end) yields the CPU to runs
        // still printing: every thread of this executor (it leads its own process group and session), and
        // the children they spawn: under load, many runs ending together would otherwise stall the others.
        if let problem = Priority.lower(to: Defaults.executorWindDownNice) {
            logger.warning("\(problem) for this executor's wind-down")
        }
        if let diffs { await Self.onOwnThread { diffs.recordFinalState() } }

        var exitCode = Spawn.exitCode(status)
        var signal = Spawn.terminatingSignal(status)
        // bwrap reports an agent killed by signal N as exit 128 + N.
        if sandbox == .bwrap, let code = exitCode, code > 128, code <= 128 + 64 {
            exitCode = nil
            signal = code - 128
        }
        let final: RunStatus = control.cancelRequested ? .canceled
            : (control.limitReached != nil ? .failed : (exitCode == 0 ? .succeeded : .failed))
        do {
            try db.finishRun(runId: runId, status: final, exitCode: exitCode, signal: signal, workerId: holder,
                             notice: control.cancelRequested ? nil : control.limitReached)
            logger.info("finished: \(final.rawValue) exit=\(exitCode.map(String.init) ?? "-") signal=\(signal.map(String.init) ?? "-")")
        } catch {
            logger.error("cannot record the end of the run: \(error)")
            return 1
        }
        return 0
    }

    /// The workspace's approved point, taken before the agent starts: for a plain folder it is the
    /// folder as the run found it, with its history in the private directory (outside the
    /// workspace). Without git the run still runs, without diffs.
    private func openDiffs(workspace: String, privateDir: String, target: String?) async -> WorkspaceDiffs? {
        do {
            let baseline = try await Baseline.start(workspace: workspace, historyGitDir: privateDir + "/baseline.git")
            return WorkspaceDiffs(baseline: baseline, db: db, runId: config.runId, target: target, logger: logger)
        } catch {
            logger.warning("no diffs for this run: cannot set up the workspace's approved point: \(error)")
            return nil
        }
    }

    /// Ends the run as `failed` (or `canceled`) with a readable notice (before the agent started).
    private func fail(_ reason: String, status: RunStatus = .failed) -> Int32 {
        logger.error("run ended before its agent started: \(reason)")
        do {
            try db.finishRun(runId: config.runId, status: status, workerId: config.holder, notice: reason)
            return 0
        } catch {
            logger.error("cannot record the failure: \(error)")
            return 1
        }
    }

    /// Runs blocking work on a thread of its own and resumes when it is done (no polling).
    private static func onOwnThread<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { (done: CheckedContinuation<T, Never>) in
            let thread = Thread { done.resume(returning: work()) }
            thread.start()
        }
    }

    /// A fresh 0700 directory for the run's socket, beside the database.
    private func makePrivateDirectory() throws -> String {
        let base = Defaults.runsDirectory(databasePath: config.databasePath)
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        var template = Array("\(base)/\(config.runId)-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else {
            throw SpawnError(description: "cannot create the run's private directory in \(base): \(String(cString: strerror(errno)))")
        }
        return String(cString: made)
    }
}
