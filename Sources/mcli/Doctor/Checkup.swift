import Foundation
import MProcess
import mdb
#if canImport(Glibc)
import Glibc
#endif

/// The checks behind `mcli doctor`, each returning its findings. Blocking (file
/// system, SQLite, a bwrap child): run it off the cooperative pool.
struct Checkup: Sendable {
    /// The database file.
    var databasePath: String
    /// The root of the per-run workspaces.
    var workspacesRoot: String
    /// Where to look for bwrap (PATH's form).
    var searchPath: String
    /// A `-wal` larger than this is reported.
    var walLimitBytes: Int64 = DoctorDefaults.walLimitBytes
    /// Less free space than this (or than `minFreeFraction` of the disk) is reported.
    var minFreeBytes: Int64 = DoctorDefaults.minFreeBytes
    var minFreeFraction: Double = DoctorDefaults.minFreeFraction
    /// An admin token unused this long is reported.
    var adminIdleSeconds: Int = DoctorDefaults.adminIdleSeconds

    /// Every check, in the order they are printed.
    func run() -> [Finding] {
        // Sizes and modes first: opening the database must not change what they were.
        var findings = [walSize()] + fileModes()
        let db: MDatabase
        do {
            db = try MDatabase(path: databasePath, migrate: false)
        } catch {
            return [Finding.error("database", "\(error)", fix: "check --db / M_DB; `mcli init` creates a database")] + findings
        }
        findings.insert(contentsOf: integrity(db), at: 0)
        findings += schema(db)
        findings += leases(db)
        findings += executors(db)
        findings += diskSpace()
        findings += tokens(db)
        findings += web(db)
        findings += sandbox(db)
        findings += notifiers(db)
        return findings
    }

    func integrity(_ db: MDatabase) -> [Finding] {
        do {
            let problems = try db.quickCheck()
            if problems == ["ok"] { return [.ok("integrity", "PRAGMA quick_check: ok")] }
            return [.error("integrity", "PRAGMA quick_check found \(problems.count) problem(s): \(problems.prefix(3).joined(separator: "; "))",
                           fix: "stop M and restore the newest backup (`mcli restore FILE`); `sqlite3 \(databasePath) .recover` may save what the backup lacks")]
        } catch {
            return [.error("integrity", "cannot read the database: \(error)", fix: "check the file and the disk; restore a backup (`mcli restore FILE`)")]
        }
    }

    func schema(_ db: MDatabase) -> [Finding] {
        guard let versions = try? db.schemaVersions(), let newest = versions.last else { return [] }
        if newest < Migrator.latestVersion {
            return [.info("schema", "the database is at schema \(newest); this mcli knows \(Migrator.latestVersion): the next start of mweb or mexec migrates it")]
        }
        if newest > Migrator.latestVersion {
            return [.warning("schema", "the database was migrated by a newer M (schema \(newest); this mcli knows \(Migrator.latestVersion))",
                             fix: "install the same M version for mcli as for mweb and mexec")]
        }
        return []
    }

    func walSize() -> Finding {
        let wal = FileSizes.bytes(databasePath + "-wal")
        guard wal > walLimitBytes else { return .ok("wal", "the WAL is \(FileSizes.text(wal))") }
        return .warning("wal", "the WAL is \(FileSizes.text(wal)) (more than \(FileSizes.text(walLimitBytes))): its commits are not being checkpointed into the database, or were once in a burst",
                        fix: "a reader held open for long stops checkpoints: look for one with `fuser -v \(databasePath)-wal` (an `sqlite3` shell left open?) and close it; then `sqlite3 \(databasePath) 'PRAGMA wal_checkpoint(TRUNCATE)'` shrinks the file (safe while M runs)")
    }

    func fileModes() -> [Finding] {
        var findings: [Finding] = []
        for file in [databasePath, databasePath + "-wal", databasePath + "-shm"] {
            guard let mode = Self.mode(file) else { continue }
            if mode & 0o077 != 0 {
                let who = mode & 0o007 != 0 ? "every user on this machine" : "the file's group"
                let finding = Finding(check: "file_modes", severity: mode & 0o004 != 0 ? .error : .warning,
                                      message: "\(file) is readable or writable by \(who) (mode \(String(mode, radix: 8))): it holds session hashes and the notifiers' secrets (webhook secrets, ntfy tokens), and anyone who can write it can start runs",
                                      fix: "chmod 600 \(file) (M creates its files 0600; a copy or a umask changed this)")
                findings.append(finding)
            }
        }
        let runs = Defaults.runsDirectory(databasePath: databasePath)
        for (directory, holds) in [(runs, "the agents' sockets and the executors' logs"), (workspacesRoot, "the agents' workspaces")] {
            guard let mode = Self.mode(directory), mode & 0o077 != 0 else { continue }
            findings.append(.warning("file_modes", "\(directory) is open to other users (mode \(String(mode, radix: 8))): it holds \(holds)",
                                     fix: "chmod 700 \(directory)"))
        }
        if findings.isEmpty { findings.append(.ok("file_modes", "the database, its -wal/-shm, the runs directory and the workspaces are private to their owner")) }
        return findings
    }

