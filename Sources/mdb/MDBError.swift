/// What can go wrong on the bus, each with a message that tells a person what to do.
public enum MDBError: Error, Equatable, CustomStringConvertible, Sendable {
    case databaseMissing(path: String)
    case notADatabase(path: String, detail: String)
    case databaseTooNew(path: String, version: Int, known: Int)
    case runNotFound(Int64)
    case approvalNotFound(Int64)
    case diffNotFound(Int64)
    case tokenNotFound(String)
    case notifierNotFound(Int64)
    case outboxItemNotFound(Int64)
    case pushSubscriptionNotFound(String)
    case actionRefused(String)
    case approvalAlreadyResolved(id: Int64, status: String)
    case runFinished(id: Int64, status: String)
    case leaseLost(runId: Int64, workerId: String)
    case invalidArgument(String)
    case migrationWaitsForRuns(path: String, version: Int, name: String, why: String, runIds: [Int64])

    public var description: String {
        switch self {
        case .databaseMissing(let path):
            return "no database at \(path): create it with `mcli init` or point --db / M_DB at an existing one"
        case .notADatabase(let path, let detail):
            return "\(path) is not a usable M database (\(detail)); check the path, or restore it from a backup"
        case .databaseTooNew(let path, let version, let known):
            return "\(path) was migrated by a newer M (schema version \(version), this build knows up to \(known)); upgrade M before using this database"
        case .runNotFound(let id):
            return "run \(id) does not exist; `mcli runs` lists the runs"
        case .approvalNotFound(let id):
            return "approval \(id) does not exist; `mcli approvals` lists the pending ones"
        case .diffNotFound(let id):
            return "diff \(id) does not exist"
        case .tokenNotFound(let key):
            return "no token \(key): `mcli token list` shows them"
        case .notifierNotFound(let id):
            return "notifier \(id) does not exist; `mcli notify list` shows them"
        case .outboxItemNotFound(let id):
            return "notification \(id) does not exist (its notifier was removed?)"
        case .pushSubscriptionNotFound(let endpoint):
            return "no push subscription for \(endpoint.prefix(80)): it was removed already, or never registered"
        case .actionRefused(let why):
            return "this button cannot decide anything: \(why); decide in the app or with `mcli approve`"
        case .approvalAlreadyResolved(let id, let status):
            return "approval \(id) was already decided (\(status)); the first decision stands"
        case .runFinished(let id, let status):
            return "run \(id) has already finished (\(status))"
        case .leaseLost(let runId, let workerId):
            return "worker \(workerId) no longer holds the lease on run \(runId)"
        case .invalidArgument(let message):
            return message
        case .migrationWaitsForRuns(let path, let version, let name, let why, let runIds):
            let runs = runIds.map(String.init).joined(separator: ", ")
            return "\(path) needs migration \(version) (\(name)), which the executors of the running runs cannot follow (\(why)): it waits until run(s) \(runs) end. Nothing was changed. Let them finish (`mcli runs` shows them) or cancel them (`mcli cancel ID`), then start this M again"
        }
    }
}
