import NIOPosix
import mdb

/// The store mweb serves from: each `MDatabase` call runs on threads of its
/// own. SQLite calls block — a `synchronous=FULL` commit waits for an fsync, a
/// busy handler can wait seconds for mexec's write lock — and on Swift's
/// cooperative pool (one thread per core) that would stall every request and
/// stream of the process. Writes go to one thread of their own (SQLite takes
/// one writer at a time anyway), so requests queued behind a held write lock
/// never take the threads that serve reads.
struct ThreadedStore: MStore {
    let db: MDatabase
    let readers: NIOThreadPool
    let writer: NIOThreadPool

    /// A store over `db` with `readerThreads` threads for reads and one for writes, started now.
    init(db: MDatabase, readerThreads: Int = WebDefaults.storeReaderThreads) {
        self.db = db
        self.readers = NIOThreadPool(numberOfThreads: readerThreads)
        self.writer = NIOThreadPool(numberOfThreads: 1)
        readers.start()
        writer.start()
    }

    /// Runs a read on the readers' threads and resumes the caller with its result.
    private func read<T: Sendable>(_ body: @escaping @Sendable (MDatabase) throws -> T) async throws -> T {
        try await readers.runIfActive { [db] in try body(db) }
    }

    /// Runs a write on the writer's thread and resumes the caller with its result.
    private func write<T: Sendable>(_ body: @escaping @Sendable (MDatabase) throws -> T) async throws -> T {
        try await writer.runIfActive { [db] in try body(db) }
    }

    func createRun(_ new: NewRun) async throws -> Run { try await write { try $0.createRun(new) } }
    func run(_ id: Int64) async throws -> Run { try await read { try $0.run(id) } }
    func runs(limit: Int, beforeId: Int64?, status: RunStatus?) async throws -> [Run] {
        try await read { try $0.runs(limit: limit, beforeId: beforeId, status: status) }
    }
    func events(runId: Int64, afterSeq: Int64, limit: Int) async throws -> [Event] {
        try await read { try $0.events(runId: runId, afterSeq: afterSeq, limit: limit) }
    }
    func events(afterId: Int64, limit: Int) async throws -> [Event] {
        try await read { try $0.events(afterId: afterId, limit: limit) }
    }
    func lastEventId() async throws -> Int64 { try await read { try $0.lastEventId() } }
    func queueInput(runId: Int64, text: String, newline: Bool, eof: Bool, source: String) async throws -> Input {
        try await write { try $0.queueInput(runId: runId, text: text, newline: newline, eof: eof, source: source) }
    }
    func requestCancel(runId: Int64, by: String) async throws -> Run {
        try await write { try $0.requestCancel(runId: runId, by: by) }
    }
    func approval(_ id: Int64) async throws -> Approval { try await read { try $0.approval(id) } }
    func approvals(status: ApprovalStatus?, runId: Int64?, limit: Int) async throws -> [Approval] {
        try await read { try $0.approvals(status: status, runId: runId, limit: limit) }
    }
    func resolveApproval(id: Int64, decision: Decision, by: String, note: String?, always: Bool) async throws -> Approval {
        try await write { try $0.resolveApproval(id: id, decision: decision, by: by, note: note, always: always) }
    }
    func diffs(runId: Int64, limit: Int) async throws -> [Diff] { try await read { try $0.diffs(runId: runId, limit: limit) } }
    func diff(_ id: Int64) async throws -> Diff { try await read { try $0.diff(id) } }
    func requestDiff(runId: Int64, by: String) async throws -> DiffRequest {
        try await write { try $0.requestDiff(runId: runId, by: by) }
    }
    func search(_ query: String, limit: Int) async throws -> [SearchHit] {
        try await read { try $0.search(query, limit: limit) }
    }
    func activeToken(hash: String) async throws -> Token? { try await read { try $0.activeToken(hash: hash) } }
    func touchToken(id: Int64) async throws { try await write { try $0.touchToken(id: id) } }
    func createSession(tokenId: Int64, hash: String, lifetimeSeconds: Double) async throws -> Session {
        try await write { try $0.createSession(tokenId: tokenId, hash: hash, lifetimeSeconds: lifetimeSeconds) }
    }
    func sessionToken(hash: String) async throws -> Token? { try await read { try $0.sessionToken(hash: hash) } }
    func deleteSession(hash: String) async throws -> Bool { try await write { try $0.deleteSession(hash: hash) } }
    func notifiers() async throws -> [NotifierStatus] { try await read { try $0.notifierStatuses() } }
    func addNotifier(_ new: NewNotifier, vapidKeys: (@Sendable () -> VAPIDKeyPair)?) async throws -> NotifierStatus {
        try await write { NotifierStatus(notifier: try $0.addNotifier(new, vapidKeys: vapidKeys), counts: [:]) }
    }
    func removeNotifier(_ id: Int64) async throws -> Notifier { try await write { try $0.removeNotifier(id) } }
    func webPushPublicKey() async throws -> String? { try await read { try $0.webPushPublicKey() } }
    func addPushSubscription(kind: NotifierKind, endpoint: String, p256dh: String?, auth: String?) async throws -> PushSubscription {
        try await write { try $0.addPushSubscription(kind: kind.rawValue, endpoint: endpoint, p256dh: p256dh, auth: auth) }
    }
    func removePushSubscription(kind: NotifierKind, endpoint: String) async throws -> PushSubscription {
        try await write { try $0.removePushSubscription(kind: kind.rawValue, endpoint: endpoint) }
    }
    func decideWithActionToken(approvalId: Int64, hash: String, decision: Decision) async throws -> Approval {
        try await write { try $0.decideWithActionToken(approvalId: approvalId, hash: hash, decision: decision) }
    }
}