    func leases(_ db: MDatabase) -> [Finding] {
        guard let expired = try? db.runsWithExpiredLease() else { return [] }
        if expired.isEmpty { return [.ok("leases", "no run holds an expired lease")] }
        return expired.map { run in
            .warning("leases", "run \(run.id) is \(run.status.rawValue) but its lease expired at \(run.leaseExpiresAt ?? "?") (held by \(run.workerId ?? "nobody")): its executor stopped renewing it and no mexec has declared it lost",
                     fix: "start mexec (`systemctl start mexec`): its reaper marks the run lost within a second and ends what is left of its processes")
        }
    }

    func executors(_ db: MDatabase) -> [Finding] {
        guard let records = try? db.runProcessRecords() else { return [] }
        var findings: [Finding] = []
        for record in records {
            let executorAlive = record.executorPid.map { Self.isRunning(pid: $0, startTicks: record.executorStartTicks) } ?? false
            switch record.status {
            case .lost:
                let agentAlive = record.agentPgid.map { Self.isRunning(pid: $0, startTicks: record.agentStartTicks) } ?? false
                if executorAlive || agentAlive {
                    let what = [executorAlive ? "its executor (pid \(record.executorPid ?? 0))" : nil,
                                agentAlive ? "its agent's process group \(record.agentPgid ?? 0)" : nil].compactMap { $0 }
                    findings.append(.warning("executors", "run \(record.runId) is lost, but \(what.joined(separator: " and ")) still runs: orphaned",
                                             fix: "end it: `kill -TERM \(executorAlive ? "\(record.executorPid ?? 0)" : "-\(record.agentPgid ?? 0)")` (M no longer follows it)"))
                }
            default:
                if !executorAlive {
                    findings.append(.warning("executors", "run \(record.runId) is \(record.status.rawValue) but its executor (pid \(record.executorPid ?? 0)) is gone",
                                             fix: "nothing to do while mexec runs: its reaper marks the run lost when the lease runs out; otherwise start mexec"))
                }
            }
        }
        if findings.isEmpty { findings.append(.ok("executors", "every running run has its executor; no orphaned executor")) }
        return findings
    }

    func diskSpace() -> [Finding] {
        var findings: [Finding] = []
        var seen = Set<UInt>()
        for (path, what) in [(workspacesRoot, "workspaces root"), ((databasePath as NSString).deletingLastPathComponent, "database directory")] {
            guard let existing = Self.nearestExisting(path) else { continue }
            var stats = statvfs()
            guard statvfs(existing, &stats) == 0, seen.insert(UInt(stats.f_fsid)).inserted else { continue }
            let free = Int64(stats.f_bavail) * Int64(stats.f_frsize)
            let total = Int64(stats.f_blocks) * Int64(stats.f_frsize)
            let fraction = total > 0 ? Double(free) / Double(total) : 1
            let line = "\(FileSizes.text(free)) free of \(FileSizes.text(total)) on the \(what) (\(path))"
            if free < minFreeBytes || fraction < minFreeFraction {
                findings.append(.warning("disk", line + ": agents and the database stop when it is full",
                                         fix: "free space: `mcli gc --older-than 30d` deletes old runs with their workspaces (`--dry-run` shows what); `--vacuum` gives the database's free pages back"))
            } else {
                findings.append(.ok("disk", line))
            }
        }
        return findings
    }

    func tokens(_ db: MDatabase) -> [Finding] {
        guard let tokens = try? db.tokens() else { return [] }
        let cutoff = Timestamp.format(seconds: Int(Date().timeIntervalSince1970) - adminIdleSeconds, milliseconds: 0)
        let idle = tokens.filter { $0.scope == "admin" && $0.state() == .active && ($0.lastUsedAt ?? $0.createdAt) < cutoff }
        let days = adminIdleSeconds / 86_400
        var findings = idle.map { token in
            Finding.warning("tokens", "admin token \(token.name) (id \(token.id)) has not been used for more than \(days) days (last used \(token.lastUsedAt ?? "never; created \(token.createdAt)"))",
                            fix: "revoke it: `mcli token revoke \(token.name)`; make a new one when it is needed again")
        }
        if findings.isEmpty {
            findings.append(.ok("tokens", "no admin token is left unused for more than \(days) days; tokens are stored as hashes (M writes no token to a file: check any file you saved one in is chmod 600)"))
        }
        return findings
    }

