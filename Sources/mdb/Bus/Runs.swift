import Foundation
import GRDB

/// What a client asks for when it creates a run.
public struct NewRun: Sendable, Equatable {
    public var title: String
    public var agent: String
    public var spec: RunSpec
    public var repoUrl: String?
    public var repoRef: String?
    public var sandboxMode: String

    public init(title: String = "", agent: String = "command", spec: RunSpec, repoUrl: String? = nil,
                repoRef: String? = nil, sandboxMode: String = "host_self") {
        self.title = title
        self.agent = agent
        self.spec = spec
        self.repoUrl = repoUrl
        self.repoRef = repoRef
        self.sandboxMode = sandboxMode
    }

    /// The agents M knows how to drive.
    public static let agents: Set<String> = ["command", "claude", "acp", "openai"]

    /// The kinds a person is offered for a new run (`GET /api/v1/agents`): those mexec has a
    /// driver for today. `agents` also accepts kinds whose drivers are still being written.
    public static let offeredAgents: [String] = ["command"]

    /// Checks the request; the message says what to fix.
    public func validate() throws {
        guard NewRun.agents.contains(agent) else {
            throw MDBError.invalidArgument("unknown agent '\(agent)': use one of command, claude, acp, openai")
        }
        if agent == "command" || agent == "acp" || agent == "claude" {
            let hasCommand = !(spec.command ?? "").trimmingCharacters(in: .whitespaces).isEmpty
            let hasArgv = !(spec.argv ?? []).isEmpty
            if agent == "command" && !hasCommand && !hasArgv {
                throw MDBError.invalidArgument("a command run needs `command` (shell text) or `argv` (a list)")
            }
            if hasCommand && hasArgv {
                throw MDBError.invalidArgument("give either `command` or `argv`, not both")
            }
        }
        // Nothing user-supplied ever reaches git as an option.
        if let url = repoUrl, let refusal = RepoURL.refusal(url) { throw MDBError.invalidArgument(refusal) }
        if let ref = repoRef, ref.hasPrefix("-") || ref.isEmpty {
            throw MDBError.invalidArgument("repo.ref must be a branch, tag or commit and must not start with '-'")
        }
        if repoRef != nil && repoUrl == nil { throw MDBError.invalidArgument("repo.ref needs repo.url") }
        if let target = spec.target, target.isEmpty || target.hasPrefix("-") || !target.hasPrefix("/") {
            throw MDBError.invalidArgument("target must be the absolute path of a local git checkout (starting with '/')")
        }
        guard sandboxMode == "host_self" || sandboxMode == "vm_self" else {
            throw MDBError.invalidArgument("sandbox_mode must be host_self or vm_self")
        }
        if let refusal = spec.limits?.refusal() { throw MDBError.invalidArgument(refusal) }
        if let timeout = spec.approvals?.timeoutSeconds, timeout <= 0 {
            throw MDBError.invalidArgument("approvals.timeout_s must be a positive number of seconds")
        }
        if let onExpiry = spec.approvals?.onExpiry, onExpiry != "reject" && onExpiry != "approve" {
            throw MDBError.invalidArgument("approvals.on_expiry must be \"reject\" (the default) or \"approve\"")
        }
        if let sandbox = spec.sandbox, sandbox != "bwrap" && sandbox != "none" {
            throw MDBError.invalidArgument("sandbox must be \"bwrap\" (confine the agent; the default) or \"none\"")
        }
        if title.utf8.count > 1_000 { throw MDBError.invalidArgument("title is longer than 1000 bytes") }
    }

    /// `validate()`, and the run's `sandbox_paths` checked against where this database keeps its
    /// files: nothing that holds or sits inside its folder (and the runs directory) or the
    /// workspaces root (`M_WORKSPACES`, else the default; mexec checks again with its own).
    public func validate(databasePath: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        try validate()
        guard let paths = spec.sandboxPaths?.all, !paths.isEmpty else { return }
        let absolute = databasePath.hasPrefix("/") ? databasePath : FileManager.default.currentDirectoryPath + "/" + databasePath
        var roots = [Defaults.workspacesRoot(databasePath: absolute, environment: environment)]
        if let env = environment[Defaults.workspacesEnvironmentVariable], env.hasPrefix("/") { roots.append(env) }
        for path in paths {
            for root in roots {
                if let refusal = SandboxPaths.refusal(path, databasePath: absolute, workspacesRoot: root) {
                    throw MDBError.invalidArgument(refusal)
                }
            }
        }
    }
}

