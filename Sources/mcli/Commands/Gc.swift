import ArgumentParser
import Foundation
import mdb

/// `mcli gc --older-than AGE [--keep-last N] [--dry-run] [--vacuum]`: deletes
/// old finished runs with their events, inputs, approvals, diffs and
/// workspaces. Safe while M runs: never a queued, running or waiting run, and
/// events go in small transactions so that live output is not held up.
struct Gc: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Delete finished runs older than AGE (events, approvals, diffs, workspaces); safe while M runs.",
        discussion: """
            Runs that are queued, running or waiting for approval are never deleted. Freed pages are \
            reused by new events; --vacuum also gives them back to the disk (it holds the write lock \
            while it rewrites the file). For cron: `mcli gc --older-than 30d --keep-last 100 --db /var/lib/m/m.db`.
            """)

    @OptionGroup var global: GlobalOptions

    @Option(name: .customLong("older-than"), help: "Delete runs finished longer ago than this: a number and a unit, s m h d w (30d).")
    var olderThan: Age

    @Option(name: .customLong("keep-last"), help: "Keep the N newest finished runs whatever their age.")
    var keepLast = 0

    @Flag(name: .customLong("dry-run"), help: "Say what would be deleted; change nothing.")
    var dryRun = false

    @Flag(help: "Afterwards rewrite the database file without its free pages (VACUUM).")
    var vacuum = false

    func validate() throws {
        guard keepLast >= 0 else { throw ValidationError("--keep-last must be 0 or more") }
    }

    func run() async throws {
        try await runCommand {
            let db = try global.open()
            let now = Int(Date().timeIntervalSince1970)
            let cutoff = Timestamp.format(seconds: now - olderThan.seconds, milliseconds: 0)
            let (runs, keepLast, dryRun, vacuum) = (try db.prunableRuns(finishedBefore: cutoff, keepLast: keepLast),
                                                    self.keepLast, self.dryRun, self.vacuum)
            let report = try await offThePool {
                try Gc.collect(db, runs: runs, dryRun: dryRun, vacuum: vacuum)
            }
            OperationLog.info(dryRun ? "gc: dry run" : "gc: pruned", [
                "runs": "\(report.runIds.count)", "events": "\(report.events)", "workspace_bytes": "\(report.workspaceBytes)",
                "database_bytes_freed": "\(report.databaseBytesFreed)", "file_bytes_after": "\(report.fileBytesAfter)",
                "finished_before": "\(cutoff)", "failures": "\(report.failures.count)",
            ])
            if global.json {
                Output.line(report.json(cutoff: cutoff).text)
            } else {
                Output.line(report.text(cutoff: cutoff, keepLast: keepLast))
            }
        }
    }

    /// What gc did (or, in a dry run, would do).
    struct Report: Sendable {
        var dryRun: Bool
        var runIds: [Int64]
        var events: Int
        var workspaceBytes: Int64
        var databaseBytesFreed: Int64
        var fileBytesBefore: Int64, fileBytesAfter: Int64
        var failures: [String]

        func json(cutoff: String) -> JSONValue {
            .object([
                ("dry_run", .bool(dryRun)), ("finished_before", .string(cutoff)),
                ("runs", .int(Int64(runIds.count))), ("run_ids", .array(runIds.map { .int($0) })),
                ("events", .int(Int64(events))), ("workspace_bytes", .int(workspaceBytes)),
                ("database_bytes_freed", .int(databaseBytesFreed)),
                ("file_bytes_before", .int(fileBytesBefore)), ("file_bytes_after", .int(fileBytesAfter)),
                ("failures", .array(failures.map { .string($0) })),
            ])
        }

        func text(cutoff: String, keepLast: Int) -> String {
            let kept = keepLast > 0 ? ", keeping the \(keepLast) newest" : ""
            guard !runIds.isEmpty else { return "nothing to delete: no run finished before \(cutoff)\(kept)" }
            var lines = [dryRun
                ? "would delete \(runIds.count) runs finished before \(cutoff)\(kept): \(events) events, \(FileSizes.text(workspaceBytes)) of workspaces (nothing changed: --dry-run)"
                : "deleted \(runIds.count) runs finished before \(cutoff)\(kept): \(events) events, \(FileSizes.text(workspaceBytes)) of workspaces"]
            if !dryRun {
                lines.append(fileBytesAfter < fileBytesBefore
                    ? "the database file went from \(FileSizes.text(fileBytesBefore)) to \(FileSizes.text(fileBytesAfter))"
                    : "\(FileSizes.text(databaseBytesFreed)) freed inside the database file, reused by new events (--vacuum gives it back to the disk)")
            }
            lines += failures.map { "warning: \($0)" }
            return lines.joined(separator: "\n")
        }
    }

    /// Deletes `runs` (events in batches, then the run and what hangs off it,
    /// then its workspace) and measures what that freed. Blocking: call it off the pool.
    static func collect(_ db: MDatabase, runs: [PrunableRun], dryRun: Bool, vacuum: Bool) throws -> Report {
        let fileBefore = FileSizes.database(db.path)
        var report = Report(dryRun: dryRun, runIds: [], events: 0, workspaceBytes: 0, databaseBytesFreed: 0,
                            fileBytesBefore: fileBefore, fileBytesAfter: fileBefore, failures: [])
        let pagesBefore = try db.pageCounts()
        for run in runs {
            let workspace = run.workspace.flatMap { ownWorkspace($0, runId: run.id) }
            let bytes = workspace.map(directoryBytes) ?? 0
            if !dryRun {
                while true {
                    let started = DispatchTime.now().uptimeNanoseconds
                    guard try db.deleteEvents(ofFinishedRun: run.id, limit: Defaults.gcBatchEvents) > 0 else { break }
                    let tookMicroseconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1_000
                    usleep(UInt32(max(Double(Defaults.gcPauseMilliseconds * 1000), tookMicroseconds * Defaults.gcRestFactor)))
                }
                guard try db.deleteFinishedRun(run.id) else { continue }
                if let workspace {
                    do { try FileManager.default.removeItem(atPath: workspace) } catch {
                        report.failures.append("run \(run.id)'s workspace \(workspace) is left: \(error.localizedDescription)")
                    }
                }
            }
            report.runIds.append(run.id)
            report.events += run.events
            report.workspaceBytes += bytes
        }
        guard !dryRun else { return report }
        let pagesAfter = try db.pageCounts()
        report.databaseBytesFreed = Int64(max(0, pagesAfter.free - pagesBefore.free) * pagesAfter.pageSize)
        if vacuum { try db.vacuum() }
        // Bound the WAL: what gc wrote would otherwise stay in it until the next checkpoint.
        try db.truncateWAL()
        report.fileBytesAfter = FileSizes.database(db.path)
        return report
    }

    /// The workspace path if it is a run's own directory (`…/<run id>`, a real
    /// directory): gc never follows a path elsewhere or a symlink out.
    static func ownWorkspace(_ path: String, runId: Int64) -> String? {
        guard (path as NSString).lastPathComponent == String(runId),
              let type = try? FileManager.default.attributesOfItem(atPath: path)[.type] as? FileAttributeType,
              type == .typeDirectory else { return nil }
        return path
    }

    /// Bytes of the regular files under `path` (symlinks not followed).
    static func directoryBytes(_ path: String) -> Int64 {
        guard let walk = FileManager.default.enumerator(at: URL(fileURLWithPath: path),
                                                        includingPropertiesForKeys: [.fileSizeKey, .isRegularFileKey]) else { return 0 }
        var total: Int64 = 0
        for case let url as URL in walk {
            guard let values = try? url.resourceValues(forKeys: [.fileSizeKey, .isRegularFileKey]),
                  values.isRegularFile == true else { continue }
            total += Int64(values.fileSize ?? 0)
        }
        return total
    }
}
