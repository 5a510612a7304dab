import ArgumentParser
import Foundation
import MProcess
import mdb
#if canImport(Glibc)
import Glibc
#endif

/// `mcli backup DEST`: a consistent copy of the live database, checked before
/// it is reported. A plain `cp m.db` is not one while M runs: the newest
/// commits are in `m.db-wal`, and a copy of the two taken at different moments
/// can be torn.
struct Backup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a consistent copy of the database to DEST (safe while M runs), checked with integrity_check.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The new file to write (it must not exist).")
    var destination: String

    func run() async throws {
        try await runCommand {
            let db = try global.open()
            let destination = self.destination
            let start = Date()
            let progress = BackupProgress(destination: destination, sourceBytes: FileSizes.database(db.path))
            progress.start()
            defer { progress.stop() }
            try await offThePool { try db.backup(to: destination) }
            progress.stop()
            let problems = try await offThePool { try MDatabase.integrityCheck(path: destination) }
            guard problems == ["ok"] else {
                try? FileManager.default.removeItem(atPath: destination)
                throw CLIError(description: "the copy failed its integrity check (\(problems.prefix(3).joined(separator: "; "))) and was removed: run `mcli backup` again, and check the disk")
            }
            let summary = try MDatabase.summary(path: destination)
            let bytes = FileSizes.database(destination)
            let seconds = Date().timeIntervalSince(start)
            OperationLog.info("backup: written", [
                "path": "\(destination)", "bytes": "\(bytes)", "events": "\(summary.events)",
                "last_event_id": "\(summary.lastEventId)", "seconds": "\(String(format: "%.1f", seconds))",
            ])
            if global.json {
                Output.line(JSONValue.object([
                    ("path", .string(destination)), ("bytes", .int(bytes)), ("integrity", .string("ok")),
                    ("schema_version", .int(Int64(summary.schemaVersion))), ("runs", .int(Int64(summary.runs))),
                    ("events", .int(Int64(summary.events))), ("last_event_id", .int(summary.lastEventId)),
                    ("seconds", .double((seconds * 1000).rounded() / 1000)),
                ]).text)
            } else {
                Output.line("backup written to \(destination): \(FileSizes.text(bytes)), \(summary.runs) runs, \(summary.events) events (up to event \(summary.lastEventId)), integrity ok, in \(String(format: "%.1f", seconds)) s")
            }
        }
    }
}

/// On a terminal, one updating line with how much of the copy is written.
final class BackupProgress: @unchecked Sendable {
    private let destination: String
    private let sourceBytes: Int64
    private let done = NSCondition()
    private var stopped = false

    init(destination: String, sourceBytes: Int64) {
        self.destination = destination
        self.sourceBytes = sourceBytes
    }

    func start() {
        guard isatty(2) == 1 else { return }
        Thread.detachNewThread { [self] in
            done.lock()
            defer { done.unlock() }
            while !stopped {
                if !done.wait(until: Date().addingTimeInterval(1)), !stopped {
                    let line = "\r\u{1b}[Kbackup: \(FileSizes.text(FileSizes.database(destination))) written (the database is \(FileSizes.text(sourceBytes)) with its WAL)"
                    FileHandle.standardError.write(Data(line.utf8))
                }
            }
            FileHandle.standardError.write(Data("\r\u{1b}[K".utf8))
        }
    }

    func stop() {
        done.lock()
        stopped = true
        done.broadcast()
        done.unlock()
    }
}