extension MDatabase {
    /// Queues a run and its `run.created` event in one durable transaction.
    public func createRun(_ new: NewRun) throws -> Run {
        try new.validate(databasePath: path)
        return try write(.full) { db in
            let id = try Int64.fetchOne(db, sql: """
                INSERT INTO runs (title, agent, spec, repo_url, repo_ref, sandbox_mode)
                VALUES (?, ?, ?, ?, ?, ?) RETURNING id
                """, arguments: [new.title, new.agent, new.spec.encoded(), new.repoUrl, new.repoRef, new.sandboxMode])!
            var data: [(String, JSONValue)] = [("title", .string(new.title)), ("agent", .string(new.agent))]
            if let url = new.repoUrl { data.append(("repo", .object([("url", .string(url)), ("ref", new.repoRef.map { .string($0) } ?? .null)]))) }
            _ = try MDatabase.appendEvents(db, runId: id, [NewEvent(EventType.runCreated, .object(data))])
            return try Run.fetchOne(db, key: id)!
        }
    }

    /// One run, or `MDBError.runNotFound`.
    public func run(_ id: Int64) throws -> Run {
        guard let run = try read({ try Run.fetchOne($0, key: id) }) else { throw MDBError.runNotFound(id) }
        return run
    }

    /// Runs, newest first: at most `limit`, with ids below `beforeId` when paging.
    public func runs(limit: Int = 50, beforeId: Int64? = nil, status: RunStatus? = nil) throws -> [Run] {
        try read { db in
            var sql = "SELECT * FROM runs WHERE 1"
            var args: StatementArguments = []
            if let beforeId { sql += " AND id < ?"; args += [beforeId] }
            if let status { sql += " AND status = ?"; args += [status.rawValue] }
            sql += " ORDER BY id DESC LIMIT ?"
            args += [max(1, min(limit, Defaults.maxEventPageSize))]
            return try Run.fetchAll(db, sql: sql, arguments: args)
        }
    }

    /// Records facts the executor learned at start (workspace, base commit) and
    /// appends `run.started`.
    public func markStarted(runId: Int64, workerId: String, workspace: String, baseCommit: String?,
                            pid: Int32, sandbox: String? = nil, notice: String? = nil,
                            notices: [String] = []) throws -> [Event] {
        try write { db in
            let (status, owner) = try MDatabase.statusAndHolder(db, runId)
            if status.isFinished { throw MDBError.runFinished(id: runId, status: status.rawValue) }
            if owner != workerId { throw MDBError.leaseLost(runId: runId, workerId: workerId) }
            try db.execute(sql: """
                UPDATE runs SET workspace = ?, base_commit = coalesce(?, base_commit), confinement = coalesce(?, confinement)
                WHERE id = ?
                """, arguments: [workspace, baseCommit, sandbox, runId])
            var started: [(String, JSONValue)] = [
                ("worker", .string(workerId)), ("pid", .int(Int64(pid))), ("workspace", .string(workspace)),
            ]
            // The confinement in force (`bwrap`, `none`), shown wherever the run is.
            if let sandbox { started.append(("sandbox", .string(sandbox))) }
            var events = [NewEvent(EventType.runStarted, .object(started))]
            for text in [notice].compactMap({ $0 }) + notices {
                events.append(NewEvent(EventType.notice, .object([("level", "warning"), ("text", .string(text))])))
            }
            return try MDatabase.appendEvents(db, runId: runId, events)
        }
    }

    /// Ends a run: pending approvals become `canceled` (with their events), the
    /// row takes its final status and `run.finished` is the last event. With
    /// `workerId`, only the lease holder may finish it.
    @discardableResult
    public func finishRun(runId: Int64, status: RunStatus, exitCode: Int? = nil, signal: Int? = nil,
                          workerId: String? = nil, notice: String? = nil) throws -> [Event] {
        precondition(status.isFinished, "finishRun needs a final status")
        return try write(.full) { db in
            let (current, owner) = try MDatabase.statusAndHolder(db, runId)
            if current.isFinished { throw MDBError.runFinished(id: runId, status: current.rawValue) }
            if let workerId, owner != workerId { throw MDBError.leaseLost(runId: runId, workerId: workerId) }
            var events: [NewEvent] = []
            if let notice {
                events.append(NewEvent(EventType.notice, .object([("level", "warning"), ("text", .string(notice))])))
            }
            events += try MDatabase.cancelPendingApprovals(db, runId: runId)
            var data: [(String, JSONValue)] = [("status", .string(status.rawValue))]
            if let exitCode { data.append(("exit_code", .int(Int64(exitCode)))) }
            if let signal { data.append(("signal", .int(Int64(signal)))) }
            events.append(NewEvent(EventType.runFinished, .object(data)))
            try db.execute(sql: """
                UPDATE runs SET status = ?, exit_code = ?, finished_at = \(Timestamp.sqlNow),
                                lease_expires_at = NULL
                WHERE id = ?
                """, arguments: [status.rawValue, exitCode, runId])
            return try MDatabase.appendEvents(db, runId: runId, events)
        }
    }
}
