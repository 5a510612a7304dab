import mdb

/// What the routes need from the bus: a small protocol over `MDatabase`, so a
/// controller depends on these operations rather than on a concrete store.
/// Every operation is `async`: the one store mweb runs (`ThreadedStore`) does
/// the SQLite work on threads of its own, never on Swift's cooperative pool.
protocol MStore: Sendable {
    func createRun(_ new: NewRun) async throws -> Run
    func run(_ id: Int64) async throws -> Run
    func runs(limit: Int, beforeId: Int64?, status: RunStatus?) async throws -> [Run]
    func events(runId: Int64, afterSeq: Int64, limit: Int) async throws -> [Event]
    func events(afterId: Int64, limit: Int) async throws -> [Event]
    func lastEventId() async throws -> Int64
    func queueInput(runId: Int64, text: String, newline: Bool, eof: Bool, source: String) async throws -> Input
    func requestCancel(runId: Int64, by: String) async throws -> Run
    func approval(_ id: Int64) async throws -> Approval
    func approvals(status: ApprovalStatus?, runId: Int64?, limit: Int) async throws -> [Approval]
    func resolveApproval(id: Int64, decision: Decision, by: String, note: String?, always: Bool) async throws -> Approval
    func diffs(runId: Int64, limit: Int) async throws -> [Diff]
    func diff(_ id: Int64) async throws -> Diff
    func requestDiff(runId: Int64, by: String) async throws -> DiffRequest
    func search(_ query: String, limit: Int) async throws -> [SearchHit]
    func activeToken(hash: String) async throws -> Token?
    func touchToken(id: Int64) async throws
    func createSession(tokenId: Int64, hash: String, lifetimeSeconds: Double) async throws -> Session
    func sessionToken(hash: String) async throws -> Token?
    func deleteSession(hash: String) async throws -> Bool
    func notifiers() async throws -> [NotifierStatus]
    func addNotifier(_ new: NewNotifier, vapidKeys: (@Sendable () -> VAPIDKeyPair)?) async throws -> NotifierStatus
    func removeNotifier(_ id: Int64) async throws -> Notifier
    func webPushPublicKey() async throws -> String?
    func addPushSubscription(kind: NotifierKind, endpoint: String, p256dh: String?, auth: String?) async throws -> PushSubscription
    func removePushSubscription(kind: NotifierKind, endpoint: String) async throws -> PushSubscription
    func decideWithActionToken(approvalId: Int64, hash: String, decision: Decision) async throws -> Approval
}