/// `mcli restore SRC`: puts a backup in place of the database, only while M is stopped.
struct Restore: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Replace the database with a backup (M must be stopped); the current file is kept beside it.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The backup to restore (from `mcli backup`).")
    var source: String

    func run() async throws {
        try await runCommand {
            let target = global.databasePath
            let files = [target, target + "-wal", target + "-shm"]
            let holders = OpenFiles.holders(of: files)
            guard holders.isEmpty else {
                let who = holders.map { "\($0.command) (pid \($0.pid))" }.joined(separator: ", ")
                throw CLIError(description: "M is running on \(target): \(who) has it open. Stop M first (Ctrl-C in `mcli up`, or `systemctl stop mweb mexec`), then restore")
            }
            guard FileManager.default.fileExists(atPath: source) else { throw CLIError(description: "\(source) does not exist") }
            let source = self.source
            let problems = try await offThePool { try MDatabase.integrityCheck(path: source) }
            guard problems == ["ok"] else {
                throw CLIError(description: "\(source) fails its integrity check (\(problems.prefix(3).joined(separator: "; "))): nothing was changed; restore another backup")
            }
            let summary = try MDatabase.summary(path: source)
            guard summary.schemaVersion <= Migrator.latestVersion else {
                throw CLIError(description: "\(source) was written by a newer M (schema \(summary.schemaVersion), this one knows \(Migrator.latestVersion)): upgrade M first")
            }
            let kept = try Restore.moveAside(files)
            do {
                try await offThePool { try Restore.copyDurably(source, to: target) }
            } catch {
                try? FileManager.default.removeItem(atPath: target + ".restoring")
                guard let kept else {
                    throw CLIError(description: "cannot copy \(source) to \(target) (\(error.localizedDescription)): nothing was there before, nothing was changed; check the disk and the directory's permissions")
                }
                do {
                    try Restore.moveBack(kept, to: files)
                } catch {
                    throw CLIError(description: "cannot copy \(source) to \(target), and the previous database could not be moved back (\(error.localizedDescription)): it is kept as \(kept) (with its -wal/-shm); rename those to \(target) by hand")
                }
                throw CLIError(description: "cannot copy \(source) to \(target) (\(error.localizedDescription)): the previous database is back in place, nothing was changed; check the disk space and the directory's permissions")
            }
            // The search index beside it indexed the database now aside; mweb rebuilds it from the restored events.
            for suffix in ["-search", "-search-wal", "-search-shm"] { try? FileManager.default.removeItem(atPath: target + suffix) }
            OperationLog.info("restore: done", ["path": "\(target)", "source": "\(source)", "kept": "\(kept ?? "")"])
            Output.line("restored \(target) from \(source): \(summary.runs) runs, \(summary.events) events"
                + (kept.map { "; the previous database is kept as \($0)" } ?? ""))
        }
    }

    /// Renames the database and its `-wal`/`-shm` to `<db>.before-restore-<time>`
    /// (with the same suffixes, so SQLite opens them together); nil if there was none.
    /// The old WAL must not stay beside the new file: SQLite would replay it into it.
    static func moveAside(_ files: [String]) throws -> String? {
        let fm = FileManager.default
        guard fm.fileExists(atPath: files[0]) else { return nil }
        let stamp = Timestamp.now().filter { $0.isNumber }.prefix(14)
        let aside = "\(files[0]).before-restore-\(stamp)"
        for (file, suffix) in zip(files, ["", "-wal", "-shm"]) where fm.fileExists(atPath: file) {
            try fm.moveItem(atPath: file, toPath: aside + suffix)
        }
        return aside
    }

    /// Undoes `moveAside`: puts `aside` (and its `-wal`/`-shm`) back as `files`.
    static func moveBack(_ aside: String, to files: [String]) throws {
        let fm = FileManager.default
        for (file, suffix) in zip(files, ["", "-wal", "-shm"]) where fm.fileExists(atPath: aside + suffix) {
            try? fm.removeItem(atPath: file)
            try fm.moveItem(atPath: aside + suffix, toPath: file)
        }
    }

    /// Copies `source` to a temporary file beside `target`, fsyncs it and renames it into place.
    static func copyDurably(_ source: String, to target: String) throws {
        let temporary = target + ".restoring"
        try? FileManager.default.removeItem(atPath: temporary)
        try FileManager.default.copyItem(atPath: source, toPath: temporary)
        let fd = open(temporary, O_RDONLY)
        if fd >= 0 { fsync(fd); close(fd) }
        try FileManager.default.moveItem(atPath: temporary, toPath: target)
    }
}
