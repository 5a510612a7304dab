// mstress: a tiny process that exercises one bus primitive, so that tests can
// run several real processes against the same database at once.
import Foundation
import GRDB
import GRDBSQLite
import mdb

let args = CommandLine.arguments
func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("mstress: \(message)\n".utf8))
    exit(2)
}
guard args.count >= 3 else { fail("usage: mstress claim|claim-finish|append|resolve|tail|walwrites|fill|commits|rewrite DB …") }
let db: MDatabase
// The modes that test the WAL write buffer open the database through it, as the shared writer does.
let buffered = ["walwrites", "fill", "commits", "rewrite"].contains(args[1])
do { db = try MDatabase(path: args[2], walWriteBuffer: buffered) } catch { fail("\(error)") }
var out = ""

switch args[1] {
case "claim":
    // claim DB WORKER [START_MS [LIMIT]]: at wall-clock START_MS (so that all racers
    // start together), claim until the queue is empty (or LIMIT runs are active),
    // print each claimed id.
    let worker = args[3]
    if args.count > 4, let startMs = Double(args[4]) {
        let wait = startMs / 1000 - Date().timeIntervalSince1970
        if wait > 0 { usleep(UInt32(wait * 1_000_000)) }
    }
    let limit = args.count > 5 ? Int(args[5])! : .max
    while let run = try db.claimNextRun(workerId: worker, activeLimit: limit) { out += "\(run.id)\n" }
case "claim-finish":
    // claim-finish DB WORKER LIMIT START_MS: from START_MS, claim while fewer than
    // LIMIT runs are active and finish each claimed run at once, until no run is
    // queued; print each claimed id.
    let worker = args[3], limit = Int(args[4])!
    let wait = Double(args[5])! / 1000 - Date().timeIntervalSince1970
    if wait > 0 { usleep(UInt32(wait * 1_000_000)) }
    while true {
        if let run = try db.claimNextRun(workerId: worker, activeLimit: limit) {
            out += "\(run.id)\n"
            try db.finishRun(runId: run.id, status: .succeeded, exitCode: 0, workerId: worker)
        } else if try db.runs(limit: 1, status: .queued).isEmpty {
            break
        } else {
            sched_yield()  // every slot is taken: let a racer finish its run
        }
    }
case "append":
    // append DB RUN COUNT BATCH TAG: append COUNT events in batches of BATCH.
    let runId = Int64(args[3])!, count = Int(args[4])!, batch = Int(args[5])!, tag = args[6]
    var i = 0
    while i < count {
        let n = min(batch, count - i)
        let events = (0..<n).map { k in NewEvent(EventType.output, ["stream": "stdout", "text": .string("\(tag) \(i + k)\n")]) }
        try db.append(runId: runId, events)
        i += n
    }
case "resolve":
    // resolve DB APPROVAL DECISION: print "won" or "conflict".
    do {
        _ = try db.resolveApproval(id: Int64(args[3])!, decision: Decision(rawValue: args[4])!, by: "mstress:\(getpid())")
        out += "won\n"
    } catch MDBError.approvalAlreadyResolved {
        out += "conflict\n"
    }
case "tail":
    // tail DB EXPECTED: follow events by global id until EXPECTED were seen; print their ids.
    let expected = Int(args[3])!
    let watch = try ChangeWatch(path: args[2])
    var last: Int64 = 0, seen = 0
    let deadline = Date().addingTimeInterval(120)
    while seen < expected && Date() < deadline {
        if try watch.changed() {
            while true {
                let page = try db.events(afterId: last)
                for e in page { out += "\(e.id)\n"; last = e.id; seen += 1 }
                if page.count < Defaults.maxEventPageSize { break }
            }
        } else {
            usleep(500)
        }
    }
case "walwrites":
    // walwrites DB RUN: commits of 1, 8 and 64 pages of output; per commit, print
    // "PAGES ASKED MADE LATE": the WAL writes SQLite asked for, those made, and
    // commits announced while a frame of theirs was still gathered.
    let runId = Int64(args[3])!
    for pages in [1, 8, 64] {
        let before = WALWriteBuffer.counts
        try db.append(runId: runId, (0..<pages).map { _ in bigOutput() })
        let after = WALWriteBuffer.counts
        out += "\(pages) \(after.asked - before.asked) \(after.made - before.made) \(after.announcedGathered - before.announcedGathered)\n"
    }
case "fill":
    // fill DB RUN: with the file size limit just above the WAL's size, a commit of
    // ~600 KB must fail; print "failed", the run's event count before and after it,
    // then, with the limit lifted, "stored" and the count after one more commit.
    let runId = Int64(args[3])!
    // (Glibc imports RLIMIT_FSIZE as an enum case.)
    let RLIMIT_FSIZE_VALUE = __rlimit_resource_t(RLIMIT_FSIZE.rawValue)
    signal(SIGXFSZ, SIG_IGN)
    func count() throws -> Int { try db.events(runId: runId, afterSeq: 0, limit: 100_000).count }
    let walSize = (try? FileManager.default.attributesOfItem(atPath: args[2] + "-wal")[.size] as? Int) ?? 0
    var limit = rlimit()
    getrlimit(RLIMIT_FSIZE_VALUE, &limit)
    let lifted = limit
    limit.rlim_cur = rlim_t(walSize + 64 * 1024)
    guard setrlimit(RLIMIT_FSIZE_VALUE, &limit) == 0 else { fail("setrlimit: \(String(cString: strerror(errno)))") }
    out += "before \(try count())\n"
    do {
        try db.append(runId: runId, (0..<200).map { _ in bigOutput() })
        out += "stored the big commit\n"
    } catch {
        out += "failed: \(error)\n"
    }
    out += "after \(try count())\n"
    var restore = lifted
    setrlimit(RLIMIT_FSIZE_VALUE, &restore)
    try db.append(runId: runId, [bigOutput()])
    out += "stored\nfinally \(try count())\n"
case "commits":
    // commits DB: commit numbered batches into crash_batches/crash_rows (made by the
    // test) until killed, printing each batch's number once its COMMIT returned.
    // Every 8th batch is big enough to spill SQLite's cache (8 pages here) and
    // changes its first page again at the end, so SQLite rewrites the frames it
    // spilled and, last, the commit frame's header.
    try db.pool.writeWithoutTransaction { try $0.execute(sql: "PRAGMA cache_size = 8") }
    var next = try db.read { try Int64.fetchOne($0, sql: "SELECT max(id) FROM crash_batches") ?? 0 } + 1
    while true {
        try commitBatch(next, rows: next % 8 == 0 ? 40 : Int.random(in: 1...4))
        let line = Array("\(next)\n".utf8)
        guard write(1, line, line.count) == line.count else { fail("stdout: \(String(cString: strerror(errno)))") }
        next += 1
    }
case "rewrite":
    // rewrite DB: three big batches as `commits` makes them, the second with its
    // commit frame's rewritten header failing to be written (ENOSPC); per batch
    // "stored N REWRITES" (REWRITES: commit frame headers written on their own)
    // or "failed: …", then the batches stored and the commits announced while
    // a frame of theirs was still gathered.
    try db.pool.writeWithoutTransaction { try $0.execute(sql: "PRAGMA cache_size = 8") }
    FailingWrites.install()
    for batch: Int64 in 1...3 {
        let before = FailingWrites.commitHeaders
        FailingWrites.failCommitHeaders = batch == 2
        do {
            try commitBatch(batch, rows: 40)
            out += "stored \(batch) \(FailingWrites.commitHeaders - before)\n"
        } catch {
            out += "failed: \(error)\n"
        }
        FailingWrites.failCommitHeaders = false
    }
    out += "batches \(try db.read { try Int64.fetchAll($0, sql: "SELECT id FROM crash_batches ORDER BY id") })\n"
    out += "late \(WALWriteBuffer.counts.announcedGathered)\n"
default:
    fail("unknown command \(args[1])")
}
FileHandle.standardOutput.write(Data(out.utf8))

