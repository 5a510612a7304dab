import mdb

/// What the routes need from the bus: a small protocol over `MDatabase`, so a
/// controller depends on these operations rather than on a concrete store.
protocol MStore: Sendable {
    func createRun(_ new: NewRun) throws -> Run
    func run(_ id: Int64) throws -> Run
    func runs(limit: Int, beforeId: Int64?, status: RunStatus?) throws -> [Run]
    func events(runId: Int64, afterSeq: Int64, limit: Int) throws -> [Event]
    func events(afterId: Int64, limit: Int) throws -> [Event]
    func lastEventId() throws -> Int64
    func queueInput(runId: Int64, text: String, newline: Bool, eof: Bool, source: String) throws -> Input
    func requestCancel(runId: Int64, by: String) throws -> Run
    func approval(_ id: Int64) throws -> Approval
    func approvals(status: ApprovalStatus?, runId: Int64?, limit: Int) throws -> [Approval]
    func resolveApproval(id: Int64, decision: Decision, by: String, note: String?, always: Bool) throws -> Approval
    func diffs(runId: Int64, limit: Int) throws -> [Diff]
    func diff(_ id: Int64) throws -> Diff
    func requestDiff(runId: Int64, by: String) throws -> DiffRequest
    func activeToken(hash: String) throws -> Token?
    func touchToken(id: Int64) throws
    func createSession(tokenId: Int64, hash: String, lifetimeSeconds: Double) throws -> Session
    func sessionToken(hash: String) throws -> Token?
    func deleteSession(hash: String) throws -> Bool
}

extension MDatabase: MStore {}