    func web(_ db: MDatabase) -> [Finding] {
        guard let listeners = try? db.webListeners() else { return [] }
        let host = ProcessInfo.processInfo.hostName
        let live = listeners.filter { $0.hostname == host && Self.isRunning(pid: $0.pid, startTicks: $0.startTicks) }
        if live.isEmpty { return [.info("web", "no mweb is running on this machine for this database")] }
        return live.map { listener in
            let address = "\(listener.host):\(listener.port)"
            if listener.tls { return .ok("web", "mweb (pid \(listener.pid)) serves HTTPS on \(address)") }
            if Self.isLoopback(listener.host) {
                if let url = listener.publicURL, url.hasPrefix("http://") {
                    return .warning("web", "mweb (pid \(listener.pid)) is published as \(url): plain HTTP outside this machine",
                                    fix: "serve it over HTTPS: a reverse proxy with a certificate (Caddy, docs/DEPLOY.md) and --public-url https://…")
                }
                return .ok("web", "mweb (pid \(listener.pid)) listens on \(address), this machine only" + (listener.publicURL.map { ", published as \($0)" } ?? ""))
            }
            return .error("web", "mweb (pid \(listener.pid)) serves plain HTTP on \(address), reachable from the network: tokens and session cookies cross it in clear text",
                          fix: "bind 127.0.0.1 (--host 127.0.0.1) behind a reverse proxy with HTTPS (Caddy: docs/DEPLOY.md, with --public-url and --trusted-proxy), or serve HTTPS itself with --tls-cert/--tls-key")
        }
    }

    func sandbox(_ db: MDatabase) -> [Finding] {
        var findings: [Finding] = []
        switch Bubblewrap.probe(searchPath: searchPath) {
        case nil:
            findings.append(.ok("sandbox", "bubblewrap (\(Bubblewrap.path(searchPath: searchPath) ?? "bwrap")) creates namespaces: agents run confined"))
        case .missing?:
            findings.append(.warning("sandbox", "bubblewrap (bwrap) is not on PATH: every agent runs unconfined, able to read and write whatever its user can",
                                     fix: "install it: `apt-get install bubblewrap` (then new runs are confined; check with `mcli doctor`)"))
        case .cannotStart(let error)?:
            findings.append(.warning("sandbox", "bubblewrap cannot be started (\(error)): agents run unconfined",
                                     fix: "reinstall it (`apt-get install --reinstall bubblewrap`) and check that it is executable"))
        case .noNamespaces?:
            findings.append(.warning("sandbox", "bubblewrap cannot create namespaces here: agents run unconfined",
                                     fix: "allow unprivileged user namespaces (`sysctl kernel.unprivileged_userns_clone=1`; in a container, a seccomp/AppArmor profile that permits them)"))
        }
        if let unconfined = try? db.unconfinedActiveRuns(), !unconfined.isEmpty {
            findings.append(.warning("sandbox", "run(s) \(unconfined.map(String.init).joined(separator: ", ")) run with confinement off (sandbox: \"none\" asked for, or bubblewrap failed when they started)",
                                     fix: "if that was not meant, cancel them (`mcli cancel ID`) and start them again once `mcli doctor` shows the sandbox working"))
        }
        return findings
    }

    func notifiers(_ db: MDatabase) -> [Finding] {
        guard let notifiers = try? db.notifiers() else { return [] }
        let failing = notifiers.filter { $0.disabledAt == nil && $0.state == "failing" }
        if failing.isEmpty { return notifiers.isEmpty ? [] : [.ok("notifiers", "\(notifiers.count) notifier(s), none failing")] }
        return failing.map { notifier in
            .warning("notifiers", "notifier \(notifier.id) (\(notifier.kind)) is failing: \(notifier.consecutiveFailures) deliveries in a row failed; last error: \(notifier.lastError ?? "?")",
                     fix: "check its target (`mcli notify list`, `mcli notify test \(notifier.id)`); fix it, or remove it (`mcli notify remove \(notifier.id)`); it turns ok by itself at its next delivery")
        }
    }

    // MARK: - Helpers

    /// The permission bits of a file, nil when it does not exist.
    static func mode(_ path: String) -> Int? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return Int(info.st_mode) & 0o777
    }

    /// Whether `pid` runs and (when known) is the process that started at `startTicks`.
    static func isRunning(pid: Int32, startTicks: Int64?) -> Bool {
        guard let stat = ProcStat.read(pid), !stat.hasEnded else { return false }
        return startTicks.map { $0 == stat.startTicks } ?? true
    }

    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    /// `path` or its nearest existing parent.
    static func nearestExisting(_ path: String) -> String? {
        var current = path
        while !current.isEmpty {
            if FileManager.default.fileExists(atPath: current) { return current }
            let parent = (current as NSString).deletingLastPathComponent
            if parent == current { break }
            current = parent
        }
        return nil
    }
}

/// Where `mcli doctor` draws its lines.
enum DoctorDefaults {
    /// M's checkpointer keeps the WAL far below this, even under load.
    static let walLimitBytes: Int64 = 256 << 20
    static let minFreeBytes: Int64 = 1 << 30
    static let minFreeFraction = 0.05
    static let adminIdleSeconds = 90 * 86_400
}
