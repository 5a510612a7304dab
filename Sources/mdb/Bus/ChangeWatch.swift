import Foundation
import GRDBSQLite
#if canImport(Glibc)
import Glibc
#endif

/// The cheap "did anyone commit?" check, and an efficient way to wait for one.
///
/// `changed()` steps `PRAGMA data_version` on a dedicated read-only connection
/// (raw SQLite, about a microsecond): the value moves whenever another
/// connection commits. `waitForChange(timeout:)` sleeps on inotify for writes
/// to the database's files instead of polling, so an idle process costs
/// nothing, and wakes within microseconds of a commit. Without inotify (some
/// network filesystems) it falls back to polling every millisecond.
public final class ChangeWatch: @unchecked Sendable {
    private let version: RawStatement
    private var lastVersion: Int64 = -1
    private var inotifyFD: Int32 = -1
    /// WAL writes were seen that no visible commit accounts for yet: a commit is being written.
    private var writesPending = false
    /// Looks taken since the last WAL write was seen, while `writesPending`.
    private var looksSinceWrite = 0
    /// How many times the data version was read (what a wait costs; tests count it).
    private(set) var looks = 0
    private let fileName: String
    private var walName: String { fileName + "-wal" }
    private let queue = DispatchQueue(label: "m.changewatch")


    /// Opens its own read-only connection to the database at `path` and, with
    /// `notify` and where the kernel offers it, an inotify watch on the
    /// database's folder. Every write to the WAL costs the writer a little for
    /// each watch, so a watch that only polls `changed()` passes `notify: false`.
    public init(path: String, notify: Bool = true) throws {
        fileName = (path as NSString).lastPathComponent
        version = try RawStatement(path: path, sql: "PRAGMA data_version")
        let dir = (path as NSString).deletingLastPathComponent
        let fd = notify ? inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC)) : -1
        if fd >= 0 {
            let mask = UInt32(IN_MODIFY) | UInt32(IN_CREATE) | UInt32(IN_MOVED_TO) | UInt32(IN_CLOSE_WRITE)
            if inotify_add_watch(fd, dir.isEmpty ? "." : dir, mask) >= 0 { inotifyFD = fd } else { close(fd) }
        }
    }

    deinit {
        if inotifyFD >= 0 { close(inotifyFD) }
    }

    /// True when something was committed since the last call (and on the first call).
    /// Not thread-safe: one owner calls it.
    public func changed() throws -> Bool {
        looks += 1
        guard let version = try self.version.row({ sqlite3_column_int64($0, 0) }) else {
            throw RawStatementError.queryFailed(path: version.path, message: "PRAGMA data_version returned no row")
        }
        defer { lastVersion = version }
        return version != lastVersion
    }

    /// Blocks until a commit is seen (true) or `timeout` seconds pass (false).
    ///
    /// A commit appends frames to the WAL and becomes visible after the last
    /// one, so a write wakes the watch into looking every 100 µs while frames
    /// keep coming, then every millisecond (a writer preempted mid-commit),
    /// and after ~50 ms of neither back to sleeping until the next write.
    public func waitForChange(timeout: Double) throws -> Bool {
        if try changed() { return settle() }
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(max(0, timeout) * 1e9)
        while true {
            let now = DispatchTime.now().uptimeNanoseconds
            guard now < deadline else { break }
            // Round up: a sub-millisecond remainder must not turn into a busy poll(0) loop.
            let remainingMs = Int32(min((deadline - now + 999_999) / 1_000_000, UInt64(Int32.max)))
            guard inotifyFD >= 0 else {
                usleep(UInt32(Defaults.changePollIntervalMicroseconds))
                if try changed() { return true }
                continue
            }
            var pfd = pollfd(fd: inotifyFD, events: Int16(POLLIN), revents: 0)
            if writesPending {
                // Not woken by each further frame (they come microseconds apart): slept, then counted.
                if looksSinceWrite < Self.quickLooks { usleep(100) } else { _ = poll(&pfd, 1, min(remainingMs, 1)) }
                if drainNotifications() {
                    looksSinceWrite = 0
                } else {
                    looksSinceWrite += 1
                    if looksSinceWrite >= Self.lastLook { writesPending = false }
                }
            } else {
                // Sleep until our database's files are written, but never longer than
                // the fallback interval (in case a notification is missed).
                let ready = poll(&pfd, 1, min(max(remainingMs, 0), Int32(Defaults.changeFallbackPollMilliseconds)))
                if ready > 0 && drainNotifications() {
                    writesPending = true
                    looksSinceWrite = 0
                }
            }
            if try changed() { return settle() }
        }
        return try changed() ? settle() : false
    }

    /// Looks 100 µs apart after a WAL write, before looking every millisecond.
    private static let quickLooks = 10
    /// Looks after a WAL write before sleeping until the next one (10 quick, then ~50 ms).
    private static let lastLook = 60
    /// Millisecond looks after a commit was seen (see `settle`).
    private static let looksAfterCommit = 3

    /// A commit was seen. The notifications still queued are for that
    /// commit's own frames and would wake the next wait for nothing, so they
    /// are taken now. A commit that began since may be written in full but
    /// not visible yet, so a few millisecond looks follow (a write ends each
    /// at once).
    private func settle() -> Bool {
        if inotifyFD >= 0 {
            _ = drainNotifications()
            writesPending = true
            looksSinceWrite = Self.lastLook - Self.looksAfterCommit
        }
        return true
    }

    /// Waits for a commit without blocking the caller's thread.
    public func nextChange(timeout: Double) async throws -> Bool {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: Result { try self.waitForChange(timeout: timeout) })
            }
        }
    }

    /// Reads pending notifications; true if one concerns this database's files.
    private func drainNotifications() -> Bool {
        var relevant = false
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(inotifyFD, $0.baseAddress, $0.count) }
            if n <= 0 { return relevant }
            var offset = 0
            while offset + 16 <= n {
                let nameLength = Int(buffer[offset + 12]) | Int(buffer[offset + 13]) << 8
                    | Int(buffer[offset + 14]) << 16 | Int(buffer[offset + 15]) << 24
                let nameBytes = buffer[(offset + 16)..<min(n, offset + 16 + nameLength)].prefix { $0 != 0 }
                // A commit appends to the WAL (the -shm is written through mmap, which
                // inotify does not see); writes to the database file itself are
                // checkpoints, which commit nothing new.
                if String(decoding: nameBytes, as: UTF8.self) == walName { relevant = true }
                offset += 16 + nameLength
            }
        }
    }
}