/// An output event of about a page (3 KB of text).
func bigOutput() -> NewEvent {
    NewEvent(EventType.output, ["stream": "stdout", "text": .string(String(repeating: "0123456789abcdef", count: 190) + "\n")])
}

/// One batch of `rows` rows (0.5–3 KB each) and its crash_batches row, whose
/// page is written first and changed again last.
func commitBatch(_ id: Int64, rows: Int) throws {
    try db.write { db in
        try db.execute(sql: "INSERT INTO crash_batches (id, rows) VALUES (?, 0)", arguments: [id])
        for n in 0..<rows {
            try db.execute(sql: "INSERT INTO crash_rows (batch, n, body) VALUES (?, ?, randomblob(?))",
                           arguments: [id, n, Int.random(in: 500...3000)])
        }
        try db.execute(sql: "UPDATE crash_batches SET rows = ? WHERE id = ?", arguments: [rows, id])
    }
}

/// The unix VFS's write calls, replaced (`xSetSystemCall`) to count the WAL
/// commit frame headers written on their own (24 bytes whose database size is
/// not zero) and, while `failCommitHeaders`, to fail them as a full disk does.
enum FailingWrites {
    typealias Pwrite = @convention(c) (Int32, UnsafeRawPointer?, Int, Int64) -> Int
    typealias Write = @convention(c) (Int32, UnsafeRawPointer?, Int) -> Int
    nonisolated(unsafe) static var failCommitHeaders = false
    nonisolated(unsafe) static var commitHeaders = 0
    nonisolated(unsafe) static var pwrite: Pwrite?
    nonisolated(unsafe) static var pwrite64: Pwrite?
    nonisolated(unsafe) static var write: Write?

    /// Whether this write is a commit frame's header that must fail (counting it).
    static func refuses(_ buffer: UnsafeRawPointer?, _ count: Int) -> Bool {
        guard count == 24, let buffer, buffer.loadUnaligned(fromByteOffset: 4, as: UInt32.self) != 0 else { return false }
        commitHeaders += 1
        guard failCommitHeaders else { return false }
        errno = ENOSPC
        return true
    }

    static func install() {
        guard let unix = sqlite3_vfs_find("unix"), let set = unix.pointee.xSetSystemCall,
              let get = unix.pointee.xGetSystemCall else { fail("no unix VFS to replace the writes of") }
        pwrite = get(unix, "pwrite").map { unsafeBitCast($0, to: Pwrite.self) }
        pwrite64 = get(unix, "pwrite64").map { unsafeBitCast($0, to: Pwrite.self) }
        write = get(unix, "write").map { unsafeBitCast($0, to: Write.self) }
        let failingPwrite: Pwrite = { fd, buffer, count, offset in
            FailingWrites.refuses(buffer, count) ? -1 : FailingWrites.pwrite!(fd, buffer, count, offset)
        }
        let failingPwrite64: Pwrite = { fd, buffer, count, offset in
            FailingWrites.refuses(buffer, count) ? -1 : FailingWrites.pwrite64!(fd, buffer, count, offset)
        }
        let failingWrite: Write = { fd, buffer, count in
            FailingWrites.refuses(buffer, count) ? -1 : FailingWrites.write!(fd, buffer, count)
        }
        if pwrite != nil { _ = set(unix, "pwrite", unsafeBitCast(failingPwrite, to: sqlite3_syscall_ptr.self)) }
        if pwrite64 != nil { _ = set(unix, "pwrite64", unsafeBitCast(failingPwrite64, to: sqlite3_syscall_ptr.self)) }
        if write != nil { _ = set(unix, "write", unsafeBitCast(failingWrite, to: sqlite3_syscall_ptr.self)) }
    }
}
